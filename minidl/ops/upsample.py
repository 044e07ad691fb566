"""Resizing: interpolate(input, size or scale_factor, mode), as PyTorch's.

Along an axis of input length n_in and output length n_out, with scale = 1 /
scale_factor if scale_factor was given (and recompute_scale_factor is not True), else
n_in / n_out:

nearest, nearest-exact: output index i copies input index
    nearest        floor(i * scale)             (PyTorch's rule, in float32)
    nearest-exact  floor((i + 0.5) * scale)
clipped to n_in - 1. (On 4-D input PyTorch maps n_out == n_in and n_out == 2 * n_in
exactly -- i and i // 2 -- whatever scale_factor says; so do we.) The op is a gather
(getitem with index arrays), so its backward is a scatter-add and the backward of that
a gather again: autograd gets all of it from getitem. Integer tensors stay integer.

linear (3-D input), bilinear (4-D): output index i blends the two input indices
around the source position
    src = max((i + 0.5) * scale - 0.5, 0)       align_corners=False (the default)
    src = i * (n_in - 1) / (n_out - 1)          align_corners=True (corners meet)
as (1 - t) * x[floor(src)] + t * x[floor(src) + 1] with t = src - floor(src), on both
axes for bilinear (computed in the input's dtype, as PyTorch). The blend is linear in
x, so its backward is its transpose, which spreads each gradient back with the same
weights, and the transpose's backward is the blend again: two Numba kernels
(minidl/kernels/interpolate.py), each other's derivative.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..kernels import interpolate as kernels, threads_for
from ..tensor import ShapeError, _FLOATS
from ..tools.trace import span
from .activation import DTypeError
from .arithmetic import unary_input
from .shape import GetItem, IndexAdd, reshape

LINEAR_MODES = {"linear": 3, "bilinear": 4}  # mode -> the input rank it needs


def _per_dim(value, n_dims: int, name: str):
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n_dims
    if len(values) != n_dims:
        raise ValueError(f"interpolate: {name} needs {n_dims} values (one per spatial "
                         f"dim), got {value!r}")
    return values


def _source_index(n_in: int, n_out: int, scale_factor, mode: str,
                  shortcuts: bool) -> np.ndarray:
    """Which input index each output index along one axis copies (PyTorch's rule)."""
    if scale_factor is not None and scale_factor > 0:
        scale = np.float32(1.0 / scale_factor)
    else:
        scale = np.float32(n_in) / np.float32(n_out)
    i = np.arange(n_out)
    if mode == "nearest":
        if shortcuts and n_out == n_in:  # PyTorch's 2-D kernel takes these two sizes
            return i                     # exactly, whatever scale_factor says
        if shortcuts and n_out == 2 * n_in:
            return i // 2
        src = np.floor(i.astype(np.float32) * scale)
    else:  # nearest-exact
        src = np.floor(np.float32((i + 0.5) * np.float64(scale)))
    return np.minimum(src.astype(np.int64), n_in - 1)


# ------------------------------------------------------------------ linear modes
def _linear_taps(n_in, n_out, scale_factor, align_corners, dtype):
    """Along one axis: for each output index the two input indices it blends and
    their weights (i0, i1, l0, l1), computed in `dtype` as PyTorch computes them."""
    f = dtype.type
    i = np.arange(n_out).astype(dtype)
    if align_corners:
        scale = f(n_in - 1) / f(n_out - 1) if n_out > 1 else f(0)
        src = scale * i
    else:
        scale = f(1.0 / scale_factor) if scale_factor else f(n_in) / f(n_out)
        src = np.maximum(scale * (i + f(0.5)) - f(0.5), f(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    l1 = np.clip(src - i0.astype(dtype), f(0), f(1))
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, f(1) - l1, l1


def _run(kernel, a, taps, out_hw):
    """Apply a kernel of minidl/kernels/interpolate.py to every (n, c) plane of a."""
    n, c = a.shape[:2]
    out = np.empty((n * c,) + tuple(out_hw), dtype=a.dtype)
    planes = np.ascontiguousarray(a).reshape((n * c,) + a.shape[2:])
    with threads_for(out.size + planes.size), span(kernel.__name__):
        kernel(planes, *taps, out)
    return out.reshape((n, c) + tuple(out_hw))


class Bilinear(Function):
    # out = B x, B the blend of kernels/interpolate.py  =>  dx = B^T g
    keep_after_backward = ("taps",)  # (made from sizes alone: a second backward works)
    @staticmethod
    def forward(ctx, x, taps):
        ctx.taps, ctx.in_hw = taps, x.shape[2:]
        return _run(kernels.bilinear_forward, x, taps, (len(taps[0]), len(taps[4])))

    @staticmethod
    def backward(ctx, g):
        return BilinearAdjoint.apply(g, ctx.taps, ctx.in_hw), None


class BilinearAdjoint(Function):
    # out = B^T g  =>  dg = B gg
    keep_after_backward = ("taps",)
    @staticmethod
    def forward(ctx, g, taps, in_hw):
        ctx.taps = taps
        return _run(kernels.bilinear_adjoint, g, taps, in_hw)

    @staticmethod
    def backward(ctx, gg):
        return Bilinear.apply(gg, ctx.taps), None, None


def _linear(x, out_sizes, scales, align_corners):
    """linear / bilinear resizing of (N, C, L) / (N, C, H, W) input (see the top)."""
    if x.ndim == 3:  # one row: the height axis maps 1 -> 1 with weight 1
        y = _linear(reshape(x, x.shape[:2] + (1,) + x.shape[2:]), (1,) + out_sizes,
                    (None,) + scales, align_corners)
        return reshape(y, y.shape[:2] + y.shape[3:])
    taps = ()
    for n_in, n_out, s in zip(x.shape[2:], out_sizes, scales):
        taps += _linear_taps(n_in, n_out, s, align_corners, x.dtype)
    return Bilinear.apply(x, taps)


# ------------------------------------------------------------------ interpolate
def _check(input, mode, align_corners, antialias):
    """The input tensor, checked against the mode (PyTorch's rules and classes)."""
    modes = ("nearest", "nearest-exact") + tuple(LINEAR_MODES)
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; "
                                  f"expected one of {modes}")
    x = unary_input(input, "interpolate")
    linear = mode in LINEAR_MODES
    if x.dtype == np.bool_ or (linear and x.dtype not in _FLOATS):
        raise DTypeError(f"interpolate: mode {mode!r} is not implemented for {x.dtype} "
                         "tensors; convert with .float()")
    if linear and x.ndim != LINEAR_MODES[mode]:
        raise NotImplementedError(f"interpolate: got {x.ndim}-D input, but {mode} mode "
                                  f"needs {LINEAR_MODES[mode]}-D input")
    if linear and antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if not linear and (align_corners is not None or antialias):
        raise ValueError("interpolate: align_corners and antialias only apply to the "
                         f"linear modes, not {mode!r}")
    if x.ndim not in (3, 4, 5):
        raise ShapeError(f"interpolate: expected input of shape (N, C, L), (N, C, H, W) "
                         f"or (N, C, D, H, W), got shape {x.shape}")
    return x


def _output_sizes(x, size, scale_factor, recompute_scale_factor):
    """The output's spatial sizes, and the scale factors the kernels use (None: use
    n_in / n_out)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = x.shape[2:]
    n_dims = len(in_sizes)
    if size is not None:
        out_sizes = tuple(int(s) for s in _per_dim(size, n_dims, "size"))
        scales = (None,) * n_dims
    else:
        scales = tuple(float(s) for s in _per_dim(scale_factor, n_dims, "scale_factor"))
        out_sizes = tuple(math.floor(n * s) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * n_dims
    if min(out_sizes) <= 0 or min(in_sizes) <= 0:
        raise ShapeError(f"interpolate: input and output sizes must be positive, got "
                         f"input of shape {x.shape} and output size {out_sizes} "
                         f"(size={size!r}, scale_factor={scale_factor!r})")
    return out_sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input
    (torch.nn.functional.interpolate): modes 'nearest' and 'nearest-exact' (any
    rank), 'linear' (3-D) and 'bilinear' (4-D), with align_corners as PyTorch."""
    x = _check(input, mode, align_corners, antialias)
    out_sizes, scales = _output_sizes(x, size, scale_factor, recompute_scale_factor)
    if mode in LINEAR_MODES:
        return _linear(x, out_sizes, scales, bool(align_corners))
    sources = [_source_index(n, m, s, mode, shortcuts=len(out_sizes) == 2)
               for n, m, s in zip(x.shape[2:], out_sizes, scales)]
    return Nearest.apply(x, (slice(None), slice(None)) + np.ix_(*sources))


# ------------------------------------------------------------------ nearest modes
class Nearest(GetItem):
    # out = x[:, :, rows, cols]: each output element copies its nearest input element
    # (GetItem's forward); dx = the gradients added back to their sources (IndexAdd's).
    # The index arrays come from sizes alone, so they stay after backward, as PyTorch
    # keeps only sizes: a second backward works without retain_graph.
    keep_after_backward = ("index",)

    @staticmethod
    def backward(ctx, g):
        return NearestAdjoint.apply(g, ctx.index, ctx.in_shape), None


class NearestAdjoint(IndexAdd):
    # out = zeros(x's shape), with g added at the sources  =>  dg = Nearest(gg)
    keep_after_backward = ("index",)

    @staticmethod
    def backward(ctx, gg):
        return Nearest.apply(gg, ctx.index), None, None


__all__ = ["interpolate"]
