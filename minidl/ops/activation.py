"""Activation functions and (log-)softmax.

relu, leaky_relu, elu, sigmoid, tanh, erf, softplus and the softmaxes are Functions
with their derivative written next to them; silu and gelu are built from those, so
autograd derives them (and their second derivatives) by itself.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import Function
from ..kernels.special import erf as _erf_kernel
from ..tensor import Tensor
from ..errors import NotImplementedForDType
from .arithmetic import float_input, exp, where, cast, unary_input
from .reduction import sum, normalize_dims


class ReLU(Function):
    # d/dx max(x, 0) = 1 if x > 0 else 0
    @staticmethod
    def forward(ctx, x):
        ctx.mask = x > 0
        return np.maximum(x, x.dtype.type(0))  # (NaN stays NaN, as in PyTorch)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.mask)


class LeakyReLU(Function):
    # d/dx = 1 if x > 0 else negative_slope
    @staticmethod
    def forward(ctx, x, negative_slope):
        one, slope = x.dtype.type(1), x.dtype.type(negative_slope)  # (in x's dtype)
        ctx.slope = np.where(x > 0, one, slope)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.slope), None


class ELU(Function):
    # y = x if x > 0 else alpha (e^x - 1);   dy/dx = 1 if x > 0 else y + alpha
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.positive = x > 0
        ctx.alpha = alpha
        out = np.where(ctx.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return where(Tensor(ctx.positive), g, g * (out + ctx.alpha)), None


class Sigmoid(Function):
    # s = 1 / (1 + e^-x);   ds/dx = s (1 - s)
    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # never overflows
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
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
        out = np.tanh(x)
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


def relu(x):
    return ReLU.apply(float_input(x, "relu"))


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(float_input(x, "leaky_relu"), negative_slope)


def elu(x, alpha=1.0):
    return ELU.apply(float_input(x, "elu"), alpha)


def sigmoid(x):
    return Sigmoid.apply(float_input(x, "sigmoid"))


def tanh(x):
    return Tanh.apply(float_input(x, "tanh"))


def erf(x):
    return Erf.apply(float_input(x, "erf"))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)."""
    return Softplus.apply(float_input(x, "softplus"), beta, threshold)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    x = float_input(x, "silu")
    return x * sigmoid(x)


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as PyTorch."""
    x = float_input(x, "gelu")
    if approximate == "none":
        return x * 0.5 * (1 + erf(x * (1 / math.sqrt(2))))
    if approximate == "tanh":
        return x * 0.5 * (1 + tanh((x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# ------------------------------------------------------------------ softmax family
class Softmax(Function):
    # s = e^(x - max) / sum(e^(x - max));   d/dx softmax: s * (g - sum(g * s))
    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
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
        shifted = x - np.max(x, axis=dim, keepdims=True)
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
    if x.ndim == 0:  # the softmax of one number is 1
        return softmax(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, d)


def log_softmax(x, dim=None, _stacklevel=3, dtype=None):
    x, d = _softmax_args(x, dim, dtype, "log_softmax", _stacklevel)
    if x.ndim == 0:  # the log_softmax of one number is 0
        return log_softmax(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, d)


def _softmax_args(x, dim, dtype, op, stacklevel):
    """The input (in dtype, or float) and the dim to normalise over."""
    x = unary_input(x, op)
    if dtype is None and x.dtype.kind != "f":
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
