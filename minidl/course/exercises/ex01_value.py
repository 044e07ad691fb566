"""Exercise 1: a scalar that knows its gradient (micrograd-sized autograd, by hand).

A Value holds one number, `data`, and `grad` = dL/d(this value), filled in by
`backward()` on the final value L. Each operation makes a new Value that remembers
its parents and how to send a gradient back to them (the chain rule, locally):

    c = a + b     dc/da = 1,          dc/db = 1
    c = a * b     dc/da = b,          dc/db = a
    c = tanh(a)   dc/da = 1 - c^2
    c = exp(a)    dc/da = c
    parent.grad += (dL/dc) * (dc/dparent)      (+=: a value may be used many times)

backward() sets L.grad = 1, orders every value so that each comes after all the
values computed from it (a topological order, reversed), then calls each value's
local backward in that order.

The check: random expressions (a*b + c, tanh(a*b)*a, a*a*a, exp(a)+a ...) compared
with finite differences (dL/da ~ (L(a+e) - L(a-e)) / 2e); `x*x` and `x + x` must get
twice the gradient of a single use; hypothesis draws the numbers.

Hint: keep, on each Value, a small function `_backward` that adds into its parents'
grad; the topological order is a depth-first search that appends a value only after
all its parents (then walk it reversed).
"""
import math  # noqa: F401  (math.tanh, math.exp)


class Value:
    def __init__(self, data, parents=()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = tuple(parents)
        self._backward = lambda: None  # sends self.grad to the parents

    def __add__(self, other):
        raise NotImplementedError

    def __mul__(self, other):
        raise NotImplementedError

    def tanh(self):
        raise NotImplementedError

    def exp(self):
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError

    # numbers on the left (2 * a, 1 + a) and the rest come from the four above
    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __repr__(self):
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"
