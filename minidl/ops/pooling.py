"""2-D pooling on (N, C, H, W) inputs: max_pool2d, avg_pool2d, the adaptive pools
(adaptive_max_pool2d, adaptive_avg_pool2d) and max_unpool2d, max_pool2d's inverse.

Pooling slides a window over each (n, c) plane and keeps one number per window:
    max pooling      out = the largest value in the window (padding counts as -inf)
    average pooling  out = sum of the window / divisor      (padding counts as 0)
Output size per spatial dim (PyTorch's formula), with e = dilation * (kernel - 1) + 1:
    out = floor((size + 2 * padding - e) / stride) + 1        (ceil instead with
    ceil_mode=True, dropping a last window that would start in the right padding).

Both are linear once the window choice is fixed, so their derivatives are "the same
map, transposed": max pooling reads x at the argmax positions, so its backward
scatters the gradient to those positions (and the scatter's backward reads at them
again); average pooling sums windows, so its backward spreads the gradient over them
(and spreading's backward sums windows again). Since every backward is again a
differentiable op, derivatives of any order work. The loops are Numba kernels in
minidl/kernels/pool.py.

dtypes follow PyTorch: the max pools and unpooling only pick values, so integer
tensors stay integer (no gradient flows into them); avg_pool2d of int64 divides as
integers do (truncating); the other ops take float32/float64 only.
"""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..kernels import pool as kernels, output, run_kernel
from ..tensor import Tensor, ShapeError, _FLOATS
from .activation import DTypeError
from .arguments import int_tuple, add_batch_dim, drop_batch_dim
from .arithmetic import unary_input
from .shape import getitem, reshape

INTEGERS = tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8))


# ------------------------------------------------------------------ argument handling
def _planes(x, op: str, integers=()):
    """Check a pooling input; return it as (N, C, H, W) and whether it was (C, H, W).
    `integers`: the integer dtypes the op accepts besides float32 and float64."""
    x = unary_input(x, op)
    if x.dtype not in _FLOATS and x.dtype not in integers:
        raise DTypeError(f"{op}: not implemented for {x.dtype} tensors (as in PyTorch); "
                         "convert with .float()")
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched "
                         f"input (C, H, W), got shape {x.shape}")
    return add_batch_dim(x, 3)


def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False) -> int:
    """How many windows fit along one dim (PyTorch's pooling_output_shape)."""
    span = dilation * (kernel - 1) + 1
    top = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    out = top // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start inside the right padding
    return out


def _geometry(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a pooling's arguments against the input shape; return them as pairs
    plus the output's (OH, OW)."""
    k = int_tuple(kernel_size, 2, "kernel_size", op)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    s = k if no_stride else int_tuple(stride, 2, "stride", op)
    p = int_tuple(padding, 2, "padding", op)
    d = int_tuple(dilation, 2, "dilation", op)
    for name, pair, low in (("kernel_size", k, 1), ("stride", s, 1),
                            ("dilation", d, 1), ("padding", p, 0)):
        if min(pair) < low:
            raise ShapeError(f"{op}: {name} must be >= {low}, got {pair}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ShapeError(f"{op}: padding {p} must be at most half the kernel size {k} "
                         f"(padding <= kernel_size // 2), so that every window holds "
                         f"part of the input")
    out_hw = tuple(pool_output_size(shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode)
                   for i in range(2))
    if min(out_hw) <= 0:
        raise ShapeError(
            f"{op}: input of shape {tuple(shape)} is too small for kernel_size {k}, "
            f"stride {s}, padding {p}, dilation {d}: the output would be "
            f"{out_hw[0]}x{out_hw[1]}; the padded input must be at least "
            f"dilation * (kernel_size - 1) + 1 along each spatial dim")
    return k, s, p, d, out_hw


# ------------------------------------------------------------------ max pooling
# Windows of a max pooling: per axis each window's first tap inside the input and its
# number of taps inside (kernels.window_taps), and the spacing of taps (dilation).
MaxWindows = namedtuple("MaxWindows", ["h_first", "h_count", "dh", "w_first", "w_count",
                                       "dw"])


class MaxPool2d(Function):
    # out = x read at the argmax positions  =>  dx = g scattered (added) to them.
    # forward finds the maxima and their flat positions h * W + w in one pass; it
    # writes the positions into `argmax` too (for return_indices).
    @staticmethod
    def forward(ctx, x, windows, argmax):
        n, c = x.shape[:2]
        out = output(argmax.shape, x.dtype)
        _max_over_windows(_as_planes(x, 3), windows, _as_planes(out, 3),
                          _as_planes(argmax, 3))
        ctx.argmax, ctx.in_shape = argmax, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        return MaxPool2dScatter.apply(g, ctx.argmax, ctx.in_shape), None, None


def _is_2x2_stride_2(windows, in_hw, out_hw):
    """Every window 2x2, two apart, inside the input: the kernels' fast path."""
    return (windows.dh == windows.dw == 1 and 2 * out_hw[0] <= in_hw[0]
            and 2 * out_hw[1] <= in_hw[1]
            and (windows.h_count == 2).all() and (windows.w_count == 2).all()
            and (windows.h_first == 2 * np.arange(out_hw[0])).all()
            and (windows.w_first == 2 * np.arange(out_hw[1])).all())


def _max_over_windows(x, windows, out, argmax):
    """The kernel call: planes x (P, H, W) -> out, argmax (P, OH, OW)."""
    if _is_2x2_stride_2(windows, x.shape[1:], out.shape[1:]):
        run_kernel(kernels.max_pool2x2_forward, x.size, x, out, argmax)
        return
    integer = np.dtype(x.dtype).kind in "iu"
    lowest = np.iinfo(x.dtype).min if integer else -np.inf
    run_kernel(kernels.max_pool2d_forward, x.size, x, *windows, out, argmax,
               x.dtype.type(lowest))


def _planes_shape(shape, ndim=2):
    """(N, C, ...) -> (N * C, rest) (ndim 2) or (N * C, H, W) (ndim 3): the layouts the
    kernels loop over (spelled out: numpy cannot infer -1 for 0 planes)."""
    rest = (math.prod(shape[2:]),) if ndim == 2 else tuple(shape[2:])
    return (shape[0] * shape[1],) + rest


def _as_planes(a: np.ndarray, ndim=2) -> np.ndarray:
    """An array as a contiguous stack of planes (see _planes_shape)."""
    return np.ascontiguousarray(a).reshape(_planes_shape(a.shape, ndim))


def _read_planes(g, index):
    """g (N, C, H, W) read, in each (n, c) plane, at the flat positions index[n, c]
    (shape (N, C, ...)); a differentiable gather (getitem)."""
    planes = np.arange(index.shape[0] * index.shape[1])[:, None]
    picked = getitem(reshape(g, _planes_shape(g.shape)), (planes, _as_planes(index)))
    return reshape(picked, index.shape)


class MaxPool2dScatter(Function):
    # out = zeros(in_shape); out.flat[argmax] += g, per plane  =>  dg = gg read at argmax
    @staticmethod
    def forward(ctx, g, argmax, in_shape):
        ctx.argmax = argmax
        out = output(in_shape, g.dtype)
        run_kernel(kernels.scatter_add_planes, out.size, _as_planes(g),
                   _as_planes(argmax), _as_planes(out))
        return out

    @staticmethod
    def backward(ctx, gg):
        return _read_planes(gg, ctx.argmax), None, None


def _max_pool(x, unbatched, windows, out_hw, return_indices):
    """Shared by max_pool2d and adaptive_max_pool2d: x (N, C, H, W) checked."""
    argmax = output(x.shape[:2] + tuple(out_hw), np.int64)
    out = drop_batch_dim(MaxPool2d.apply(x, windows, argmax), unbatched)
    if return_indices:
        return out, Tensor(argmax[0] if unbatched else argmax)
    return out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each kernel_size window (torch.nn.functional.max_pool2d).

    With return_indices=True also returns, for each output, the position of its
    maximum in its (n, c) plane as a flat index h * W + w (int64), as PyTorch."""
    x, unbatched = _planes(input, "max_pool2d", INTEGERS)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _geometry(
        "max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    h, w = x.shape[2:]
    windows = MaxWindows(*kernels.window_taps(h, kh, sh, ph, dh, oh), dh,
                         *kernels.window_taps(w, kw, sw, pw, dw, ow), dw)
    return _max_pool(x, unbatched, windows, (oh, ow), return_indices)


# ------------------------------------------------------------------ average pooling
# The windows of an average pooling: per axis each window's first position inside the
# input and its number of positions inside (step 1), and each output's divisor (OH, OW).
Windows = namedtuple("Windows", ["h_first", "h_count", "w_first", "w_count", "divisor"])


class AvgPool2d(Function):
    # out[o] = sum(x over window o) / divisor[o]  =>  dx = g[o] / divisor[o] spread
    # over window o (for every o, overlapping windows add up)
    @staticmethod
    def forward(ctx, x, windows):
        ctx.windows, ctx.in_shape = windows, x.shape
        out = output(x.shape[:2] + windows.divisor.shape, x.dtype)
        run_kernel(kernels.box_mean_forward, x.size, _as_planes(x, 3), *windows,
                   _as_planes(out, 3))
        return out

    @staticmethod
    def backward(ctx, g):
        return AvgPool2dAdjoint.apply(g, ctx.windows, ctx.in_shape), None


class AvgPool2dAdjoint(Function):
    # the transpose of AvgPool2d: spread each g[o] / divisor[o] over window o;
    # its own transpose (backward) is AvgPool2d again
    keep_after_backward = ("windows",)  # (made from sizes: a second backward works)
    @staticmethod
    def forward(ctx, g, windows, in_shape):
        ctx.windows = windows
        out = output(in_shape, g.dtype)
        run_kernel(kernels.box_mean_adjoint, out.size, _as_planes(g, 3), *windows,
                   _as_planes(out, 3))
        return out

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.windows), None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over each kernel_size window (torch.nn.functional.avg_pool2d); of int64
    input, the window sum divided as integers (truncated towards 0), as PyTorch.

    The divisor is divisor_override if given; else the window's size counting the
    zero padding (count_include_pad=True) but not the part past the padding that
    ceil_mode may add; else (count_include_pad=False) only the input elements."""
    x, unbatched = _planes(input, "avg_pool2d", (np.dtype(np.int64),))
    k, s, p, _, (oh, ow) = _geometry("avg_pool2d", x.shape, kernel_size, stride,
                                     padding, 1, ceil_mode)
    h_first, h_count = kernels.window_taps(x.shape[2], k[0], s[0], p[0], 1, oh)
    w_first, w_count = kernels.window_taps(x.shape[3], k[1], s[1], p[1], 1, ow)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        divisor = np.full((oh, ow), float(divisor_override))
    elif count_include_pad:  # window length within the padded input
        h_len = kernels.padded_length(x.shape[2], k[0], s[0], p[0], oh)
        w_len = kernels.padded_length(x.shape[3], k[1], s[1], p[1], ow)
        divisor = np.outer(h_len, w_len).astype(np.float64)
    else:
        divisor = np.outer(h_count, w_count).astype(np.float64)
    out = AvgPool2d.apply(x, Windows(h_first, h_count, w_first, w_count, divisor))
    return drop_batch_dim(out, unbatched)


def _adaptive_windows(x, output_size, op):
    """Windows that give exactly output_size (OH, OW) (see kernels.adaptive_taps); an
    entry of None keeps that input size. Returns (h_first, h_count, w_first, w_count)
    and (OH, OW)."""
    size = (output_size, output_size) if isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    size = tuple(x.shape[2 + i] if v is None else int(v) for i, v in enumerate(size))
    if min(size) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"{op}: output_size and the input's spatial dims must be "
                         f"positive, got output_size {size} for input of shape {x.shape}")
    return kernels.adaptive_taps(x.shape[2], size[0]) + \
        kernels.adaptive_taps(x.shape[3], size[1]), size


def adaptive_avg_pool2d(input, output_size):
    """The mean of each adaptive window (torch.nn.functional.adaptive_avg_pool2d): the
    windows are sized and placed to give exactly output_size (see _adaptive_windows)."""
    x, unbatched = _planes(input, "adaptive_avg_pool2d")
    taps, _ = _adaptive_windows(x, output_size, "adaptive_avg_pool2d")
    divisor = np.outer(taps[1], taps[3]).astype(np.float64)
    return drop_batch_dim(AvgPool2d.apply(x, Windows(*taps, divisor)), unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max of each adaptive window (torch.nn.functional.adaptive_max_pool2d); with
    return_indices=True also each maximum's flat index h * W + w in its plane."""
    x, unbatched = _planes(input, "adaptive_max_pool2d", INTEGERS)
    (h_first, h_count, w_first, w_count), out_hw = _adaptive_windows(
        x, output_size, "adaptive_max_pool2d")
    windows = MaxWindows(h_first, h_count, 1, w_first, w_count, 1)
    return _max_pool(x, unbatched, windows, out_hw, return_indices)


# ------------------------------------------------------------------ unpooling
class MaxUnpool2d(Function):
    # out = zeros(out_shape); out.flat[indices] = x, per plane (a later write wins)
    # =>  dx = g read at indices (as PyTorch; the read's own backward is a scatter-add)
    @staticmethod
    def forward(ctx, x, indices, out_hw):
        ctx.indices = indices
        out = output(x.shape[:2] + tuple(out_hw), x.dtype)
        run_kernel(kernels.scatter_planes, out.size, _as_planes(x), _as_planes(indices),
                   _as_planes(out))
        return out

    @staticmethod
    def backward(ctx, g):
        return _read_planes(g, ctx.indices), None, None


def _unpool_size(op, shape, kernel, stride, padding, output_size):
    """(H, W) of max_unpool2d's output: (in - 1) * stride - 2 * padding + kernel, or
    output_size ((H, W) or a full shape) within stride of it, as PyTorch."""
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                    zip(shape[2:], stride, padding, kernel))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)
        size = size[-2:] if len(size) in (3, 4) else size
        if len(size) != 2 or not all(d - s < v < d + s for v, d, s in
                                     zip(size, default, stride)):
            raise ValueError(f"{op}: invalid output_size {tuple(output_size)}: each dim "
                             f"must be within stride {stride} of the default {default} "
                             "(exclusive)")
    if min(size) <= 0:
        raise ShapeError(f"{op}: output size {size} is not positive (input {shape}, "
                         f"kernel_size {kernel}, stride {stride}, padding {padding})")
    return size


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d (torch.nn.functional.max_unpool2d): put each
    value at its max_pool2d index (return_indices=True), zeros everywhere else."""
    op = "max_unpool2d"
    x, unbatched = _planes(input, op, INTEGERS)
    if not isinstance(indices, Tensor) or indices.dtype != np.int64:
        raise TypeError(f"{op}: indices must be an int64 Tensor (from max_pool2d with "
                        f"return_indices=True), got {getattr(indices, 'dtype', indices)}")
    idx = indices._data.reshape(x.shape) if indices.shape == input.shape else None
    if idx is None:
        raise ShapeError(f"{op}: indices of shape {indices.shape} must have the input's "
                         f"shape {input.shape}")
    k = int_tuple(kernel_size, 2, "kernel_size", op)
    s = k if stride is None else int_tuple(stride, 2, "stride", op)
    padding = int_tuple(padding, 2, "padding", op)
    out_hw = _unpool_size(op, x.shape, k, s, padding, output_size)
    bad = (idx < 0) | (idx >= out_hw[0] * out_hw[1])
    if bad.any():
        raise ShapeError(f"{op}: found an invalid max index {idx[bad].flat[0]}; the "
                         f"output planes have size {out_hw[0]}x{out_hw[1]}")
    out = MaxUnpool2d.apply(x, np.ascontiguousarray(idx), out_hw)
    return drop_batch_dim(out, unbatched)


__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "max_unpool2d"]
