"""Exercise 12: the SGD-with-momentum and Adam updates, on numpy arrays.

Both change `param` in place (param is a numpy array here, not a Tensor: the
optimizer below hands you the arrays inside the Parameters).

SGD with momentum (PyTorch's form; the buffer b starts as a copy of the first g):
    b = momentum * b + g          p = p - lr * b
Adam (step t = 1, 2, ...; m and v start at zero):
    m = b1 * m + (1 - b1) * g           v = b2 * v + (1 - b2) * g^2
    m_hat = m / (1 - b1^t)              v_hat = v / (1 - b2^t)     (bias correction)
    p = p - lr * m_hat / (sqrt(v_hat) + eps)
Without bias correction the first steps are tiny: m starts at zero, so after one step
m = 0.1 g, not g.

The check: several steps against minidl.optim.SGD / minidl.optim.Adam on the same
numbers (hypothesis draws them), the first Adam step moving each weight by ~lr; then
your Adam minimising a quadratic.

Hint: update m and v in place (m *= b1; m += (1 - b1) * g) -- the state arrays are
kept between steps by the caller.
"""
import numpy as np  # noqa: F401


def sgd_step(param, grad, buf, lr, momentum):
    """One step; buf is None at the first step. Returns the new buf."""
    raise NotImplementedError


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """One step t (1-based), updating param, m and v in place."""
    raise NotImplementedError


class Adam:
    """An optimizer around your adam_step (given): step() updates each parameter."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [np.zeros(p.shape, p.dtype) for p in self.params]
        self.v = [np.zeros(p.shape, p.dtype) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is not None:
                adam_step(p._data, p.grad._data, m, v, self.t, self.lr, self.betas,
                          self.eps)
