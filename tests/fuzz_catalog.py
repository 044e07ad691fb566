"""The differential fuzzer's catalog: public functions of minidl with their PyTorch
twins and a maker of random arguments (tests/test_fuzz_vs_torch.py runs it).

An entry is Case(name, ours, theirs, make): make(draw) returns (args, kwargs) where
each argument is an Arr (a numpy array that becomes a tensor in each library, a
non-contiguous view now and then) or a plain value; ours/theirs take the same
arguments. `draw` (a Draw) makes the awkward inputs: empty and 0-d tensors, size-1
dims, every dtype, negative dims, keepdim.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

FLOATS = ["float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8"]
ALL = FLOATS + INTS + ["bool"]


@dataclass
class Arr:
    """An array argument: a tensor in both libraries (grad: a float leaf requiring
    grad)."""
    value: np.ndarray
    grad: bool = True


@dataclass
class Case:
    name: str
    ours: Callable
    theirs: Callable
    make: Callable


class Draw:
    """Random choices for one example, from one numpy Generator."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def choice(self, options):
        return options[self.rng.integers(len(options))]

    def shape(self, min_dims=0, max_dims=4, max_side=4, empty=True):
        ndim = int(self.rng.integers(min_dims, max_dims + 1))
        low = 0 if empty and self.rng.random() < 0.15 else 1
        return tuple(int(s) for s in self.rng.integers(low, max_side + 1, ndim))

    def array(self, shape, dtype=None, domain="any"):
        """Values of dtype: small integers, normal floats (domain "positive": in
        (0.1, 3), "unit": in (-0.9, 0.9)), NaN/inf now and then ("any" only)."""
        dtype = dtype or self.choice(ALL)
        rng = self.rng
        if dtype == "bool":
            a = rng.random(shape) < 0.5
        elif dtype in INTS:
            low = 0 if dtype == "uint8" or domain == "positive" else -5
            a = rng.integers(low, 6, shape).astype(dtype)
        else:
            a = {"any": lambda: rng.standard_normal(shape) * 2,
                 "positive": lambda: rng.uniform(0.1, 3, shape),
                 "unit": lambda: rng.uniform(-0.9, 0.9, shape)}[domain]()
            if domain == "any" and a.size and rng.random() < 0.1:
                a.flat[rng.integers(a.size)] = self.choice([0.0, -0.0, np.inf, -np.inf,
                                                            np.nan])
            a = a.astype(dtype)
        return self.layout(np.asarray(a))

    def layout(self, a):
        """a, or the same values as a non-contiguous view (transposed or strided)."""
        if a.ndim >= 2 and self.rng.random() < 0.3:
            return np.ascontiguousarray(np.swapaxes(a, 0, -1)).swapaxes(0, -1)
        if a.ndim >= 1 and self.rng.random() < 0.2:
            return np.repeat(a, 2, axis=-1)[..., ::2]
        return a

    def dim(self, ndim, none=True):
        """None, or a dim of an ndim-d tensor (negative half the time)."""
        if (none and self.rng.random() < 0.25) or ndim == 0:
            return None if none else self.choice([0, -1])
        d = int(self.rng.integers(ndim))
        return d - ndim if self.rng.random() < 0.5 else d

    def dims(self, ndim):
        """None, an int, or a tuple of distinct dims."""
        if ndim == 0 or self.rng.random() < 0.5:
            return self.dim(ndim)
        k = int(self.rng.integers(1, ndim + 1))
        return tuple(int(d) - (ndim if self.rng.random() < 0.5 else 0)
                     for d in self.rng.permutation(ndim)[:k])

    def flag(self):
        return bool(self.rng.random() < 0.5)


# ------------------------------------------------------------------ the catalog
def _lib_pair(path):
    """(minidl's, torch's) function for a dotted path such as 'nn.functional.relu'."""
    import minidl
    import torch
    out = []
    for root, p in ((minidl, path.replace("nn.functional.", "functional.")), (torch, path)):
        f = root
        for part in p.split("."):
            f = getattr(f, part)
        out.append(f)
    return out


def case(name, path, make):
    ours, theirs = _lib_pair(path)
    return Case(name, ours, theirs, make)


def method(name, make):
    """Tensor.name(...) in both libraries."""
    return Case(f"Tensor.{name}", lambda t, *a, **k: getattr(t, name)(*a, **k),
                lambda t, *a, **k: getattr(t, name)(*a, **k), make)


def unary(domain="any", dtypes=ALL):
    return lambda d: ((Arr(d.array(d.shape(), d.choice(dtypes), domain)),), {})


def binary(domain="any", dtypes=ALL, scalars=True):
    """Two broadcastable tensors (in either order), or a tensor and a Python number."""
    def make(d):
        shape = d.shape(max_dims=3)
        other = tuple(1 if d.rng.random() < 0.3 else s for s in shape)
        other = other[int(d.rng.integers(len(other) + 1)):]
        a = Arr(d.array(shape, d.choice(dtypes), domain))
        if scalars and d.rng.random() < 0.2:
            return (a, d.choice([2, -1, 0.5, True, 3.0])), {}
        b = Arr(d.array(other, d.choice(dtypes), domain))
        return ((a, b) if d.flag() else (b, a)), {}
    return make


def reduction(dtypes=ALL, domain="any", keepdim=True, dims=True):
    def make(d):
        x = d.array(d.shape(), d.choice(dtypes), domain)
        kw = {}
        dim = d.dims(x.ndim) if dims else d.dim(x.ndim)
        if dim is not None:
            kw["dim"] = dim
            if keepdim and d.flag():
                kw["keepdim"] = True
        return (Arr(x),), kw
    return make


def scan(dtypes=ALL):
    def make(d):
        x = d.array(d.shape(), d.choice(dtypes))
        return (Arr(x), d.dim(x.ndim, none=False)), {}
    return make


UNARY = ["abs", "neg", "exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
         "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "log2", "log10", "log1p",
         "exp2", "expm1", "rsqrt", "sign", "floor", "ceil", "round", "trunc", "sigmoid",
         "relu", "erf", "isnan", "isinf", "isfinite", "logical_not", "bitwise_not"]
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le",
          "gt", "ge", "atan2", "copysign", "logaddexp", "floor_divide", "remainder",
          "fmod", "bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or",
          "logical_xor"]
REDUCTIONS = ["sum", "mean", "amax", "amin", "logsumexp", "prod", "any", "all", "var",
              "std", "var_mean", "std_mean"]
ACTIVATIONS = ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "celu", "gelu",
               "silu", "mish", "softplus", "softsign", "hardsigmoid", "hardswish",
               "logsigmoid", "sigmoid", "tanh"]


def _reshape(d):
    x = d.array(d.shape(), d.choice(ALL))
    n = x.size
    target = d.choice([(n,), (-1,), (1, n), (n, 1, -1) if n else (0, 1, 3), ()
                       if n == 1 else (n, -1)])
    return (Arr(x), target), {}


def _permute(d):
    x = d.array(d.shape(), d.choice(ALL))
    order = [int(i) - (x.ndim if d.flag() else 0) for i in d.rng.permutation(x.ndim)]
    return (Arr(x), tuple(order)), {}


def _transpose(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    return (Arr(x), d.dim(x.ndim, False), d.dim(x.ndim, False)), {}


def _squeeze(d):
    x = d.array(d.shape(max_side=2), d.choice(ALL))
    dim = d.dims(x.ndim) if x.ndim else None
    return ((Arr(x),) if dim is None else (Arr(x), dim)), {}


def _unsqueeze(d):
    x = d.array(d.shape(), d.choice(ALL))
    dim = int(d.rng.integers(-x.ndim - 1, x.ndim + 1))
    return (Arr(x), dim), {}


def _flatten(d):
    x = d.array(d.shape(), d.choice(ALL))
    if x.ndim == 0:
        return (Arr(x),), {}
    a, b = sorted(int(i) for i in d.rng.integers(0, x.ndim, 2))
    return (Arr(x), a, b - (x.ndim if d.flag() else 0)), {}


def _cat(d):
    shape = list(d.shape(min_dims=1, max_dims=3))
    dim = d.dim(len(shape), none=False)
    parts = []
    for _ in range(int(d.rng.integers(1, 4))):
        s = list(shape)
        s[dim] = int(d.rng.integers(0, 3))
        parts.append(Arr(d.array(tuple(s), d.choice(FLOATS + ["int64", "int32"]))))
    return (parts, dim), {}


def _stack(d):
    shape = d.shape(max_dims=3)
    dtype = d.choice(ALL)
    parts = [Arr(d.array(shape, dtype)) for _ in range(int(d.rng.integers(1, 4)))]
    return (parts, int(d.rng.integers(-len(shape) - 1, len(shape) + 1))), {}


def _split(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    dim = d.dim(x.ndim, none=False)
    size = int(d.rng.integers(1, 4))
    if d.flag() and x.shape[dim]:
        cuts = sorted(int(c) for c in d.rng.integers(0, x.shape[dim] + 1, 2))
        size = [cuts[0], cuts[1] - cuts[0], x.shape[dim] - cuts[1]]
    return (Arr(x), size, dim), {}


def _chunk(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    return (Arr(x), int(d.rng.integers(1, 5)), d.dim(x.ndim, none=False)), {}


def _flip(d):
    x = d.array(d.shape(), d.choice(ALL))
    dims = d.dims(x.ndim)
    dims = () if dims is None else (dims if isinstance(dims, tuple) else (dims,))
    return (Arr(x), dims), {}


def _roll(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    dims = d.dim(x.ndim)
    return (Arr(x), int(d.rng.integers(-5, 6)), dims), {}


def _tri(d):
    x = d.array(d.shape(min_dims=2), d.choice(ALL))
    return (Arr(x), int(d.rng.integers(-3, 4))), {}


def _diagonal(d):
    x = d.array(d.shape(min_dims=2), d.choice(ALL))
    a, b = (int(i) for i in d.rng.permutation(x.ndim)[:2])
    return (Arr(x), int(d.rng.integers(-3, 4)), a, b), {}


def _diag(d):
    x = d.array(d.shape(min_dims=1, max_dims=2), d.choice(ALL))
    return (Arr(x), int(d.rng.integers(-2, 3))), {}


def _repeat(d):
    x = d.array(d.shape(max_dims=3), d.choice(ALL))
    reps = tuple(int(r) for r in d.rng.integers(0, 3, x.ndim + int(d.rng.integers(0, 2))))
    return (Arr(x), *reps), {}


def _repeat_interleave(d):
    x = d.array(d.shape(min_dims=1, max_dims=3), d.choice(ALL))
    return (Arr(x), int(d.rng.integers(0, 3))), {"dim": d.dim(x.ndim)}


def _expand(d):
    x = d.array(tuple(1 if d.flag() else s for s in d.shape(max_dims=3)), d.choice(ALL))
    shape = tuple(int(d.rng.integers(0, 3)) if s == 1 else (-1 if d.flag() else s)
                  for s in x.shape)
    return (Arr(x), *((2,) if d.flag() else ()), *shape), {}


def _getitem(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    index = []
    for n in x.shape[:int(d.rng.integers(1, x.ndim + 1))]:
        kind = d.choice(["int", "slice", "slice", "list", "none", "ellipsis"])
        if kind == "int" and n:
            index.append(int(d.rng.integers(-n, n)))
        elif kind == "list" and n:
            index.append(Arr(d.rng.integers(-n, n, int(d.rng.integers(0, 4))), False))
        elif kind == "none":
            index.append(None)
        else:
            a, b = (int(v) for v in d.rng.integers(-n - 1, n + 2, 2))
            index.append(slice(a, b, int(d.rng.integers(1, 3))))
    if "ellipsis" in str(index) or d.rng.random() < 0.1:
        index.insert(int(d.rng.integers(len(index) + 1)), Ellipsis)
    return (Arr(x), tuple(index)), {}


def _sort(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x),), {"dim": d.dim(x.ndim, none=False), "descending": d.flag(),
                       "stable": True}


def _topk(d):
    x = d.array(d.shape(), d.choice(ALL))
    dim = d.dim(x.ndim, none=False)
    n = x.shape[dim] if x.ndim else 1
    return (Arr(x), int(d.rng.integers(0, n + 2))), {"dim": dim, "largest": d.flag()}


def _kthvalue(d):
    x = d.array(d.shape(), d.choice(ALL))
    dim = d.dim(x.ndim, none=False)
    n = x.shape[dim] if x.ndim else 1
    return (Arr(x), int(d.rng.integers(0, n + 2))), {"dim": dim, "keepdim": d.flag()}


def _max_dim(d):
    x = d.array(d.shape(), d.choice(ALL))
    if d.rng.random() < 0.3:
        return (Arr(x),), {}
    return (Arr(x), d.dim(x.ndim, none=False)), {"keepdim": d.flag()}


def _gather(d):
    x = d.array(d.shape(min_dims=1, max_dims=3), d.choice(ALL))
    dim = d.dim(x.ndim, none=False)
    n = x.shape[dim]
    shape = tuple(int(d.rng.integers(0, s + 1)) for s in x.shape)
    index = d.rng.integers(-1 if d.rng.random() < 0.1 else 0, max(n, 1), shape)
    return (Arr(x), dim, Arr(index, False)), {}


def _masked_fill(d):
    x = d.array(d.shape(), d.choice(ALL))
    mask = Arr(d.rng.random(x.shape[int(d.rng.integers(x.ndim + 1)):]) < 0.5, False)
    return (Arr(x), mask, d.choice([0, -1.5, True, 7])), {}


def _where(d):
    shape = d.shape(max_dims=3)
    cond = Arr(d.rng.random(shape) < 0.5, False)
    a = Arr(d.array(shape, d.choice(ALL)))
    b = Arr(d.array(shape[1:], d.choice(ALL))) if d.flag() else d.choice([0.0, 2, True])
    return (cond, a, b), {}


def _clamp(d):
    x = d.array(d.shape(), d.choice(ALL))
    lo, hi = d.choice([(-1, 1), (0.5, None), (None, 2), (-0.5, 1.5), (3, -3)])
    return (Arr(x), lo, hi), {}


def _matmul(d):
    n, m, k = (int(v) for v in d.rng.integers(0, 4, 3))
    dtype = d.choice(FLOATS + ["int64"])
    sa = d.choice([(n, k), (k,), (2, n, k)])
    sb = d.choice([(k, m), (k,), (2, k, m), (1, k, m)])
    return (Arr(d.array(sa, dtype)), Arr(d.array(sb, dtype))), {}


def _softmax(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x), d.dim(x.ndim, none=False)), {}


def _activation(name):
    def make(d):
        return (Arr(d.array(d.shape(), d.choice(ALL))),), {}
    return make


def _linear(d):
    n, i, o = (int(v) for v in d.rng.integers(0, 4, 3))
    dtype = d.choice(FLOATS)
    x = d.array(d.choice([(n, i), (i,), (2, n, i)]), dtype)
    w = d.array((o, i), dtype)
    args = (Arr(x), Arr(w)) + ((Arr(d.array((o,), dtype)),) if d.flag() else ())
    return args, {}


def _loss(domain_input="any", target="same"):
    def make(d):
        shape = d.shape(max_dims=3)
        x = d.array(shape, d.choice(FLOATS), domain_input)
        t = d.array(shape if d.rng.random() < 0.9 else shape[1:], d.choice(FLOATS),
                    "unit" if target == "unit" else "any")
        if target == "unit":
            t = np.abs(t)
        return (Arr(x), Arr(t)), {"reduction": d.choice(["mean", "sum", "none"])}
    return make


def _cross_entropy(d):
    n, c = int(d.rng.integers(0, 4)), int(d.rng.integers(1, 4))
    extra = tuple(int(v) for v in d.rng.integers(1, 3, int(d.rng.integers(0, 2))))
    x = d.array((n, c) + extra, d.choice(FLOATS))
    t = d.rng.integers(0, c, (n,) + extra)
    if n and d.rng.random() < 0.2:
        t.flat[0] = -100
    kw = {"reduction": d.choice(["mean", "sum", "none"])}
    if d.flag():
        kw["label_smoothing"] = 0.2
    return (Arr(x), Arr(t, False)), kw


def _pad(d):
    x = d.array(d.shape(min_dims=1, max_dims=3, empty=False), d.choice(FLOATS))
    k = int(d.rng.integers(1, x.ndim + 1))
    widths = tuple(int(v) for v in d.rng.integers(-1, 3, 2 * k))
    return (Arr(x), widths), {"value": d.choice([0.0, 1.5])}


def _einsum(d):
    a, b, c = (int(v) for v in d.rng.integers(1, 4, 3))
    eq, shapes = d.choice([("ij,jk->ik", ((a, b), (b, c))), ("ii->i", ((a, a),)),
                           ("ij->", ((a, b),)), ("bij,bjk->bik", ((2, a, b), (2, b, c))),
                           ("i,j->ij", ((a,), (b,))), ("ij->ji", ((a, b),))])
    return (eq, *(Arr(d.array(s, "float64")) for s in shapes)), {}


def _cumulative(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x), d.dim(x.ndim, none=False)), {}


def _norm(d):
    x = d.array(d.shape(), d.choice(FLOATS))
    kw = {"p": d.choice([1, 2, 3.5, math.inf, -math.inf, 0, "fro"])}
    dim = d.dims(x.ndim)
    if dim is not None and not (kw["p"] == "fro" and not isinstance(dim, int)):
        kw["dim"] = dim if kw["p"] != "fro" else (dim,)
        kw["keepdim"] = d.flag()
    return (Arr(x),), kw


def _scatter(d):
    x = d.array(d.shape(min_dims=1, max_dims=3), d.choice(FLOATS + ["int64"]))
    dim = d.dim(x.ndim, none=False)
    shape = tuple(int(d.rng.integers(0, s + 1)) for s in x.shape)
    index = d.rng.integers(0, max(x.shape[dim], 1), shape)
    src = d.array(shape, x.dtype.name)
    return (Arr(x), dim, Arr(index, False), Arr(src)), {}


def _scatter_reduce(d):
    (x, dim, index, src), _ = _scatter(d)
    return (x, dim, index, src, d.choice(["sum", "prod", "mean", "amax", "amin"])), {
        "include_self": d.flag()}


def _masked_select(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x), Arr(d.rng.random(x.shape) < 0.5, False)), {}


def _nonzero(d):
    return (Arr(d.array(d.shape(), d.choice(ALL)), False),), {"as_tuple": d.flag()}


def _inplace(name):
    """x.name_(...) on a copy of a tensor that does not require grad."""
    def make(d):
        x = d.array(d.shape(max_dims=3), d.choice(ALL))
        if name in ("add_", "sub_", "mul_", "div_", "pow_", "copy_"):
            other = d.choice([Arr(d.array(x.shape[1:], d.choice(ALL)), False), 2, 0.5,
                              True, -1])
            extra = {"alpha": d.choice([2, 0.5])} if name in ("add_", "sub_") and \
                d.flag() else {}
            return (Arr(x, False), other), extra
        if name == "clamp_":
            return (Arr(x, False), *d.choice([(-1, 1), (0.5, None), (None, 2)])), {}
        if name == "fill_":
            return (Arr(x, False), d.choice([-1, 3, 2.5, True, 300, -1.5])), {}
        return (Arr(x, False),), {}
    return make


def _conv2d(d):
    n, c, h, w = (int(v) for v in d.rng.integers(1, 4, 4))
    groups = d.choice([1, 1, c])
    out = groups * int(d.rng.integers(1, 3))
    k = int(d.rng.integers(1, 3))
    dtype = d.choice(FLOATS)
    # (finite values: with NaN or inf in the weights PyTorch skips the products with
    # padding, minidl's im2col multiplies them: 0 * inf = NaN -- ops/conv.py is
    # wt-perf's; reported)
    x = d.array((n, c, h + k, w + k), dtype, "unit")
    weight = d.array((out, c // groups, k, k), dtype, "unit")
    kw = {"stride": int(d.rng.integers(1, 3)), "padding": int(d.rng.integers(0, 2)),
          "dilation": int(d.rng.integers(1, 3)), "groups": groups}
    return (Arr(x), Arr(weight)) + ((Arr(d.array((out,), dtype)),) if d.flag() else ()), kw


def _pool(d):
    n, c, h, w = (int(v) for v in d.rng.integers(1, 4, 4))
    k = int(d.rng.integers(1, 3))
    x = d.array((n, c, h + k, w + k), d.choice(FLOATS))
    return (Arr(x), k), {"stride": d.choice([None, 1, 2]),
                         "padding": int(d.rng.integers(0, k // 2 + 1))}


def _adaptive(d):
    x = d.array((int(d.rng.integers(1, 3)), 2) + tuple(int(v) for v in d.rng.integers(
        1, 6, 2)), d.choice(FLOATS))
    return (Arr(x), tuple(int(v) for v in d.rng.integers(1, 4, 2))), {}


def _norm_layer(kind):
    def make(d):
        n, c = int(d.rng.integers(1, 4)), 2 * int(d.rng.integers(1, 3))
        x = d.array((n, c, int(d.rng.integers(1, 4))), d.choice(FLOATS), "unit")
        dt = x.dtype.name
        def param(shape):  # (finite: an infinite scale is not a case worth comparing)
            return Arr(d.array(shape, dt, "unit"))
        if kind == "layer_norm":
            return (Arr(x), x.shape[-1:], param(x.shape[-1:]), param(x.shape[-1:])), {}
        if kind == "group_norm":
            return (Arr(x), d.choice([1, 2]), param((c,)), param((c,))), {}
        mean, var = d.array((c,), dt, "unit"), d.array((c,), dt, "positive")
        return (Arr(x), Arr(mean, False), Arr(var, False), param((c,)), param((c,))), {
            "training": d.flag()}
    return make


def _interpolate(d):
    x = d.array((1, 2) + tuple(int(v) for v in d.rng.integers(1, 4, int(
        d.rng.integers(1, 3)))), d.choice(FLOATS))
    mode = d.choice(["nearest", "nearest-exact"] + (["bilinear"] if x.ndim == 4 else
                                                    ["linear"]))
    kw = {"mode": mode, "scale_factor": d.choice([0.5, 1.5, 2, 3])}
    if "linear" in mode:
        kw["align_corners"] = d.flag()
    return (Arr(x),), kw


def _one_hot(d):
    x = d.rng.integers(0, 4, d.shape(max_dims=2))
    return (Arr(x, False),), {"num_classes": d.choice([-1, 4, 5])}


def _nll(d):
    (x, t), kw = _cross_entropy(d)
    kw.pop("label_smoothing", None)
    return (x, t), kw


def _kl_div(d):
    shape = d.shape(min_dims=1, max_dims=3)
    x = d.array(shape, d.choice(FLOATS))
    t = np.abs(d.array(shape, d.choice(FLOATS), "unit"))
    return (Arr(x), Arr(t)), {"reduction": d.choice(["sum", "batchmean", "none"]),
                              "log_target": d.flag()}


def _creation(name):
    def make(d):
        dtype = d.choice([None, "float64", "int32", "int64", "bool"])
        if name == "arange":
            start, end = d.choice([(0, 5), (1.5, 4), (3, -2), (0, 0)])
            return (start, end, d.choice([1, 2, -1, 0.5])), {"dtype": dtype}
        if name == "linspace":
            return (d.choice([0, -1.5]), d.choice([1, 3]), int(d.rng.integers(0, 5))), {
                "dtype": d.choice([None, "float64"])}
        return (d.shape(max_dims=2), d.choice([4, 2.5, True, -1])), {"dtype": dtype}
    return make


def _dtype_case(name, path, make):
    """A creation function: dtype names become each library's dtype."""
    ours, theirs = _lib_pair(path)
    import minidl
    import torch

    def call(lib, f):
        def fn(*args, dtype=None, **kw):
            if dtype is not None:
                kw["dtype"] = getattr(lib, {"bool": "bool_" if lib is minidl else "bool"}
                                      .get(dtype, dtype))
            return f(*args, **kw)
        return fn
    return Case(name, call(minidl, ours), call(torch, theirs), make)


def _lerp(d):
    shape = d.shape(max_dims=3)
    dtype = d.choice(FLOATS)
    weight = d.choice([0.3, -1.0, Arr(d.array(shape[1:], dtype))])
    return (Arr(d.array(shape, dtype)), Arr(d.array(shape[1:], dtype)), weight), {}


def _isclose(d):
    (a, b), _ = binary(scalars=False)(d)
    return (a, b), {"rtol": d.choice([1e-5, 0.5]), "atol": d.choice([0.0, 1.0]),
                    "equal_nan": d.flag()}


def _unflatten(d):
    x = d.array(d.shape(min_dims=1), d.choice(ALL))
    dim = d.dim(x.ndim, none=False)
    n = x.shape[dim]
    sizes = d.choice([(n,), (1, n), (-1, 1), (n, -1)]) if n else (0, 2)
    return (Arr(x), dim, sizes), {}


def _pad_mode(d):
    mode = d.choice(["reflect", "replicate", "circular"])
    x = d.array((1, 2) + tuple(int(v) for v in d.rng.integers(2, 5, int(
        d.rng.integers(1, 3)))), d.choice(FLOATS))
    k = x.ndim - 2
    widths = tuple(int(v) for v in d.rng.integers(-1, 2, 2 * k))
    return (Arr(x), widths), {"mode": mode}


def _conv1d(d):
    n, c, length = (int(v) for v in d.rng.integers(1, 4, 3))
    k = int(d.rng.integers(1, 3))
    dtype = d.choice(FLOATS)
    x = d.array((n, c, length + k), dtype, "unit")
    weight = d.array((int(d.rng.integers(1, 3)), c, k), dtype, "unit")
    return (Arr(x), Arr(weight)), {"stride": int(d.rng.integers(1, 3)),
                                   "padding": int(d.rng.integers(0, 2))}


def _conv_transpose2d(d):
    n, c, h, w = (int(v) for v in d.rng.integers(1, 3, 4))
    k = int(d.rng.integers(1, 3))
    dtype = d.choice(FLOATS)
    x = d.array((n, c, h, w), dtype, "unit")
    weight = d.array((c, int(d.rng.integers(1, 3)), k, k), dtype, "unit")
    stride = int(d.rng.integers(1, 3))
    return (Arr(x), Arr(weight)), {"stride": stride, "padding": int(d.rng.integers(0, k)),
                                   "output_padding": int(d.rng.integers(0, stride))}


def _attention(d):
    n, heads, length, e = (int(v) for v in d.rng.integers(1, 4, 4))
    dtype = d.choice(FLOATS)
    q, k, v = (Arr(d.array((n, heads, length, e), dtype, "unit")) for _ in range(3))
    return (q, k, v), {"is_causal": d.flag()}


def _shift(d):
    dtype = d.choice(INTS)
    x = Arr(d.array(d.shape(max_dims=2), dtype, "positive"))
    return (x, d.choice([0, 1, 3])), {}


def _div_rounding(d):
    (a, b), _ = binary(dtypes=FLOATS + ["int64", "int32"])(d)
    if isinstance(b, Arr) and b.value.dtype.kind in "iu":
        b.value[b.value == 0] = 1  # (no integer division by zero)
    if isinstance(a, Arr) and isinstance(b, (int, bool)) and not isinstance(b, float):
        b = d.choice([2, -3])
    return (a, b), {"rounding_mode": d.choice(["floor", "trunc", None])}


def _correction(d):
    x = d.array(d.shape(), d.choice(FLOATS))
    return (Arr(x),), {"dim": d.dims(x.ndim), "correction": d.choice([0, 1, 2]),
                       "keepdim": d.flag()}


def _sum_dtype(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x),), {"dim": d.dims(x.ndim), "dtype": d.choice(["float64", "int32",
                                                                  "float32"])}


def _argsort(d):
    x = d.array(d.shape(), d.choice(ALL))
    return (Arr(x),), {"dim": d.dim(x.ndim, none=False), "descending": d.flag(),
                       "stable": True}


def _setitem(d):
    (x, index), _ = _getitem(d)
    return (x, index, d.choice([0, 2.5, -1, True])), {}


def _set(x, index, value):
    """x[index] = value on a copy; the edited copy."""
    y = x.clone()
    y[index] = value
    return y


# (name, dotted path in both libraries, maker of arguments)
TABLE = [
    ("softmax", "softmax", _softmax),
    ("log_softmax", "log_softmax", _softmax),
    ("reshape", "reshape", _reshape),
    ("permute", "permute", _permute),
    ("transpose", "transpose", _transpose),
    ("squeeze", "squeeze", _squeeze),
    ("unsqueeze", "unsqueeze", _unsqueeze),
    ("flatten", "flatten", _flatten),
    ("cat", "cat", _cat),
    ("stack", "stack", _stack),
    ("split", "split", _split),
    ("chunk", "chunk", _chunk),
    ("flip", "flip", _flip),
    ("roll", "roll", _roll),
    ("tril", "tril", _tri),
    ("triu", "triu", _tri),
    ("diagonal", "diagonal", _diagonal),
    ("diag", "diag", _diag),
    ("repeat_interleave", "repeat_interleave", _repeat_interleave),
    ("sort", "sort", _sort),
    ("topk", "topk", _topk),
    ("kthvalue", "kthvalue", _kthvalue),
    ("gather", "gather", _gather),
    ("masked_fill", "masked_fill", _masked_fill),
    ("where", "where", _where),
    ("clamp", "clamp", _clamp),
    ("matmul", "matmul", _matmul),
    ("linear", "nn.functional.linear", _linear),
    ("mse_loss", "nn.functional.mse_loss", _loss()),
    ("l1_loss", "nn.functional.l1_loss", _loss()),
    ("smooth_l1_loss", "nn.functional.smooth_l1_loss", _loss()),
    ("huber_loss", "nn.functional.huber_loss", _loss()),
    ("binary_cross_entropy", "nn.functional.binary_cross_entropy", _loss("unit", "unit")),
    ("binary_cross_entropy_with_logits", "nn.functional.binary_cross_entropy_with_logits",
     _loss(target="unit")),
    ("cross_entropy", "nn.functional.cross_entropy", _cross_entropy),
    ("pad", "nn.functional.pad", _pad),
    ("einsum", "einsum", _einsum),
    ("scatter", "scatter", _scatter),
    ("scatter_add", "scatter_add", _scatter),
    ("scatter_reduce", "scatter_reduce", _scatter_reduce),
    ("masked_select", "masked_select", _masked_select),
    ("nonzero", "nonzero", _nonzero),
    ("conv2d", "nn.functional.conv2d", _conv2d),
    ("max_pool2d", "nn.functional.max_pool2d", _pool),
    ("avg_pool2d", "nn.functional.avg_pool2d", _pool),
    ("adaptive_avg_pool2d", "nn.functional.adaptive_avg_pool2d", _adaptive),
    ("adaptive_max_pool2d", "nn.functional.adaptive_max_pool2d", _adaptive),
    ("layer_norm", "nn.functional.layer_norm", _norm_layer("layer_norm")),
    ("group_norm", "nn.functional.group_norm", _norm_layer("group_norm")),
    ("batch_norm", "nn.functional.batch_norm", _norm_layer("batch_norm")),
    ("interpolate", "nn.functional.interpolate", _interpolate),
    ("one_hot", "nn.functional.one_hot", _one_hot),
    ("nll_loss", "nn.functional.nll_loss", _nll),
    ("kl_div", "nn.functional.kl_div", _kl_div),
    ("lerp", "lerp", _lerp),
    ("isclose", "isclose", _isclose),
    ("unflatten", "unflatten", _unflatten),
    ("pad modes", "nn.functional.pad", _pad_mode),
    ("conv1d", "nn.functional.conv1d", _conv1d),
    ("conv_transpose2d", "nn.functional.conv_transpose2d", _conv_transpose2d),
    ("scaled_dot_product_attention", "nn.functional.scaled_dot_product_attention",
     _attention),
    ("bitwise_left_shift", "bitwise_left_shift", _shift),
    ("bitwise_right_shift", "bitwise_right_shift", _shift),
    ("div rounding", "div", _div_rounding),
    ("var correction", "var", _correction),
    ("std correction", "std", _correction),
    ("argsort", "argsort", _argsort),
]


def catalog() -> list[Case]:
    cases = [case(n, n, unary()) for n in UNARY]
    cases += [case(n, n, binary()) for n in BINARY]
    cases += [case(n, n, reduction()) for n in REDUCTIONS]
    cases += [case(n, n, _max_dim) for n in ("max", "min", "argmax", "argmin", "median")]
    cases += [case(n, n, _cumulative) for n in ("cumsum", "cumprod", "cummax", "cummin",
                                                "logcumsumexp")]
    cases += [case(n, f"nn.functional.{n}", _activation(n)) for n in ACTIVATIONS]
    cases += [case(*row) for row in TABLE]
    cases += [method("repeat", _repeat), method("expand", _expand),
              method("__getitem__", _getitem), method("norm", _norm),
              Case("Tensor.__setitem__", _set, _set, _setitem)]
    cases += [_dtype_case(n, n, _creation(n)) for n in ("arange", "linspace", "full")]
    cases += [_dtype_case("sum dtype", "sum", _sum_dtype)]
    cases += [method(n, _inplace(n)) for n in ("add_", "sub_", "mul_", "div_", "pow_",
                                                "clamp_", "fill_", "zero_", "copy_")]
    cases += [method(n, unary()) for n in ("clone", "float", "double", "long", "int",
                                            "bool", "t", "contiguous", "tolist", "item")]
    return cases
