"""2-D convolution, its transpose, and its weight gradient: three ops that are each
other's derivatives.

    conv2d(x, w)                  y[n,o,oh,ow] = sum_{c,i,j} w[o,c,i,j] *
                                        x[n, c, oh*sH - pH + i*dH, ow*sW - pW + j*dW]
    conv_transpose2d(y, w)        the adjoint of conv2d in x:
                                        <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>
    conv2d_weight(x, w.shape, y)  the adjoint of conv2d in w:
                                        <conv2d(x, w), y> = <w, conv2d_weight(x, w.shape, y)>

Here <a, b> is the sum of a * b over all elements, and the adjoint of a linear map
A is the map A^T with <A x, y> = <x, A^T y> for every x and y -- for a matrix, its
transpose. Each op is linear in each argument, so its derivatives are the other two:

    conv2d:            dL/dx = conv_transpose2d(g, w)      dL/dw = conv2d_weight(x, g)
    conv_transpose2d:  dL/dy = conv2d(g, w)                dL/dw = conv2d_weight(g, y)
    conv2d_weight:     dL/dx = conv_transpose2d(y, G)      dL/dy = conv2d(x, G)

and every backward is made of differentiable ops: second derivatives (gradient
penalties, gradgradcheck) come for free.

How they compute (see minidl/kernels/im2col.py): im2col turns x into a matrix `cols`
of shape (C*KH*KW, N*OH*OW), one column per output pixel; then with the weight as a
matrix W (O, C*KH*KW) and the output as a matrix Y (O, N*OH*OW), each op is one GEMM
("general matrix multiply", the BLAS routine behind numpy's @; minidl/kernels/gemm.py
runs it on minidl's threads):

    conv2d:            Y = W @ cols
    conv_transpose2d:  cols = W^T @ Y,  then col2im adds the columns back into images
    conv2d_weight:     W = Y @ cols^T

With groups, channels split into `groups` independent blocks: W, cols and Y split
into row blocks, and each block is one of these matrix products.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..kernels import im2col as kernels, matmul, output, run_kernel, scratch
from ..tensor import Tensor, ShapeError, _FLOATS
from ..tools.trace import span
from .reduction import expand
from .arguments import int_tuple, add_batch_dim, drop_batch_dim
from .shape import pad, reshape, squeeze, unsqueeze


class Geometry(NamedTuple):
    """How the kernel slides: each a (height, width) pair, plus the channel groups."""
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation):
    """Output length of a transposed convolution along one axis (PyTorch's formula)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


# --------------------------------------------------------------------------------------
# The three matrix forms, on numpy arrays.
# --------------------------------------------------------------------------------------
def _im2col(x, kernel_hw, out_hw, geom, keep=False):
    """cols (C*KH*KW, N*OH*OW) for input x (N, C, H, W); in scratch memory unless
    `keep` (when the caller holds on to it beyond this call)."""
    (N, C), (KH, KW), (OH, OW) = x.shape[:2], kernel_hw, out_hw
    shape = (C, KH, KW, N, OH, OW)
    cols = output(shape, x.dtype) if keep else scratch("cols", shape, x.dtype)
    run_kernel(kernels.im2col, cols.size, np.ascontiguousarray(x), geom.stride,
               geom.padding, geom.dilation, cols)
    return cols.reshape(C * KH * KW, N * OH * OW)


def _as_rows(y, keep=False):
    """y (N, O, OH, OW) -> Y (O, N*OH*OW): output channels as matrix rows; in scratch
    memory unless `keep` (when the caller shares it between several ops)."""
    N, O, OH, OW = y.shape
    shape = (O, N, OH * OW)
    rows = output(shape, y.dtype) if keep else scratch("rows", shape, y.dtype)
    run_kernel(kernels.nchw_to_rows, rows.size,
               np.ascontiguousarray(y).reshape(N, O, OH * OW), rows)
    return rows.reshape(O, N * OH * OW)


def _split(matrix, groups):
    return np.split(matrix, groups) if groups > 1 else [matrix]  # row blocks (views)


def _conv2d(x, w, b, geom, out_hw, cols):
    """y = conv2d(x, w) + b, from cols = _im2col(x, ...)."""
    N, O, (OH, OW) = x.shape[0], w.shape[0], out_hw
    Y = scratch("rows", (O, N * OH * OW), x.dtype)
    W = np.ascontiguousarray(w).reshape(O, -1)
    with span("GEMM"):
        for Wg, cols_g, Yg in zip(_split(W, geom.groups), _split(cols, geom.groups),
                                  _split(Y, geom.groups)):
            matmul(Wg, cols_g, out=Yg)                 # Y = W @ cols
    y = output((N, O, OH, OW), x.dtype)
    bias = b if b is not None else np.zeros(O, x.dtype)
    run_kernel(kernels.rows_to_nchw, y.size, Y.reshape(O, N, OH * OW), bias,
               y.reshape(N, O, OH * OW))
    return y


def _conv_transpose2d(y, w, b, geom, out_hw, Y=None):
    """The input gradient of conv2d: y (N, O, OH, OW) -> x (N, C, *out_hw); Y is y in
    row layout, _as_rows(y), when the caller already has it."""
    N, (_, Cg, KH, KW), (OH, OW) = y.shape[0], w.shape, y.shape[2:]
    C = Cg * geom.groups
    Y = _as_rows(y) if Y is None else Y
    cols = scratch("cols", (C, KH, KW, N, OH, OW), y.dtype)
    W = np.ascontiguousarray(w).reshape(w.shape[0], -1)
    with span("GEMM"):
        for Wg, Yg, cols_g in zip(_split(W, geom.groups), _split(Y, geom.groups),
                                  _split(cols.reshape(C * KH * KW, -1), geom.groups)):
            matmul(Wg.T, Yg, out=cols_g)               # cols = W^T @ Y
    x = output((N, C) + tuple(out_hw), y.dtype)
    x[...] = 0 if b is None else b[:, None, None]         # col2im adds onto the bias
    run_kernel(kernels.col2im, cols.size, cols, geom.stride, geom.padding,
               geom.dilation, x)
    return x


def _conv2d_weight(x, y, weight_shape, geom, cols, Y=None):
    """The weight gradient of conv2d: input x (as cols = _im2col(x, ...)), output
    gradient y (as Y = _as_rows(y), if the caller has it) -> (O, C/g, KH, KW)."""
    Y = _as_rows(y) if Y is None else Y
    gw = np.empty((weight_shape[0], cols.shape[0] // geom.groups), x.dtype)
    with span("GEMM"):
        for Yg, cols_g, gw_g in zip(_split(Y, geom.groups), _split(cols, geom.groups),
                                    _split(gw, geom.groups)):
            matmul(Yg, cols_g.T, out=gw_g)             # W = Y @ cols^T
    return gw.reshape(weight_shape)


# --------------------------------------------------------------------------------------
# The Functions. Every one takes its output's spatial size explicitly, so a backward
# can ask for exactly the shape of the input it differentiates (strided convolutions
# may drop trailing input rows; transposed ones may add output_padding rows).
# --------------------------------------------------------------------------------------
class Conv2d(Function):
    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw, cols):
        # cols: im2col(x) when the caller already has it (ConvTranspose2d's backward)
        ctx.geom = geom
        ctx.save_for_backward(x, w)
        # the weight gradient needs im2col(x) again: keep it rather than recompute it
        keep = is_grad_enabled() and ctx.needs_input_grad[1]
        if cols is None:
            cols = _im2col(x, w.shape[2:], out_hw, geom, keep)
        ctx.cols = cols if keep else None
        return _conv2d(x, w, b, geom, out_hw, cols)

    @staticmethod
    def backward(ctx, g):
        # dL/dx = conv_transpose2d(g, w),  dL/dw = conv2d_weight(x, g),  dL/db = sum g
        # over (N, OH, OW). All three read g in row layout (O, N*OH*OW): made once here.
        x, w = ctx.saved_tensors
        rows = _as_rows(g._data, keep=True)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = ConvTranspose2d.apply(g, w, None, ctx.geom, x.shape[2:], rows)
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeight.apply(x, g, w.shape, ctx.geom, ctx.cols, rows)
        if ctx.needs_input_grad[2]:
            gb = BiasGrad.apply(g, rows)
        return gx, gw, gb, None, None, None


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, y, w, b, geom, out_hw, rows):
        # rows: _as_rows(y) when the caller already has it (Conv2d's backward)
        ctx.geom = geom
        ctx.save_for_backward(y, w)
        # the weight gradient needs y in row layout again: keep it rather than redo it
        keep = is_grad_enabled() and ctx.needs_input_grad[1]
        if rows is None and keep:
            rows = _as_rows(y, keep=True)
        ctx.rows = rows if keep else None
        return _conv_transpose2d(y, w, b, geom, out_hw, rows)

    @staticmethod
    def backward(ctx, g):
        # dL/dy = conv2d(g, w),  dL/dw = conv2d_weight(g, y),  dL/db = sum g
        y, w = ctx.saved_tensors
        gy = gw = gb = None
        cols = None  # im2col(g), computed once when both gradients need it
        if ctx.needs_input_grad[0] and ctx.needs_input_grad[1]:
            cols = _im2col(g._data, w.shape[2:], y.shape[2:], ctx.geom, keep=True)
        if ctx.needs_input_grad[0]:
            gy = Conv2d.apply(g, w, None, ctx.geom, y.shape[2:], cols)
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeight.apply(g, y, w.shape, ctx.geom, cols, ctx.rows)
        if ctx.needs_input_grad[2]:
            gb = BiasGrad.apply(g, None)
        return gy, gw, gb, None, None, None


class Conv2dWeight(Function):
    @staticmethod
    def forward(ctx, x, y, weight_shape, geom, cols, rows):
        # cols: im2col(x), rows: _as_rows(y), when the caller already has them (Conv2d's
        # backward does)
        ctx.geom = geom
        ctx.save_for_backward(x, y)
        if cols is None:
            cols = _im2col(x, weight_shape[2:], y.shape[2:], geom)
        return _conv2d_weight(x, y, weight_shape, geom, cols, rows)

    @staticmethod
    def backward(ctx, G):
        # <G, conv2d_weight(x, y)> = <conv2d(x, G), y> = <x, conv_transpose2d(y, G)>
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = ConvTranspose2d.apply(y, G, None, ctx.geom, x.shape[2:], None)
        if ctx.needs_input_grad[1]:
            gy = Conv2d.apply(x, G, None, ctx.geom, y.shape[2:], None)
        return gx, gy, None, None, None, None


class BiasGrad(Function):
    # a convolution's bias gradient: g (N, O, OH, OW) summed over all but the channel
    # axis. Read from g's row layout (O, N*OH*OW), each channel's sum is one contiguous
    # row -- from NCHW, numpy's sum over axes (0, 2, 3) is several times slower.
    # d/dg: every g[n, o, h, w] gets G[o] (broadcast back).
    @staticmethod
    def forward(ctx, g, rows):
        ctx.shape = g.shape
        if rows is None:  # no row layout at hand: sum each (n, o) plane, then over n
            N, O, H, W = g.shape
            return g.reshape(N, O, H * W).sum(axis=2).sum(axis=0)
        return rows.sum(axis=1)

    @staticmethod
    def backward(ctx, G):
        return expand(G.reshape(1, -1, 1, 1), ctx.shape), None


# --------------------------------------------------------------------------------------
# Public functions (torch.nn.functional signatures): argument checks, then a Function.
# --------------------------------------------------------------------------------------
def _check_types(op, ndim, **tensors):
    """Tensors, floating point, one dtype, `ndim`-D: the checks every op here shares."""
    for name, t in tensors.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    given = {name: t for name, t in tensors.items() if t is not None}
    dtypes = ", ".join(f"{name} {t.dtype}" for name, t in given.items())
    if any(t.dtype not in _FLOATS for t in given.values()):
        raise TypeError(f"{op}: expected floating-point tensors (float32 or float64), "
                        f"got {dtypes}")
    if len({t.dtype for t in given.values()}) > 1:
        raise TypeError(f"{op}: expected {', '.join(given)} of one dtype, got {dtypes}; "
                        "convert with .float() or .double()")
    layouts = {4: "(N, C, H, W) or a 3-D unbatched (C, H, W)",
               3: "(N, C, L) or a 2-D unbatched (C, L)"}
    for name, t in given.items():
        if name != "bias" and t.ndim != ndim:
            shape = layouts[ndim] if name == "input" else ""
            raise ShapeError(f"{op}: expected a {ndim}-D {name} {shape}, got shape "
                             f"{t.shape}")


def _check_channels(op, x, w, b, groups, transposed):
    """conv2d: weight (O, C/groups, KH, KW); conv_transpose2d: (C, O/groups, KH, KW)."""
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if transposed:
        in_channels, out_channels = w.shape[0], w.shape[1] * groups
    else:
        in_channels, out_channels = w.shape[1] * groups, w.shape[0]
    if w.shape[0] % groups:
        raise ShapeError(f"{op}: groups={groups} must divide the weight's first "
                         f"dimension, got weight of shape {w.shape}")
    if x.shape[1] != in_channels:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels, but "
                         f"weight of shape {w.shape} with groups={groups} expects "
                         f"{in_channels}")
    if b is not None and b.shape != (out_channels,):
        raise ShapeError(f"{op}: weight of shape {w.shape} needs a bias of shape "
                         f"({out_channels},), got {b.shape}")


def _same_padding(x, kernel_hw, dilation):
    """padding='same': total padding d*(k-1) per axis, the odd unit on the right/bottom
    (as PyTorch). Returns the (possibly padded) input and the symmetric padding left."""
    totals = [d * (k - 1) for k, d in zip(kernel_hw, dilation)]
    left = tuple(t // 2 for t in totals)
    extra = [t - 2 * l for t, l in zip(totals, left)]
    if any(extra):
        x = pad(x, (0, extra[1], 0, extra[0]))
    return x, left


def _check_fits(op, x_shape, w_shape, padding, dilation):
    """The dilated kernel must fit inside the padded input, along every spatial dim."""
    padded = tuple(s + 2 * p for s, p in zip(x_shape[2:], padding))
    span = tuple(d * (k - 1) + 1 for k, d in zip(w_shape[2:], dilation))
    if any(p < k for p, k in zip(padded, span)):
        raise ShapeError(f"{op}: padded input size {padded} (input {x_shape}, padding "
                         f"{padding}) is smaller than the dilated kernel size {span} "
                         f"(weight {w_shape}, dilation {dilation}); the kernel must fit "
                         "inside the padded input")


def _string_padding(op, padding, stride):
    """padding='valid' or 'same' (stride 1 only, as PyTorch); None for numbers."""
    if not isinstance(padding, str):
        return None
    if padding not in ("valid", "same"):
        raise ShapeError(f"{op}: padding must be 'valid', 'same', an int or a tuple of "
                         f"ints, got {padding!r}")
    if padding == "same" and any(s != 1 for s in stride):
        raise ShapeError(f"{op}: padding='same' is not supported for strided "
                         f"convolutions (got stride={stride})")
    return padding


def _conv_arguments(op, n, x, weight, bias, stride, padding, dilation, groups):
    """Check an n-D convolution's tensors and arguments (x already batched); return
    stride, padding and dilation as tuples with one entry per spatial dim ('valid' /
    'same' padding stays a string)."""
    _check_types(op, n + 2, input=x, weight=weight, bias=bias)
    _check_channels(op, x, weight, bias, groups, transposed=False)
    stride = int_tuple(stride, n, "stride", op, 1)
    dilation = int_tuple(dilation, n, "dilation", op, 1)
    padding = (_string_padding(op, padding, stride)
               or int_tuple(padding, n, "padding", op, 0))
    if not isinstance(padding, str):
        _check_fits(op, x.shape, weight.shape, padding, dilation)
    return stride, padding, dilation


def _convolve(x, w, b, stride, padding, dilation, groups):
    """conv2d of checked 4-D arrays; padding is a pair or 'valid' / 'same'."""
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        x, padding = _same_padding(x, w.shape[2:], dilation)
    geom = Geometry(stride, padding, dilation, int(groups))
    out_hw = tuple(conv_output_size(s, k, st, p, d) for s, k, st, p, d in
                   zip(x.shape[2:], w.shape[2:], stride, padding, dilation))
    return Conv2d.apply(x, w, b, geom, out_hw, None)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution, as torch.nn.functional.conv2d.

    input (N, C, H, W) or (C, H, W); weight (O, C/groups, KH, KW); bias (O,) or None;
    padding an int, a pair, 'valid' (no padding) or 'same' (output size = input size,
    stride 1 only). Output (N, O, OH, OW) with OH = (H + 2p - d(KH-1) - 1) // s + 1.
    """
    x, unbatched = add_batch_dim(input, 3)
    stride, padding, dilation = _conv_arguments("conv2d", 2, x, weight, bias, stride,
                                                padding, dilation, groups)
    y = _convolve(x, weight, bias, stride, padding, dilation, groups)
    return drop_batch_dim(y, unbatched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, as torch.nn.functional.conv1d: conv2d of a one-row image.

    input (N, C, L) or (C, L); weight (O, C/groups, K); bias (O,) or None; padding an
    int, 'valid' or 'same'. Output (N, O, OL) with OL = (L + 2p - d(K-1) - 1) // s + 1.
    (N, C, L) is run as (N, C, 1, L) with a (O, C/groups, 1, K) kernel, so the im2col
    machinery, the backward ops and their derivatives are conv2d's.
    """
    x, unbatched = add_batch_dim(input, 2)
    stride, padding, dilation = _conv_arguments("conv1d", 1, x, weight, bias, stride,
                                                padding, dilation, groups)
    padding = padding if isinstance(padding, str) else (0,) + padding
    y = _convolve(unsqueeze(x, 2), unsqueeze(weight, 2), bias, (1,) + stride, padding,
                  (1,) + dilation, groups)
    return drop_batch_dim(squeeze(y, 2), unbatched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-D convolution, as torch.nn.functional.conv_transpose2d (note
    PyTorch's argument order: groups before dilation).

    input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, KH, KW); bias
    (C_out,) or None. Output (N, C_out, OH, OW) with
    OH = (H - 1)s - 2p + d(KH - 1) + output_padding + 1.
    """
    op = "conv_transpose2d"
    x, unbatched = add_batch_dim(input, 3)
    w, b = weight, bias
    _check_types(op, 4, input=x, weight=w, bias=b)
    _check_channels(op, x, w, b, groups, transposed=True)
    stride = int_tuple(stride, 2, "stride", op, 1)
    padding = int_tuple(padding, 2, "padding", op, 0)
    output_padding = int_tuple(output_padding, 2, "output_padding", op, 0)
    dilation = int_tuple(dilation, 2, "dilation", op, 1)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding must be smaller than either stride or "
                         f"dilation, got output_padding={output_padding}, "
                         f"stride={stride}, dilation={dilation}")
    out_hw = tuple(conv_transpose_output_size(s, k, st, p, o, d) for s, k, st, p, o, d in
                   zip(x.shape[2:], w.shape[2:], stride, padding, output_padding,
                       dilation))
    if min(out_hw) < 1:
        raise ShapeError(f"{op}: output size {out_hw} is not positive (input {x.shape}, "
                         f"weight {w.shape}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}); use less padding")
    geom = Geometry(stride, padding, dilation, int(groups))
    return drop_batch_dim(ConvTranspose2d.apply(x, w, b, geom, out_hw, None),
                          unbatched)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                  groups=1):
    """The gradient of conv2d with respect to its weight, as torch.nn.grad.conv2d_weight:
    given conv2d's input (N, C, H, W) and the gradient of its output (N, O, OH, OW),
    returns dL/dweight of shape weight_size = (O, C/groups, KH, KW)."""
    op = "conv2d_weight"
    weight_size = tuple(int(s) for s in weight_size)
    x, y = input, grad_output
    if len(weight_size) != 4:
        raise ShapeError(f"{op}: weight_size must have 4 entries (O, C/groups, KH, KW), "
                         f"got {weight_size}")
    _check_types(op, 4, input=x, grad_output=y)
    stride = int_tuple(stride, 2, "stride", op, 1)
    padding = int_tuple(padding, 2, "padding", op, 0)
    dilation = int_tuple(dilation, 2, "dilation", op, 1)
    if not isinstance(groups, (int, np.integer)) or groups < 1 or weight_size[0] % groups:
        raise ValueError(f"{op}: groups must be a positive int dividing the output "
                         f"channels of weight_size {weight_size}, got {groups!r}")
    if x.shape[1] != weight_size[1] * groups:
        raise ShapeError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels, but "
                         f"weight_size {weight_size} with groups={groups} expects "
                         f"{weight_size[1] * groups}")
    expected = (x.shape[0], weight_size[0]) + tuple(
        conv_output_size(s, k, st, p, d) for s, k, st, p, d in
        zip(x.shape[2:], weight_size[2:], stride, padding, dilation))
    if y.shape != expected:
        raise ShapeError(f"{op}: grad_output has shape {y.shape}, but conv2d of an input "
                         f"{x.shape} with a weight {weight_size} gives {expected}")
    geom = Geometry(stride, padding, dilation, int(groups))
    return Conv2dWeight.apply(x, y, weight_size, geom, None, None)
