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

from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..kernels import pool as kernels, threads_for
from ..tensor import Tensor, ShapeError, _FLOATS
from ..trace import span
from .activation import DTypeError
from .arithmetic import unary_input
from .shape import getitem, reshape

INTEGERS = tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8))


# ------------------------------------------------------------------ argument handling
def _pair(value, name: str, op: str) -> tuple:
    """An int or a pair of ints (height, width) -> a pair of ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) == 1:
        pair = pair * 2
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


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
    if x.ndim == 3:
        return reshape(x, (1,) + x.shape), True
    return x, False


def _unbatch(out, unbatched: bool):
    return reshape(out, out.shape[1:]) if unbatched else out


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
    k = _pair(kernel_size, "kernel_size", op)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    s = k if no_stride else _pair(stride, "stride", op)
    p = _pair(padding, "padding", op)
    d = _pair(dilation, "dilation", op)
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


def _plane_stack(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> contiguous (N * C, H, W), the layout the kernels loop over."""
    return np.ascontiguousarray(a).reshape((-1,) + a.shape[2:])


def _window_taps(size, kernel, stride, padding, dilation, n_out):
    """Along one axis: window o has taps start + i * dilation (i < kernel) with
    start = o * stride - padding. Return each window's first tap inside the input and
    how many of its taps are inside (the kernels skip the padding)."""
    start = np.arange(n_out) * stride - padding
    lo = (np.maximum(-start, 0) + dilation - 1) // dilation    # taps before index 0
    hi = np.minimum(kernel, (size - start + dilation - 1) // dilation)
    return start + lo * dilation, np.maximum(hi - lo, 0)


# ------------------------------------------------------------------ max pooling
class MaxPool2d(Function):
    # out = x read at the argmax positions  =>  dx = g scattered (added) to them.
    # The kernel finds the maxima and their positions in one pass (see max_pool2d);
    # this node records that selection for autograd.
    @staticmethod
    def forward(ctx, x, argmax, values):
        ctx.argmax, ctx.in_shape = argmax, x.shape
        return values

    @staticmethod
    def backward(ctx, g):
        return MaxPool2dScatter.apply(g, ctx.argmax, ctx.in_shape), None, None


def _as_planes(a):
    """(N, C, ...) -> (N * C, rest) (spelled out: numpy cannot infer -1 for 0 planes)."""
    return a.reshape(a.shape[0] * a.shape[1], int(np.prod(a.shape[2:])))


def _read_planes(g, index):
    """g (N, C, H, W) read, in each (n, c) plane, at the flat positions index[n, c]
    (shape (N, C, ...)); a differentiable gather (getitem)."""
    planes = np.arange(index.shape[0] * index.shape[1])[:, None]
    picked = getitem(_as_planes(g), (planes, _as_planes(index)))
    return reshape(picked, index.shape)


class MaxPool2dScatter(Function):
    # out = zeros(in_shape); out.flat[argmax] += g, per plane  =>  dg = gg read at argmax
    @staticmethod
    def forward(ctx, g, argmax, in_shape):
        ctx.argmax = argmax
        n, c, h, w = in_shape
        out = np.empty((n * c, h * w), dtype=g.dtype)
        with threads_for(out.size), span("scatter_add_planes"):
            kernels.scatter_add_planes(_as_planes(np.ascontiguousarray(g)),
                                       _as_planes(argmax), out)
        return out.reshape(in_shape)

    @staticmethod
    def backward(ctx, gg):
        return _read_planes(gg, ctx.argmax), None, None


def _max_over_windows(x, unbatched, taps, dilation, return_indices, op):
    """The max of every window given by taps = (h_first, h_count, w_first, w_count)
    (see _window_taps), with its flat index; shared by max_pool2d and
    adaptive_max_pool2d."""
    n, c = x.shape[:2]
    oh, ow = len(taps[0]), len(taps[2])
    values = np.empty((n * c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n * c, oh, ow), dtype=np.int64)
    lowest = -np.inf if x.dtype in _FLOATS else np.iinfo(x.dtype).min
    (h_first, h_count, w_first, w_count), (dh, dw) = taps, dilation
    with threads_for(x.numel()), span(f"{op}_forward"):
        kernels.max_pool2d_forward(_plane_stack(x._data), h_first, h_count, dh, w_first,
                                   w_count, dw, values, argmax, x.dtype.type(lowest))
    argmax = argmax.reshape(n, c, oh, ow)
    out = _unbatch(MaxPool2d.apply(x, argmax, values.reshape(n, c, oh, ow)), unbatched)
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
    taps = _window_taps(h, kh, sh, ph, dh, oh) + _window_taps(w, kw, sw, pw, dw, ow)
    return _max_over_windows(x, unbatched, taps, (dh, dw), return_indices, "max_pool2d")


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
        n, c = x.shape[:2]
        out = np.empty((n * c,) + windows.divisor.shape, dtype=x.dtype)
        with threads_for(x.size), span("box_mean_forward"):
            kernels.box_mean_forward(_plane_stack(x), *windows, out)
        return out.reshape((n, c) + windows.divisor.shape)

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
        n, c, h, w = in_shape
        out = np.empty((n * c, h, w), dtype=g.dtype)
        with threads_for(out.size), span("box_mean_adjoint"):
            kernels.box_mean_adjoint(_plane_stack(g), *windows, out)
        return out.reshape(in_shape)

    @staticmethod
    def backward(ctx, gg):
        return AvgPool2d.apply(gg, ctx.windows), None, None


def _padded_length(size, kernel, stride, padding, n_out):
    """Window lengths counting zero padding, but cut where the padding ends (a
    ceil_mode window can reach past it), as PyTorch's count_include_pad divisor."""
    start = np.arange(n_out) * stride - padding
    return np.minimum(start + kernel, size + padding) - start


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
    h_first, h_count = _window_taps(x.shape[2], k[0], s[0], p[0], 1, oh)
    w_first, w_count = _window_taps(x.shape[3], k[1], s[1], p[1], 1, ow)
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        divisor = np.full((oh, ow), float(divisor_override))
    elif count_include_pad:  # window length within the padded input
        h_len = _padded_length(x.shape[2], k[0], s[0], p[0], oh)
        w_len = _padded_length(x.shape[3], k[1], s[1], p[1], ow)
        divisor = np.outer(h_len, w_len).astype(np.float64)
    else:
        divisor = np.outer(h_count, w_count).astype(np.float64)
    out = AvgPool2d.apply(x, Windows(h_first, h_count, w_first, w_count, divisor))
    return _unbatch(out, unbatched)


def _adaptive_windows(x, output_size, op):
    """Windows that give exactly output_size (OH, OW): window i along an axis of length
    L covers [floor(i L / OH), ceil((i + 1) L / OH)), as PyTorch. An entry of None
    keeps that input size. Returns (h_first, h_count, w_first, w_count)."""
    size = (output_size, output_size) if isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    size = tuple(x.shape[2 + i] if v is None else int(v) for i, v in enumerate(size))
    if min(size) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"{op}: output_size and the input's spatial dims must be "
                         f"positive, got output_size {size} for input of shape {x.shape}")
    taps = ()
    for length, n_out in zip(x.shape[2:], size):
        i = np.arange(n_out)
        start, end = i * length // n_out, -((-(i + 1) * length) // n_out)  # floor, ceil
        taps += (start, end - start)
    return taps


def adaptive_avg_pool2d(input, output_size):
    """The mean of each adaptive window (torch.nn.functional.adaptive_avg_pool2d): the
    windows are sized and placed to give exactly output_size (see _adaptive_windows)."""
    x, unbatched = _planes(input, "adaptive_avg_pool2d")
    taps = _adaptive_windows(x, output_size, "adaptive_avg_pool2d")
    divisor = np.outer(taps[1], taps[3]).astype(np.float64)
    return _unbatch(AvgPool2d.apply(x, Windows(*taps, divisor)), unbatched)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max of each adaptive window (torch.nn.functional.adaptive_max_pool2d); with
    return_indices=True also each maximum's flat index h * W + w in its plane."""
    x, unbatched = _planes(input, "adaptive_max_pool2d", INTEGERS)
    taps = _adaptive_windows(x, output_size, "adaptive_max_pool2d")
    return _max_over_windows(x, unbatched, taps, (1, 1), return_indices,
                             "adaptive_max_pool2d")


# ------------------------------------------------------------------ unpooling
class MaxUnpool2d(Function):
    # out = zeros(out_shape); out.flat[indices] = x, per plane (a later write wins)
    # =>  dx = g read at indices (as PyTorch; the read's own backward is a scatter-add)
    @staticmethod
    def forward(ctx, x, indices, out_hw):
        ctx.indices = indices
        n, c = x.shape[:2]
        out = np.empty((n * c, out_hw[0] * out_hw[1]), dtype=x.dtype)
        with threads_for(out.size), span("scatter_planes"):
            kernels.scatter_planes(_as_planes(np.ascontiguousarray(x)),
                                   _as_planes(indices), out)
        return out.reshape((n, c) + tuple(out_hw))

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
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None else _pair(stride, "stride", op)
    out_hw = _unpool_size(op, x.shape, k, s, _pair(padding, "padding", op), output_size)
    bad = (idx < 0) | (idx >= out_hw[0] * out_hw[1])
    if bad.any():
        raise ShapeError(f"{op}: found an invalid max index {idx[bad].flat[0]}; the "
                         f"output planes have size {out_hw[0]}x{out_hw[1]}")
    return _unbatch(MaxUnpool2d.apply(x, np.ascontiguousarray(idx), out_hw), unbatched)


__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "max_unpool2d"]
