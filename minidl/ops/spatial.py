"""Spatial transforms: affine_grid and grid_sample (PyTorch's semantics), differentiable
in the image, the grid and the affine matrices, to any order.

A spatial transform moves pixels: output pixel (i, j) reads the input at a *source
position* given by a grid, grid[n, i, j] = (x, y) in normalised coordinates, where
-1 and +1 are the left/right (top/bottom) edges of the input:

    align_corners=False  -1 and +1 are the outer edges of the border pixels:
                         pixel column sx = ((x + 1) * W - 1) / 2
    align_corners=True   -1 and +1 are the centres of the border pixels:
                         sx = (x + 1) / 2 * (W - 1)
(and likewise sy from y and H). Where the source falls between pixels, grid_sample
interpolates (bilinear: the 4 neighbours; nearest: the closest one, halves to even;
bicubic: the 4x4 neighbours, Keys' cubic weights); where it falls outside the
image, padding_mode decides:
    zeros       pixels outside read 0
    border      the coordinate is clipped to the image: outside reads the edge pixel
    reflection  the coordinate is mirrored at the edges (at the border pixels' outer
                edges, or their centres with align_corners=True), then clipped.
(Bicubic, as PyTorch, pads the index of each of its 16 taps instead of the
coordinate.)

affine_grid(theta, size) makes the grid of an affine map: for each output pixel at
normalised (x, y), grid = theta @ (x, y, 1), theta (N, 2, 3). So
grid_sample(img, affine_grid(theta, img.shape)) rotates, scales, shears or shifts the
image (theta maps *output* positions to *input* positions: a shift of +t moves the
picture by -t).

How the derivatives work. grid_sample is two steps:
  1. s = SourceCoords(grid): normalised -> pixel coordinates, then padding. Each
     coordinate is a piecewise linear function of grid, so ds/dgrid is a constant
     slope per element: scale = W/2 (or (W-1)/2), times -1 where a reflection
     mirrored it, times 0 where clipping held it at an edge.
  2. out = Sample(x, s): out = sum over taps t of w_t(s) * x[tap_t]. It is linear in
     x, so d/dx is the transpose (scatter g back with the same weights: SampleAdjoint),
     and d/ds is the same sampling with the derivatives of the weights
     (the kernels in minidl/kernels/grid_sample.py take a derivative order per axis):
         d out / d sx = Sample with weights w' (order (1, 0)),  summed against g.
     The backward of those is again Sample / SampleAdjoint with one more derivative
     order, so double backward (and any higher order) is exact.
affine_grid is a matrix product, differentiable through matmul.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import grid_sample as kernels, threads_for
from ..tensor import Tensor, ShapeError, _FLOATS
from .matmul import matmul
from .reduction import sum as sum_
from .shape import reshape, stack, transpose

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
MAX_ORDER = {"nearest": 0, "bilinear": 1, "bicubic": 3}  # last nonzero derivative in s


class DTypeError(TypeError, RuntimeError):
    """Wrong or mismatched dtypes (a TypeError, and a RuntimeError as in PyTorch)."""


# ------------------------------------------------------------------ affine_grid
def _linspace_from_neg_one(n: int, align_corners: bool, dtype) -> np.ndarray:
    """The normalised coordinates of n pixel positions along one axis (PyTorch's
    rule): n points from -1 to 1 (the border pixels' centres) with align_corners,
    else the pixel centres (2k + 1) / n - 1, i.e. the same scaled by (n - 1) / n."""
    if n <= 1:
        return np.zeros(1, dtype)
    r = np.linspace(-1, 1, n, dtype=dtype)
    return r if align_corners else r * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps (torch.nn.functional.affine_grid).

    theta (N, 2, 3) and size (N, C, H, W) give a grid (N, H, W, 2); theta (N, 3, 4)
    and size (N, C, D, H, W) a grid (N, D, H, W, 3). Entry [n, i, j] is
    theta[n] @ (x_j, y_i, 1): the input position that output pixel (i, j) reads.
    align_corners=None means False (PyTorch's default)."""
    if not isinstance(theta, Tensor):
        raise TypeError(f"affine_grid: theta must be a Tensor, got {type(theta).__name__}")
    if theta.dtype not in _FLOATS:
        raise ValueError(f"affine_grid: expected theta to have a floating point dtype, "
                         f"got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid: only 4-D (N, C, H, W) and 5-D "
                                  f"(N, C, D, H, W) sizes are supported, got {size}")
    d = len(size) - 2  # spatial dims
    if theta.shape != (size[0], d, d + 1):
        raise ShapeError(f"affine_grid: for size {size} theta must have shape "
                         f"({size[0]}, {d}, {d + 1}), got {theta.shape}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a positive output size, got {size}")
    spatial = size[2:]  # (H, W) or (D, H, W)
    axes = [_linspace_from_neg_one(n, bool(align_corners), theta.dtype)
            for n in reversed(spatial)]           # x (along W) first, then y, (z)
    points = list(np.meshgrid(*axes, indexing="xy" if d == 2 else "ij"))
    if d == 3:  # meshgrid "ij" of (x, y, z) gives (W, H, D): make it (D, H, W)
        points = [p.transpose(2, 1, 0) for p in points]
    base = np.stack(points + [np.ones_like(points[0])], axis=-1)  # (..., d + 1)
    base = Tensor(np.ascontiguousarray(base.reshape(1, -1, d + 1)))
    grid = matmul(base, transpose(theta, 1, 2))                    # (N, points, d)
    return reshape(grid, (size[0],) + spatial + (d,))


# ------------------------------------------------------------------ source coordinates
def _unnormalize(g, size: int, align_corners: bool):
    """Normalised -> pixel coordinate along an axis of `size` pixels, and its slope."""
    if align_corners:
        scale = (size - 1) / 2
        return (g + 1) * scale, scale
    scale = size / 2
    return (g + 1) * scale - 0.5, scale


def _reflect(u, size: int, align_corners: bool):
    """Mirror u at the image's edges (period 2 * span) and the sign of du'/du."""
    low, twice_span = (0.0, 2 * (size - 1)) if align_corners else (-0.5, 2 * size)
    if twice_span == 0:
        return np.zeros_like(u), np.zeros_like(u)
    shifted = u - low
    distance = np.abs(shifted)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, clipped to 0 below
        extra = distance - np.trunc(distance / twice_span) * twice_span
    flip = extra > twice_span - extra
    reflected = np.where(flip, twice_span - extra, extra) + low
    sign = np.where(flip ^ (shifted < 0), -1, 1).astype(u.dtype)
    return reflected.astype(u.dtype), sign


def _clip(u, size: int):
    """Clip u to [0, size - 1] and d clip / du (0 on and beyond the edges). NaN
    becomes 0 (as in PyTorch: u > 0 is false for it)."""
    clipped = np.where(u > 0, u, 0)
    clipped = np.where(clipped < size - 1, clipped, size - 1).astype(u.dtype)
    return clipped, ((clipped != 0) & (clipped != size - 1)).astype(u.dtype)


def source_coordinates(g, size: int, padding_mode: str, align_corners: bool):
    """Pixel coordinates (after padding) of normalised coordinates g along an axis of
    `size` pixels, and their slope d coordinate / d g, both arrays like g."""
    u, scale = _unnormalize(g, size, align_corners)
    slope = np.full_like(g, scale)
    if padding_mode == "reflection":
        u, sign = _reflect(u, size, align_corners)
        slope = slope * sign
    if padding_mode in ("border", "reflection"):
        u, inside = _clip(u, size)
        slope = slope * inside
    return u, slope


class SourceCoords(Function):
    # s = pad(unnormalize(grid)) per element, piecewise linear  =>  ds = slope * g
    # (slope: constant per element; its own derivative is 0)
    @staticmethod
    def forward(ctx, grid, in_hw, padding_mode, align_corners):
        (sx, mx), (sy, my) = (source_coordinates(grid[..., k], in_hw[1 - k],
                                                 padding_mode, align_corners)
                              for k in (0, 1))
        ctx.slope = np.stack([mx, my], axis=-1)
        return np.stack([sx, sy], axis=-1)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.slope), None, None, None


# ------------------------------------------------------------------ sampling
def _next_order(order, axis):
    return (order[0] + (axis == 0), order[1] + (axis == 1))


# `how` = (mode, padding_mode, align_corners): how the kernels read. (Only bicubic
# needs the last two: it pads each tap's index; the others get padded coordinates.)
def sample(x, s, order=(0, 0), how=("bilinear", "zeros", False)):
    """Sample (or a derivative of it, see Sample) of images x (N, C, H, W) at pixel
    coordinates s (N, P, 2) -> (N, C, P). Derivatives beyond the weights' degree are
    0 (order 2 for bilinear, 4 for bicubic): no kernel runs for them."""
    if max(order) > MAX_ORDER[how[0]]:
        return Tensor(np.zeros(x.shape[:2] + s.shape[1:2], x.dtype))
    return Sample.apply(x, s, order, how)


def sample_adjoint(g, s, order, how, in_hw):
    """The transpose of sample: g (N, C, P) scattered back to (N, C, H, W)."""
    if max(order) > MAX_ORDER[how[0]]:
        return Tensor(np.zeros(g.shape[:2] + tuple(in_hw), g.dtype))
    return SampleAdjoint.apply(g, s, order, how, tuple(in_hw))


def coordinate_grad(x, g, s, order, how):
    """d/ds of sum(g * sample(x, s, order)): (N, P, 2), the sampling with one more
    derivative along x (then y), summed against g over the channels. Nearest
    sampling is piecewise constant: 0."""
    if how[0] == "nearest":
        return Tensor(np.zeros(s.shape, s.dtype))
    parts = [sum_(g * sample(x, s, _next_order(order, axis), how), dim=1)
             for axis in (0, 1)]
    return stack(parts, dim=-1)


def _interpolate(image, values, s, order, how, transpose):
    """Run the sampling kernel on contiguous arrays: image (N, C, H, W) -> values
    (N, C, P), or the transpose values -> image. Returns the array written."""
    image, values, s = (np.ascontiguousarray(a) for a in (image, values, s))
    mode, padding_mode, align_corners = how
    with threads_for(max(image.size, values.size)):
        if mode == "nearest":
            kernels.nearest(image, values, s, transpose)
        elif mode == "bilinear":
            kernels.bilinear(image, values, s, order[0], order[1], transpose)
        else:
            kernels.bicubic(image, values, s, order[0], order[1], transpose,
                            PADDING_MODES.index(padding_mode), align_corners)
    return image if transpose else values


class Sample(Function):
    # out[n, c, p] = sum_t w_t^(order)(s[n, p]) * x[n, c, tap_t]
    # d/dx: the transpose (scatter with the same weights)
    # d/ds: the same sum with one more derivative of the weights along that axis
    @staticmethod
    def forward(ctx, x, s, order, how):
        ctx.save_for_backward(x, s)
        ctx.order, ctx.how = order, how
        values = np.empty(x.shape[:2] + s.shape[1:2], x.dtype)
        return _interpolate(x, values, s, order, how, transpose=False)

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = sample_adjoint(g, s, ctx.order, ctx.how, x.shape[2:])
        if ctx.needs_input_grad[1]:
            gs = coordinate_grad(x, g, s, ctx.order, ctx.how)
        return gx, gs, None, None


class SampleAdjoint(Function):
    # out = Sample^T g: out[n, c, tap_t] += w_t^(order)(s[n, p]) * g[n, c, p]
    # <gg, Sample^T g> = <Sample gg, g>, so d/dg = Sample(gg) and
    # d/ds = coordinate_grad(gg, g, s): the derivative of that same pairing
    @staticmethod
    def forward(ctx, g, s, order, how, in_hw):
        ctx.save_for_backward(g, s)
        ctx.order, ctx.how = order, how
        image = np.empty(g.shape[:2] + in_hw, g.dtype)
        return _interpolate(image, g, s, order, how, transpose=True)

    @staticmethod
    def backward(ctx, gg):
        g, s = ctx.saved_tensors
        dg = ds = None
        if ctx.needs_input_grad[0]:
            dg = sample(gg, s, ctx.order, ctx.how)
        if ctx.needs_input_grad[1]:
            ds = coordinate_grad(gg, g, s, ctx.order, ctx.how)
        return dg, ds, None, None, None


# ------------------------------------------------------------------ grid_sample
def _check_grid_sample(x, grid, mode, padding_mode):
    """The argument checks of grid_sample, with PyTorch's exception classes."""
    for name, t in (("input", x), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise TypeError(f"grid_sample: {name} must be a Tensor, got "
                            f"{type(t).__name__}")
    if mode not in MODES:
        raise ValueError(f"grid_sample: mode must be 'bilinear', 'nearest' or "
                         f"'bicubic', got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or "
                         f"'reflection', got {padding_mode!r}")
    if x.dtype not in _FLOATS or grid.dtype != x.dtype:
        raise DTypeError(f"grid_sample: expected floating point input and grid of the "
                         f"same dtype, got input {x.dtype} and grid {grid.dtype}")
    if x.ndim == 5:
        raise NotImplementedError(
            f"grid_sample: only 4-D input (N, C, H, W) is supported, got 5-D input "
            f"{x.shape} (volumetric sampling is not implemented)")
    if x.ndim != 4 or grid.ndim != 4:
        raise ShapeError(f"grid_sample: expected 4-D input (N, C, H, W) and grid "
                         f"(N, H_out, W_out, 2), got input {x.shape} and grid "
                         f"{grid.shape}")
    if grid.shape[0] != x.shape[0] or grid.shape[-1] != 2:
        raise ShapeError(f"grid_sample: grid must have shape (N, H_out, W_out, 2) with "
                         f"the input's batch size N = {x.shape[0]}, got grid "
                         f"{grid.shape} for input {x.shape}")
    if min(x.shape[2:]) == 0:
        raise ShapeError(f"grid_sample: expected input with non-empty spatial "
                         f"dimensions, got {x.shape}")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Read input (N, C, H, W) at the positions in grid (N, H_out, W_out, 2), given as
    normalised (x, y) in [-1, 1] (torch.nn.functional.grid_sample): out (N, C, H_out,
    W_out). mode 'bilinear', 'nearest' or 'bicubic'; padding_mode 'zeros', 'border'
    or 'reflection'; align_corners=None means False (PyTorch's default).
    Differentiable in input and grid, to any order (nearest mode: the grid's
    gradient is 0)."""
    _check_grid_sample(input, grid, mode, padding_mode)
    n, c, h, w = input.shape
    out_hw = grid.shape[1:3]
    align_corners = bool(align_corners)
    # bicubic pads each tap's index in the kernel: its coordinates stay unpadded
    s = SourceCoords.apply(grid, (h, w), "zeros" if mode == "bicubic" else padding_mode,
                           align_corners)
    out = sample(input, reshape(s, (n, out_hw[0] * out_hw[1], 2)), (0, 0),
                 (mode, padding_mode, align_corners))
    return reshape(out, (n, c) + out_hw)


__all__ = ["affine_grid", "grid_sample"]
