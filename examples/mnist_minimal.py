"""PyTorch's MNIST example (pytorch/examples, mnist/main.py) in minidl: a model,
train(), test() and the loop, nothing else. Adam stands in for its Adadelta.

    python examples/mnist_minimal.py [--epochs 3] [--limit 10000] [--seed 1]

It trains on the first --limit images (and tests on a fifth as many): by default the
10,000 + 2,000 built into minidl, so every machine gets the same run, offline too.
"""
import argparse

import minidl
import minidl.functional as F
from minidl import nn, optim
from minidl.data import MNIST, DataLoader


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)    # (N, 1, 28, 28) -> (N, 32, 26, 26)
        self.conv2 = nn.Conv2d(32, 64, 3)   # -> (N, 64, 24, 24), pooled to 12 x 12
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(self.dropout1(x).flatten(1)))
        return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)


def train(model, loader, optimizer, epoch):
    model.train()
    for i, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        if i % 20 == 0:
            print(f"epoch {epoch} [{i * loader.batch_size}/{len(loader.dataset)}] "
                  f"loss {loss.item():.4f}")


def test(model, loader):
    model.eval()
    total_loss, correct = 0.0, 0
    with minidl.no_grad():
        for x, y in loader:
            out = model(x)
            total_loss += F.nll_loss(out, y, reduction="sum").item()
            correct += (out.argmax(dim=1) == y).sum().item()
    n = len(loader.dataset)
    print(f"test: average loss {total_loss / n:.4f}, accuracy {correct}/{n} "
          f"({100 * correct / n:.1f}%)")
    return total_loss / n, correct / n


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch's MNIST example, in minidl")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=10_000, help="training images to use")
    args = p.parse_args(argv)
    minidl.manual_seed(args.seed)
    train_set = MNIST(train=True, download=False, limit=args.limit)
    test_set = MNIST(train=False, download=False, limit=max(args.limit // 5, 1))
    train_loader = DataLoader(train_set, args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = Net()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, args.epochs + 1):
        train(model, train_loader, optimizer, epoch)
        result = test(model, test_loader)
        scheduler.step()
    return result


if __name__ == "__main__":
    main()
