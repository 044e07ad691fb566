"""Registry entries for minidl/ops/scan.py and product.py, and the reductions that
return two results (std_mean, var_mean) or take dtype= (see registry.py).

cumprod and prod are checked with zeros in the input too (one zero, two zeros in a
slice): their gradients there come from a separate formula.
"""
import numpy as np

import minidl as md
from registry import register, normal


def with_zeros(shape, positions):
    """Normal values with exact zeros at the given flat positions."""
    def sample(rng):
        x = rng.standard_normal(shape).ravel()
        x[list(positions)] = 0.0
        return (x.reshape(shape),)
    return sample


def distinct(rng, shape):
    """No ties (cummax/cummin pick one element; ties would move the gradient)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, n)).reshape(shape)


register("cumsum", lambda a: md.cumsum(a, 1), normal(2, 3))
register("cumsum", lambda a: a.cumsum(0), normal(4,))
register("cumsum", lambda a: a.cumsum(-1, dtype=md.float32).double(), lambda r: (
    r.uniform(-0.01, 0.01, (2, 2)),), gradgrad=False,
    note="float32 round trip too coarse for second differences")
register("cumprod", lambda a: md.cumprod(a, 1), normal(2, 4))
register("cumprod", lambda a: a.cumprod(0), with_zeros((5,), [2]))
register("cumprod", lambda a: a.cumprod(-1), with_zeros((2, 5), [1, 3, 5]))
register("cumprod", lambda a: md.cumprod(a, 0), with_zeros((4, 2), [0, 2, 3]))
register("cummax", lambda a: md.cummax(a, 1).values, lambda r: (distinct(r, (2, 4)),))
register("cummax", lambda a: a.cummax(0)[0], lambda r: (distinct(r, (5,)),))
register("cummin", lambda a: md.cummin(a, 0).values, lambda r: (distinct(r, (4, 2)),))
register("cummin", lambda a: a.cummin(-1)[0], lambda r: (distinct(r, (5,)),))
register("logcumsumexp", lambda a: md.logcumsumexp(a, 1), normal(2, 4))
register("logcumsumexp", lambda a: a.logcumsumexp(0) * 1, lambda r: (
    r.standard_normal((5,)) * 20,), note="spread-out values: the stable form matters")

register("prod", md.prod, normal(2, 3))
register("prod", lambda a: a.prod(1), normal(2, 4))
register("prod", lambda a: md.prod(a, 0, keepdim=True), normal(3, 2))
register("prod", md.prod, with_zeros((2, 3), [4]))
register("prod", md.prod, with_zeros((2, 3), [1, 4]))
register("prod", lambda a: a.prod(-1), with_zeros((3, 4), [0, 5, 6, 11]))
register("prod", lambda a: a.prod(dtype=md.float32).double(), lambda r: (
    r.uniform(0.01, 0.04, (3,)),), gradgrad=False,
    note="float32 round trip too coarse for second differences")

register("std_mean", md.std_mean, normal(2, 3))
register("std_mean", lambda a: md.std_mean(a, 1, keepdim=True), normal(2, 4))
register("std_mean", lambda a: md.std_mean(a, (0, 2), correction=0), normal(2, 2, 3))
register("var_mean", md.var_mean, normal(2, 3))
register("var_mean", lambda a: md.var_mean(a, 0, unbiased=False), normal(3, 2))
register("sum", lambda a: a.sum(dtype=md.float32).double(), lambda r: (
    r.uniform(-0.01, 0.01, (2, 3)),), gradgrad=False,
    note="float32 round trip too coarse for second differences")
register("mean", lambda a: md.mean(a, 1, dtype=md.float64), normal(2, 3))
