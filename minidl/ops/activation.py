"""Activation functions and (log-)softmax.

relu, leaky_relu, elu (with selu and celu), sigmoid, logsigmoid, tanh, erf, softplus,
the hard family (hardtanh, relu6, hardsigmoid, hardswish) and the softmaxes are
Functions with their derivative written next to them; silu, gelu, mish, softsign,
softmin and normalize are built from those, so autograd derives them (and their
second derivatives) by itself.

dtypes follow PyTorch: hardtanh and relu6 keep integer tensors integer (no gradient
flows into integers); selu, celu, logsigmoid, hardsigmoid, hardswish, mish and
normalize refuse them, as PyTorch does; softsign turns them into float32.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import Function
from ..kernels import activation as kernels, output, run_kernel, scratch
from ..kernels.special import erf as _erf_kernel
from ..errors import NotImplementedForDType

# ops/pooling.py imports PyTorch's "not implemented for 'Long'" error by this name
DTypeError = NotImplementedForDType
from ..tensor import Tensor
from .arithmetic import (float_input, floats_only, unary_input, exp, where, abs as _abs,
                         clamp, cast, scalar_in_dtype, big_output)
from .reduction import sum, normalize_dims, vector_norm


class ReLU(Function):
    # y = max(x, 0);  d/dx = 0 where y <= 0, else 1 (also at NaN, as PyTorch's test)
    # forward also writes that test's answer as a boolean mask, which backward reads
    # instead of y (a quarter of the bytes); y is saved as PyTorch saves it, so an
    # in-place edit of y before backward is still an error
    @staticmethod
    def forward(ctx, x):
        out, ctx.on = output(x.shape, x.dtype), output(x.shape, np.bool_)
        run_kernel(kernels.relu, x.size, _flat(x), out.reshape(-1),
                   ctx.on.reshape(-1))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # (checks that y was not edited in place)
        return SlopeMask.apply(g, ctx.on, None)


class LeakyReLU(Function):
    # y = x if x > 0 else slope * x;  d/dx = 1 if x > 0 else slope
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = x.dtype.type(negative_slope)  # (in x's dtype)
        return _elementwise(kernels.leaky_relu, x, ctx.slope)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return SlopeMask.apply(g, x._data, ctx.slope), None


class SlopeMask(Function):
    # the gradients of ReLU and LeakyReLU (kernels/activation.py), ref a constant:
    #   slope None (ReLU):  out = 0 where ref <= 0, else g       (ref: ReLU's output)
    #   slope s (LeakyReLU): out = g where ref > 0, else s * g   (ref: its input)
    # Linear in g, so it is its own derivative.
    @staticmethod
    def forward(ctx, g, ref, slope):
        ctx.ref, ctx.slope = np.ascontiguousarray(ref).reshape(-1), slope
        if slope is None:
            return _elementwise(kernels.relu_grad, g, ctx.ref)
        return _elementwise(kernels.leaky_relu_grad, g, ctx.ref, g.dtype.type(slope))

    @staticmethod
    def backward(ctx, gg):
        return SlopeMask.apply(gg, ctx.ref, ctx.slope), None, None


def _elementwise(kernel, x, *args):
    """kernel(x, *args, out) on flat views (kernels/activation.py); out shaped as x."""
    out = output(x.shape, x.dtype)
    run_kernel(kernel, x.size, _flat(x), *args, out.reshape(-1))
    return out


def _flat(x):
    return np.asarray(x, order="C").reshape(-1)


class ELU(Function):
    # y = scale * x                                  if x > 0
    #     scale * alpha * (e^(input_scale * x) - 1)  otherwise
    # dy/dx = scale if x > 0 else input_scale * (y + scale * alpha)  (NaN at NaN)
    # (elu: scale = input_scale = 1; selu: fixed alpha and scale; celu: input_scale = 1/alpha)
    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.positive, ctx.negative = x > 0, x < 0
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        negative = scale * alpha * np.expm1(input_scale * np.minimum(x, 0))
        out = np.where(ctx.positive, scale * x, negative).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        # y is 0 at x = 0 either way; masking it there makes the second derivative 0 at
        # x = 0, as PyTorch's (its first derivative there takes the x < 0 branch)
        y = out * Tensor(ctx.negative)
        below = g * ((y + ctx.scale * ctx.alpha) * ctx.input_scale)
        return where(Tensor(ctx.positive), g * ctx.scale, below), None, None, None


class Sigmoid(Function):
    # s = 1 / (1 + e^-x);   ds/dx = s (1 - s)
    @staticmethod
    def forward(ctx, x):
        # e = e^-|x| (never overflows) by numpy's vectorised exp, in place in a scratch
        # buffer (a numpy temporary of a big batch would be fresh memory, page-faulted
        # in: kernels/memory.py); then s = 1 / (1 + e) for x >= 0, else e / (1 + e)
        e = scratch("sigmoid", x.shape, x.dtype)
        np.exp(np.negative(np.abs(x, out=e), out=e), out=e)
        out = _elementwise(kernels.sigmoid_from_exp, x, e.reshape(-1))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        s, = ctx.saved_tensors
        return g * s * (1 - s)


class Tanh(Function):
    # d/dx tanh(x) = 1 - tanh(x)^2
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x, out=big_output(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        t, = ctx.saved_tensors
        return g * (1 - t * t)


class Erf(Function):
    # d/dx erf(x) = 2/sqrt(pi) e^(-x^2)
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf_kernel(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * exp(-x * x)


class Softplus(Function):
    # y = log(1 + e^(beta x)) / beta, computed as (max(z, 0) + log1p(e^-|z|)) / beta with
    # z = beta x, which never overflows;  dy/dx = sigmoid(beta x)  (1 past the threshold)
    @staticmethod
    def forward(ctx, x, beta, threshold):
        z = x * beta
        ctx.save_for_backward(x)
        ctx.beta, ctx.linear = beta, z > threshold
        smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
        return np.where(ctx.linear, x, smooth).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return where(Tensor(ctx.linear), g, g * sigmoid(x * ctx.beta)), None, None


class Threshold(Function):
    # y = x if x > threshold else value;   dy/dx = 1 if x > threshold else 0
    # (NaN stays NaN and passes its gradient, as PyTorch's `x <= threshold` test)
    @staticmethod
    def forward(ctx, x, threshold, value):  # (both numbers already in x's dtype)
        ctx.keep = ~(x <= threshold)
        return np.where(ctx.keep, x, value)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.keep), None, None


# ------------------------------------------------------------------ the functions
# Each takes PyTorch's arguments. `inplace=True` (where PyTorch has it) writes the
# result into the input and returns the input, as PyTorch's relu_ etc.: through
# Tensor._inplace, which records the edit in the graph when gradients flow and
# refuses, as PyTorch does, a leaf that requires grad.
def relu(input, inplace=False):  # noqa: A002  (PyTorch's names)
    """max(x, 0). Integer tensors stay integer (as in PyTorch); bool is refused."""
    x = _no_bool(input, "relu")
    return x._inplace(relu) if inplace else ReLU.apply(x)


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else value. Integer tensors stay integer."""
    x = _no_bool(input, "threshold")
    if inplace:
        return x._inplace(_threshold, threshold, value)
    return Threshold.apply(x, scalar_in_dtype(threshold, x.dtype, "threshold", "threshold"),
                           scalar_in_dtype(value, x.dtype, "threshold"))


_threshold = threshold  # (the function, where its argument hides the name)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    x = floats_only(input, "leaky_relu")
    if inplace:
        return x._inplace(leaky_relu, negative_slope)
    return LeakyReLU.apply(x, negative_slope)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    x = floats_only(input, "elu")
    return x._inplace(elu, alpha) if inplace else ELU.apply(x, alpha, 1.0, 1.0)


def sigmoid(input):  # noqa: A002
    """1 / (1 + e^-x); integer and bool tensors give float32 (as in PyTorch)."""
    return Sigmoid.apply(float_input(input, "sigmoid"))


def tanh(input):  # noqa: A002
    return Tanh.apply(float_input(input, "tanh"))


def erf(input):  # noqa: A002
    return Erf.apply(float_input(input, "erf"))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    return Softplus.apply(floats_only(input, "softplus"), beta, threshold)


def silu(input, inplace=False):  # noqa: A002
    """x * sigmoid(x) (also called swish)."""
    x = floats_only(input, "silu")
    return x._inplace(silu) if inplace else x * sigmoid(x)


def gelu(input, approximate="none"):  # noqa: A002
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch."""
    x = floats_only(input, "gelu")
    if approximate == "none":
        return x * 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return x * 0.5 * (1 + tanh((x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _no_bool(input, op: str) -> Tensor:  # noqa: A002
    """The input of relu, threshold and the hard clamps: any dtype but bool."""
    x = unary_input(input, op)
    if x.dtype == np.bool_:
        raise NotImplementedForDType(f"{op}: bool inputs are not supported (as in "
                                     "PyTorch); convert with .float() or .long()")
    return x


# ------------------------------------------------------------------ SELU and CELU
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):  # noqa: A002
    """scale * elu(x, alpha) with PyTorch's constants (self-normalising networks)."""
    x = floats_only(input, "selu")
    return x._inplace(selu) if inplace else ELU.apply(x, SELU_ALPHA, SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """max(0, x) + min(0, alpha * (e^(x / alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    x = floats_only(input, "celu")
    return x._inplace(celu, alpha) if inplace else ELU.apply(x, alpha, 1.0, 1.0 / alpha)


# ------------------------------------------------------------------ the hard family
class Hardtanh(Function):
    # y = min(max(x, min_val), max_val);   dy/dx = 1 if min_val < x < max_val else 0
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        ctx.inside = (x > min_val) & (x < max_val)
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.inside), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """x clipped to [min_val, max_val]; integer tensors stay integer (as PyTorch)."""
    x = _no_bool(input, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got "
                         f"min_val={min_val}, max_val={max_val}")
    if x.dtype.kind == "u" and int(min_val) < 0:  # (PyTorch truncates the limit first)
        raise NotImplementedForDType(f"hardtanh: cannot use negative limits on an "
                                     f"unsigned {x.dtype} tensor, got min_val={min_val}")
    if inplace:
        return x._inplace(hardtanh, min_val, max_val)
    return Hardtanh.apply(x, min_val, max_val)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(x, 0), 6) = hardtanh(x, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Hardsigmoid(Function):
    # y = min(max(x + 3, 0), 6) / 6;   dy/dx = 1/6 if -3 < x < 3 else 0
    @staticmethod
    def forward(ctx, x):
        ctx.inside = (x > -3) & (x < 3)
        return np.clip(x + 3, 0, 6) / x.dtype.type(6)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.inside) / 6


def hardsigmoid(input, inplace=False):  # noqa: A002
    """A piecewise-linear sigmoid: 0 below -3, 1 above 3, x / 6 + 1/2 between."""
    x = floats_only(input, "hardsigmoid")
    return x._inplace(hardsigmoid) if inplace else Hardsigmoid.apply(x)


class Hardswish(Function):
    # y = x * min(max(x + 3, 0), 6) / 6
    # dy/dx = 0 if x <= -3;  x / 3 + 1/2 if -3 < x < 3 (NaN at NaN);  1 if x >= 3:
    # PyTorch's edges
    @staticmethod
    def forward(ctx, x):
        ctx.middle, ctx.above = ~((x <= -3) | (x >= 3)), x >= 3
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # (-inf * 0: NaN, as PyTorch)
            return x * np.clip(x + 3, 0, 6) / x.dtype.type(6)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        slope = where(Tensor(ctx.middle), x / 3 + 0.5, Tensor(ctx.above).to(x.dtype))
        return g * slope


def hardswish(input, inplace=False):  # noqa: A002
    """x * hardsigmoid(x) (MobileNetV3's cheap swish)."""
    x = floats_only(input, "hardswish")
    return x._inplace(hardswish) if inplace else Hardswish.apply(x)


# ------------------------------------------------------------------ smooth ones
class LogSigmoid(Function):
    # y = log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|)  (never overflows)
    # dy/dx = 1 - sigmoid(x) = sigmoid(-x)
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * sigmoid(-x)


def logsigmoid(input):
    """log(1 / (1 + e^-x)), computed without overflow."""
    return LogSigmoid.apply(floats_only(input, "logsigmoid"))


def mish(input, inplace=False):  # noqa: A002
    """x * tanh(softplus(x));  d/dx = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)."""
    x = floats_only(input, "mish")
    return x._inplace(mish) if inplace else x * tanh(softplus(x))


def softsign(input):
    """x / (1 + |x|);  d/dx = 1 / (1 + |x|)^2. Integer tensors give float32."""
    x = unary_input(input, "softsign")
    if x.dtype == np.bool_:
        raise NotImplementedForDType("softsign: bool tensors are not supported (as in "
                                     "PyTorch)")
    x = float_input(x, "softsign")
    return x / (_abs(x) + 1)


# ------------------------------------------------------------------ softmax family
class Softmax(Function):
    # s = e^(x - max) / sum(e^(x - max));   d/dx softmax: s * (g - sum(g * s))
    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True, initial=-np.inf))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        s, = ctx.saved_tensors
        return s * (g - sum(g * s, ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    # y = x - max - log(sum(e^(x - max)));   d/dx: g - softmax(x) * sum(g)
    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - np.max(x, axis=dim, keepdims=True, initial=-np.inf)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - exp(y) * sum(g, ctx.dim, keepdim=True), None


def softmax(x, dim=None, _stacklevel=3, dtype=None):
    """e^x / sum(e^x) along dim. Without dim, PyTorch's old implicit choice (dim 0 for
    0-, 1- and 3-d input, else 1) with its deprecation warning."""
    x, d = _softmax_args(x, dim, dtype, "softmax", _stacklevel)
    if x.dtype.kind != "f":  # (empty: PyTorch gives it back in its own dtype)
        return x.clone()
    if x.ndim == 0:  # the softmax of one number is 1
        return softmax(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, d)


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_args(x, dim, dtype, "log_softmax", _stacklevel)
    if x.dtype.kind != "f":  # (empty: PyTorch gives it back in its own dtype)
        return x.clone()
    if x.ndim == 0:  # the log_softmax of one number is 0
        return log_softmax(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, d)


def _softmax_args(x, dim, dtype, op, stacklevel):
    """The input (in dtype, or float) and the dim to normalise over."""
    x = unary_input(x, op)
    if dtype is None and x.dtype.kind != "f" and x.numel():  # (PyTorch lets an empty
        # integer tensor through, in its own dtype)
        raise NotImplementedForDType(f"{op}: not implemented for {x.dtype} tensors; "
                                     f"pass dtype=minidl.float32 or convert with .float()")
    x = x if dtype is None else cast(x, dtype)
    if dim is None:
        dim = implicit_softmax_dim(op, x.ndim, stacklevel + 1)
    dims = normalize_dims(dim, x.ndim, op)
    return x, (dims[0] if dims else 0)


def implicit_softmax_dim(op: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's rule for softmax without dim (kept for old code; it warns)."""
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the "
                  "call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim: the smallest entries get the largest weights. dtype casts
    the input first (as PyTorch)."""
    x = unary_input(input, "softmin")
    if dtype is not None:
        x = cast(x, dtype)
    if dim is None:
        dim = implicit_softmax_dim("softmin", x.ndim, _stacklevel)
    return softmax(-x, dim)


# ------------------------------------------------------------------ normalize
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim (torch.nn.functional.normalize): unit vectors,
    and a zero vector stays zero."""
    # y = x / max(n, eps) with n = (sum |x|^p)^(1/p); autograd derives the rest
    x = floats_only(input, "normalize")
    dims = normalize_dims(dim, x.ndim, "normalize")
    result = x / clamp(vector_norm(x, float(p), dims, keepdim=True), min=eps)
    if out is None:
        return result
    if result.requires_grad:
        raise RuntimeError("normalize: out= does not support automatic differentiation "
                           "(as in PyTorch); use the returned tensor")
    if tuple(out.shape) != result.shape:
        raise ValueError(f"normalize: out has shape {out.shape}, expected {result.shape}")
    return out.copy_(result)
