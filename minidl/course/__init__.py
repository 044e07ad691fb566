"""Learn by building: a graded course that rebuilds minidl's core, one piece at a time.

    python -m minidl.course status        the path, and where you are on it
    python -m minidl.course check 1       check exercise 1 (or `check all`)
    python -m minidl.course solution 1    where minidl's own version lives

The first command copies the exercises into ./course/ (your copy; minidl's own files
are never touched). Each exercise is a file there with the signatures to fill in, the
math in its docstring, what its check tests, and one hint; every body raises
NotImplementedError until you write it.

A check runs the op registry's checks on your piece: forward against a slow reference,
gradcheck and gradgradcheck (minidl/gradcheck.py), hypothesis properties, and for
exercise 13 a short training run. An exercise uses your earlier pieces once they have
passed (and minidl's own before that), never a later one.

Files: exercises/ (the templates), grader.py (workspaces, steps, failure messages),
check_autograd.py (1-7), check_cnn.py (8-10), check_training.py (11-15), pieces.py
(earlier pieces for later exercises), solutions.py (minidl's code behind each
exercise's names), __main__.py (the command line).
"""
try:
    import hypothesis  # noqa: F401  (the checks draw examples with it)
except ImportError as e:
    raise ImportError('the course checks properties with hypothesis: pip install -e '
                      '".[test]" (or pip install hypothesis)') from e

from . import check_autograd, check_cnn, check_training  # noqa: E402
from .grader import Blank, CheckFailed, Run, Solutions, Workspace, using  # noqa: E402

# (number, title, the layer of the README's "How it works" table, check)
EXERCISES = [
    (1, "a scalar Value with autograd, by hand", "2. autograd", check_autograd.check_1),
    (2, "elementwise Functions: mul, div, exp, log, tanh", "2. the ops",
     check_autograd.check_2),
    (3, "undoing broadcasting: sum_to", "2. autograd", check_autograd.check_3),
    (4, "matmul and its backward", "2. the ops", check_autograd.check_4),
    (5, "stable softmax, log-softmax, cross-entropy", "2. the ops",
     check_autograd.check_5),
    (6, "the backward walk: topological order, accumulation", "2. autograd",
     check_autograd.check_6),
    (7, "higher-order gradients: backward in Tensor ops", "2. autograd",
     check_autograd.check_7),
    (8, "im2col and col2im, plain loops", "3. kernels", check_cnn.check_8),
    (9, "conv2d: one GEMM forward, two convs backward", "3. kernels + ops/conv.py",
     check_cnn.check_9),
    (10, "max-pooling and its scatter backward", "3. kernels + ops/pooling.py",
     check_cnn.check_10),
    (11, "Module and Linear: named_parameters, the layer", "4. nn",
     check_training.check_11),
    (12, "SGD with momentum and Adam", "5. optim", check_training.check_12),
    (13, "train the seed CNN with your pieces to >= 98%", "6. models",
     check_training.check_13),
    (14, "VAE: reparameterisation and the ELBO", "6. models", check_training.check_14),
    (15, "GAN losses and the WGAN-GP penalty (double backward)", "6. models",
     check_training.check_15),
]


def check(n, workspace, say=print) -> bool:
    """Run exercise n's check on workspace; True when every step passed."""
    _, title, _, steps = EXERCISES[n - 1]
    say(f"exercise {n}: {title}")
    run = Run(n, say)
    try:
        with using(workspace):
            steps(workspace, run)
    except CheckFailed as e:
        say(f"  FAIL {e}\n  rerun: python -m minidl.course check {n}")
        workspace.record(n, False)
        return False
    say(f"  passed ({len(run.passed)} checks)")
    workspace.record(n, True)
    return True


__all__ = ["EXERCISES", "check", "Workspace", "Solutions", "Blank", "CheckFailed"]
