"""Train a 784-256-10 multilayer perceptron on MNIST with Adam.

    python examples/train_mlp.py [--epochs 2] [--batch-size 32] [--lr 1e-3] [--seed 0]
                                 [--data-dir DIR] [--out runs/mlp] [--limit N]
                                 [--resume | --overwrite]

Prints the loss and test accuracy per epoch and writes to --out: model.npz (model
and optimizer, for --resume), curves.png (loss and accuracy per epoch), metrics.json.
"""
import pathlib

import minidl
from minidl import nn, optim
from minidl.tools.plot import plot_history

from training import parse_args, load_mnist, fit, save_metrics, run_script
from run_folder import Run


def make_mlp():
    """784 pixels -> 256 hidden units (ReLU) -> 10 class scores (logits)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=2, batch_size=32, lr=1e-3,
                      out="runs/mlp", argv=argv, prog=pathlib.Path(__file__).name)
    run = Run(args)
    minidl.manual_seed(args.seed)
    out = run.out
    train_set, test_set = load_mnist(args, run)
    model = make_mlp()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    history = fit(model, optimizer, train_set, test_set, args, run)
    plot_history({k: v for k, v in history.items() if k != "seconds"},
                 out / "curves.png", title="MLP on MNIST")
    save_metrics(out / "metrics.json", args, history,
                 test_accuracy=history["test_acc"][-1], data=train_set.source)
    print(f"test accuracy: {history['test_acc'][-1]:.4f}; results in {out}/")
    return history


if __name__ == "__main__":
    run_script(main)
