"""Conv1d, Conv2d and ConvTranspose2d: the convolution layers, with PyTorch's parameters.

    Conv1d           weight (out_channels, in_channels/groups, k), bias (out_channels,)
    Conv2d           weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,)
    ConvTranspose2d  weight (in_channels, out_channels/groups, kH, kW), bias (out_channels,)

All start from PyTorch's default initialisation, kaiming_uniform_(a=sqrt(5)) for
the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, where fan_in is
weight.shape[1] * (kernel elements) (for the transposed layer too, as PyTorch computes
it). padding_mode 'reflect', 'replicate' or 'circular' pads the input with F.pad
first. The math and its derivatives live in minidl/ops/conv.py.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops.arguments import int_tuple
from ..ops.conv import conv_transpose_output_size
from ..tensor import Tensor, ShapeError, float32
from . import init
from .module import Module
from .parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What the convolution layers share: arguments, parameters, init and repr.
    `_dims` is the number of spatial dims (1 for Conv1d, 2 for Conv2d)."""
    _dims = 2

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
        n = self._dims
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", layer)
        self.stride = int_tuple(stride, n, "stride", layer)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{layer}: padding must be 'valid', 'same', an int or a "
                                 f"tuple of ints, got {padding!r}")
            if padding == "same" and self.stride != (1,) * n:
                raise ValueError(f"{layer}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = int_tuple(padding, n, "padding", layer)
        self.dilation = int_tuple(dilation, n, "dilation", layer)
        self.transposed = transposed
        self.output_padding = int_tuple(output_padding, n, "output_padding", layer)
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
        n, c = self._dims, self.in_channels
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != c:
            spatial = "H, W" if n == 2 else "L"
            raise ShapeError(f"{self._name()}: expected input of shape (N, {c}, "
                             f"{spatial}) or ({c}, {spatial}), got {x.shape}")

    def _convolve(self, x, conv):
        """conv (F.conv1d or F.conv2d) of x with this layer's weight and arguments."""
        self._check_input(x)
        if self.padding_mode == "zeros":
            return conv(x, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
        return conv(self._padded(x), self.weight, self.bias, self.stride, 0,
                    self.dilation, self.groups)

    def _padded(self, x):
        """The input with padding_mode's padding (for modes other than 'zeros')."""
        if self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            widths = [(t // 2, t - t // 2) for t in totals]
        else:
            widths = [(p, p) for p in ((0,) * self._dims if self.padding == "valid"
                                       else self.padding)]
        flat = tuple(w for pair in reversed(widths) for w in pair)  # (left, right, top, ...)
        try:
            return F.pad(x, flat, mode=self.padding_mode)
        except ShapeError as e:
            raise ShapeError(f"{self._name()}: {e}") from None

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        zeros, ones = (0,) * self._dims, (1,) * self._dims
        if self.padding != zeros:
            s += f", padding={self.padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """Conv1d and Conv2d: the same arguments; `_conv` is F.conv1d or F.conv2d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         dilation, False, 0, groups, bias, padding_mode, dtype)

    def forward(self, x):
        return self._convolve(x, type(self)._conv)


class Conv2d(_Conv):
    """Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros'): (N, C_in, H, W) -> (N, C_out, OH, OW).

    padding may be an int, a pair, 'valid' or 'same'; padding_mode 'reflect',
    'replicate' or 'circular' pads with those values instead of zeros."""
    _conv = F.conv2d


class Conv1d(_Conv):
    """Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
    groups=1, bias=True, padding_mode='zeros'): (N, C_in, L) -> (N, C_out, OL).

    padding may be an int, a 1-tuple, 'valid' or 'same'; padding_mode 'reflect',
    'replicate' or 'circular' pads with those values instead of zeros."""
    _dims = 1
    _conv = F.conv1d


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
