"""Vanishing gradients made visible: a deep MLP with sigmoid vs with ReLU, seen by hooks.

    python examples/plot_gradients.py [--steps 400] [--batch-size 128] [--lr 0.02]
                                      [--seed 0] [--data-dir DIR] [--out runs/gradients]
                                      [--limit N]

Trains the same 8-hidden-layer MLP (784 -> 8 x 256 -> 10) twice on the same batches,
with SGD (momentum 0.9; Adam would rescale each weight's step and hide the problem):
  sigmoid   sigmoid units, PyTorch's default init (W ~ U(-1/sqrt(256), 1/sqrt(256))).
            On its way back through a layer the gradient is multiplied by W^T (which
            shrinks it to ~0.58x) and by sigmoid'(z) <= 0.25: ~0.14x per layer, so
            layer 1 gets about a millionth of what layer 8 gets. The net stays at
            chance (loss 2.30) for the whole run.
  relu      ReLU units, Kaiming init (W ~ N(0, 2 / fan_in)), zero biases: the
            gradient keeps its size through every layer, and the loss falls.
At a few steps, capture_activations (forward and backward hooks) records each hidden
layer's output and the gradient of the loss w.r.t. its pre-activation. Writes to --out:
  activation_histograms.png   rows = layers, one curve per recorded step
  gradient_histograms.png     the same for log10 |gradient|, on one x axis for both
  gradient_norms.png          each layer's weight-gradient norm per step, and the loss
(A run is --steps long and writes no checkpoint: there is no --epochs or --resume.)
"""
import pathlib

import numpy as np
from tqdm import tqdm

import minidl
import minidl.functional as F
from minidl import nn, optim
from minidl.data import DataLoader
from minidl.tools.plot import plot_layer_histograms, plot_layer_curves

from training import parse_args, load_mnist, check_finite, run_script
from flags import check_out_dir, positive_int

DEPTH, WIDTH = 8, 256


def make_mlp(activation, kaiming):
    """784 -> DEPTH hidden layers of WIDTH units -> 10 logits."""
    layers, width = [nn.Flatten()], 784
    for _ in range(DEPTH):
        linear = nn.Linear(width, WIDTH)
        if kaiming:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        width = WIDTH
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


SETUPS = {"sigmoid, default init": lambda: make_mlp(nn.Sigmoid, kaiming=False),
          "ReLU, Kaiming init": lambda: make_mlp(nn.ReLU, kaiming=True)}


def batches(train_set, args):
    """Training batches for args.steps steps, starting a new epoch when one ends."""
    epoch = 0
    while True:
        for batch in DataLoader(train_set, args.batch_size, shuffle=True,
                                seed=args.seed * 1000 + epoch):
            yield batch
        epoch += 1


def hidden_layers(model):
    """{"layer 1": (name of its Linear, name of its activation), ...} for the hidden
    layers of a make_mlp model (the Linear's output is the pre-activation)."""
    linears = [name for name, m in model.named_children() if isinstance(m, nn.Linear)]
    return {f"layer {k + 1}": (name, str(int(name) + 1))
            for k, name in enumerate(linears[:-1])}


def train(model, train_set, args, record_at, desc):
    """SGD for args.steps steps. Returns, per hidden layer: {step: activations} and
    {step: d loss / d pre-activation} at the steps in record_at, the norm of its
    weight gradient at every step; and the loss at every step."""
    layers = hidden_layers(model)
    acts, grads, norms = ({label: {} for label in layers} for _ in range(3))
    losses = []
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    steps = zip(range(args.steps), batches(train_set, args))
    for step, (x, y) in tqdm(steps, total=args.steps, desc=desc,
                             disable=args.no_progress, leave=False):
        optimizer.zero_grad()
        watched = [name for pair in layers.values() for name in pair] \
            if step in record_at else []
        with nn.capture_activations(model, watched, grads=True) as captured:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
        for label, (linear, activation) in layers.items():
            if step in record_at:
                acts[label][step] = captured[activation]
                grads[label][step] = captured.grads[linear]
            weight_grad = model.get_submodule(linear).weight.grad.numpy()
            norms[label][step] = np.linalg.norm(weight_grad)
        check_finite(f"{desc}, step {step + 1}", args.lr, loss=loss.item())
        optimizer.step()
        losses.append(loss.item())
    return acts, grads, norms, losses


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], epochs=None, batch_size=128, lr=0.02,
                      out="runs/gradients", argv=argv, prog=pathlib.Path(__file__).name,
                      resumable=False, extra=lambda p: p.add_argument(
                          "--steps", type=positive_int, default=400))
    out = check_out_dir(args)
    train_set, _ = load_mnist(args)
    record_at = sorted({0, args.steps // 8, args.steps // 4, args.steps // 2,
                        args.steps - 1})
    acts, grads, norms, losses = {}, {}, {}, {}  # {setup: what train() returns}
    for name, make in SETUPS.items():
        minidl.manual_seed(args.seed)
        acts[name], grads[name], norms[name], losses[name] = train(
            make(), train_set, args, record_at, name)
        ratio = norms[name]["layer 1"][0] / norms[name][f"layer {DEPTH}"][0]
        print(f"{name}: loss {np.mean(losses[name][:10]):.3f} -> "
              f"{np.mean(losses[name][-10:]):.3f}; weight-gradient norm of layer 1 / "
              f"layer {DEPTH} at step 0: {ratio:.1e}")
    plot_layer_histograms(acts, out / "activation_histograms.png",
                          title="What each hidden layer outputs", xlabel="activation")
    plot_layer_histograms(grads, out / "gradient_histograms.png", log_abs=True,
                          sharex="all", xlabel="d loss / d pre-activation",
                          title="Gradients reaching each layer: sigmoid's vanish")
    curves = {name: {label: (list(n.keys()), list(n.values()))
                     for label, n in per_layer.items()}
              for name, per_layer in norms.items()}
    plot_layer_curves(curves, out / "gradient_norms.png", ylabel="|d loss / d weight|",
                      losses=losses, title="Weight-gradient norm per layer")
    print(f"figures in {out}/")
    return norms


if __name__ == "__main__":
    run_script(main, resumable=False)
