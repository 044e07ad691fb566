"""Nearest-neighbour resizing: interpolate(input, size or scale_factor, mode='nearest').

Each output pixel copies one input pixel. Along an axis of input length n_in and output
length n_out, output index i reads input index
    nearest        floor(i * scale)             (PyTorch's rule, in float32)
    nearest-exact  floor((i + 0.5) * scale)
clipped to n_in - 1, where scale = 1 / scale_factor if scale_factor was given (and
recompute_scale_factor is not True), else n_in / n_out. (On 4-D input PyTorch maps
n_out == n_in and n_out == 2 * n_in exactly -- i and i // 2 -- whatever scale_factor
says; so do we.) The op is a gather (getitem
with index arrays), so its backward is a scatter-add that sums the gradient over the
output pixels that copied the same input pixel, and the backward of that is a gather
again: autograd gets all of it from getitem.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import ShapeError
from .arithmetic import float_input
from .shape import getitem


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


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input by
    nearest-neighbour copying (torch.nn.functional.interpolate; modes 'nearest' and
    'nearest-exact')."""
    x = float_input(input, "interpolate")
    if mode not in ("nearest", "nearest-exact"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; "
                                  "only 'nearest' and 'nearest-exact'")
    if align_corners is not None or antialias:
        raise ValueError("interpolate: align_corners and antialias only apply to the "
                         f"linear/cubic modes, not {mode!r}")
    if x.ndim not in (3, 4, 5):
        raise ShapeError(f"interpolate: expected input of shape (N, C, L), (N, C, H, W) "
                         f"or (N, C, D, H, W), got shape {x.shape}")
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
    if min(out_sizes) <= 0:
        raise ShapeError(f"interpolate: output size {out_sizes} must be positive "
                         f"(input of shape {x.shape}, size={size!r}, "
                         f"scale_factor={scale_factor!r})")
    sources = [_source_index(n, m, s, mode, shortcuts=n_dims == 2)
               for n, m, s in zip(in_sizes, out_sizes, scales)]
    return getitem(x, (slice(None), slice(None)) + np.ix_(*sources))


__all__ = ["interpolate"]
