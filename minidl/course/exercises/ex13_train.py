"""Exercise 13: train the seed CNN with your own pieces, to >= 98% test accuracy.

The model is models/cnn.py's SeedCNN (three 3x3 convolutions, two 2x2 max-pools, two
dense layers). The checker runs its forward with YOUR conv2d (exercise 9), max_pool2d
(exercise 10), Linear (exercise 11, given the seed's initial weights), cross_entropy
(exercise 5) and Adam (exercise 12) -- each one once its
exercise passes, minidl's own before that -- and minidl's Numba im2col inside your
conv (your plain loops of exercise 8 would take hours). You write the loop:

    for each batch (x, y):  forget old gradients; loss = loss_fn(model(x), y);
                            backward; step
    accuracy = (argmax of the logits == y) averaged over the test set, without a graph

The check: epochs over the 10,000 training digits built into minidl (batch 32, each
image shifted by up to 2 pixels, Adam lr 2e-3 shrinking by 0.75 an epoch, inputs
normalised, seed 0), each followed by the test accuracy on the 2,000 built-in test
digits, until it reaches >= 0.98 (at most 8 epochs, usually 4-6: about a minute);
the loss must have fallen.

Hint: evaluate under `with minidl.no_grad():` (no graph: faster, less memory);
`logits.argmax(dim=1) == y` gives a bool Tensor, `.sum().item()` a count.
"""
import minidl  # noqa: F401


def train_epoch(model, loader, optimizer, loss_fn):
    """One pass over loader. Returns the mean training loss (a float)."""
    raise NotImplementedError


def evaluate(model, loader):
    """Fraction of correctly classified examples in loader (a float in [0, 1])."""
    raise NotImplementedError
