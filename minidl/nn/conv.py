"""Conv2d and ConvTranspose2d: the convolution layers, with PyTorch's parameters.

    Conv2d           weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,)
    ConvTranspose2d  weight (in_channels, out_channels/groups, kH, kW), bias (out_channels,)

Both start from PyTorch's default initialisation, kaiming_uniform_(a=sqrt(5)) for
the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, where fan_in is
weight.shape[1] * kH * kW (for the transposed layer too, as PyTorch computes it).
The math and its derivatives live in minidl/ops/conv.py.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops.conv import conv_transpose_output_size
from ..tensor import Tensor, ShapeError, float32
from . import init
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _pair(value, name, layer):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(int(v) for v in pair)


def _pad_index(n, before, after, mode):
    """Source index of each position of an axis of length n padded by (before, after):
    'circular' wraps around, 'replicate' repeats the edge, 'reflect' mirrors at it."""
    i = np.arange(-before, n + after)
    if mode == "circular":
        return i % n
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    i = np.abs(i)                           # reflect: -1 -> 1, ..., n -> n - 2
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: arguments, parameters, init and repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding,
                 dilation, transposed, output_padding, groups, bias, padding_mode,
                 dtype):
        super().__init__()
        layer = type(self).__name__
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{layer}: out_channels ({out_channels}) must be divisible "
                             f"by groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{layer}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", layer)
        self.stride = _pair(stride, "stride", layer)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{layer}: padding must be 'valid', 'same', an int or a "
                                 f"pair of ints, got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{layer}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", layer)
        self.dilation = _pair(dilation, "dilation", layer)
        self.transposed = transposed
        self.output_padding = _pair(output_padding, "output_padding", layer)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = float32 if dtype is None else dtype
        shape = ((in_channels, out_channels // groups) if transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_init_(self.weight, self.bias)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._name()}: expected a Tensor input, got "
                            f"{type(x).__name__}")
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ShapeError(f"{self._name()}: expected input "
                             f"of shape (N, {self.in_channels}, H, W) or "
                             f"({self.in_channels}, H, W), got {x.shape}")

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros'): (N, C_in, H, W) -> (N, C_out, OH, OW).

    padding may be an int, a pair, 'valid' or 'same'; padding_mode 'reflect',
    'replicate' or 'circular' pads with those values instead of zeros."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, False, 0, groups, bias, padding_mode, dtype)

    def forward(self, x):
        self._check_input(x)
        if self.padding_mode == "zeros":
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                            self.dilation, self.groups)
        return F.conv2d(self._pad(x), self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)

    def _pad(self, x):
        """Non-zero padding modes: gather the padded input with index arrays (so the
        gradient flows back through getitem's scatter-add)."""
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            widths = [(t // 2, t - t // 2) for t in totals]
        else:
            widths = [(p, p) for p in ((0, 0) if self.padding == "valid" else self.padding)]
        for axis, (before, after) in zip((-2, -1), widths):
            n = x.shape[axis]
            if self.padding_mode == "reflect" and max(before, after) >= n:
                raise ShapeError(f"{self._name()}: reflect "
                                 f"padding {max(before, after)} must be smaller than the "
                                 f"input size {n} (input {x.shape})")
            index = [slice(None)] * x.ndim
            index[axis] = _pad_index(n, before, after, self.padding_mode)
            x = x[tuple(index)]
        return x


class ConvTranspose2d(_ConvNd):
    """ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
    output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros'):
    the transpose (gradient) of Conv2d, (N, C_in, H, W) -> (N, C_out, OH, OW) with
    OH = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.

    forward(input, output_size=None): output_size picks the output_padding that
    gives that size (strided convolutions map several sizes to one)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1,
                 padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair of ints, "
                             f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, True, output_padding, groups, bias, padding_mode,
                         dtype)

    def forward(self, x, output_size=None):
        self._check_input(x)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  output_padding, self.groups, self.dilation)

    def _output_padding_for(self, x, output_size):
        size = tuple(int(s) for s in output_size)[-2:]
        smallest = tuple(conv_transpose_output_size(n, k, s, p, 0, d) for n, k, s, p, d in
                         zip(x.shape[-2:], self.kernel_size, self.stride, self.padding,
                             self.dilation))
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if len(size) != 2 or not all(lo <= n <= hi for n, lo, hi in
                                     zip(size, smallest, largest)):
            raise ValueError(f"{self._name()}: requested an "
                             f"output size of {tuple(output_size)}, but valid sizes for "
                             f"input {x.shape} range from {smallest} to {largest}")
        return tuple(n - m for n, m in zip(size, smallest))
