"""Registry entries for the spatial transforms (minidl/ops/spatial.py): affine_grid and
grid_sample over every mode, padding mode and align_corners (registry.py has the
format).

Bilinear sampling has kinks where a source coordinate crosses a pixel (integer pixel
coordinates), bicubic a jump in its second derivative there; reflection folds at
half-integers (align_corners=False) or integers, and nearest rounding jumps at
half-integers. The grids drawn here keep every source
coordinate's fractional part in [0.15, 0.35] or [0.65, 0.85], far from all of them,
and place some points outside the image so that the padding is exercised.
"""
import numpy as np

import minidl.functional as F
from registry import register


def pixel_coordinates(rng, shape, size):
    """Source coordinates in pixels, integer part in [-2, size + 1), away from kinks."""
    whole = rng.integers(-2, size + 1, shape)
    frac = rng.uniform(0.15, 0.35, shape) + 0.5 * rng.integers(0, 2, shape)
    return whole + frac


def normalised(u, size, align_corners):
    """The grid value whose source coordinate (before padding) is pixel u. (With one
    pixel and align_corners every grid value maps to pixel 0: any value will do.)"""
    if align_corners and size == 1:
        return u / 4
    return 2 * u / (size - 1) - 1 if align_corners else (2 * u + 1) / size - 1


def safe_grid(rng, n, out_hw, in_hw, align_corners):
    """A grid (n, H_out, W_out, 2) whose source points avoid every kink."""
    h, w = in_hw
    xs = normalised(pixel_coordinates(rng, (n,) + out_hw, w), w, align_corners)
    ys = normalised(pixel_coordinates(rng, (n,) + out_hw, h), h, align_corners)
    return np.stack([xs, ys], axis=-1)


def image_and_grid(x_shape, out_hw, align_corners):
    return lambda rng: (rng.standard_normal(x_shape),
                        safe_grid(rng, x_shape[0], out_hw, x_shape[2:], align_corners))


# grid_sample: input shape, output size, then the arguments
for x_shape, out_hw, kw in [
    ((2, 2, 4, 5), (3, 3), dict()),
    ((1, 3, 5, 4), (2, 4), dict(padding_mode="border", align_corners=True)),
    ((2, 1, 4, 4), (3, 2), dict(padding_mode="reflection")),
    ((1, 2, 3, 5), (4, 3), dict(padding_mode="reflection", align_corners=True)),
    ((1, 2, 4, 3), (2, 3), dict(padding_mode="border")),
    ((2, 2, 4, 5), (3, 2), dict(mode="nearest")),
    ((1, 1, 5, 4), (3, 3), dict(mode="nearest", padding_mode="reflection",
                                align_corners=True)),
    ((1, 2, 1, 4), (2, 2), dict(padding_mode="border", align_corners=True)),  # H = 1
    ((1, 2, 4, 5), (3, 3), dict(mode="bicubic")),
    ((2, 1, 4, 4), (2, 3), dict(mode="bicubic", padding_mode="border",
                                align_corners=True)),
    ((1, 2, 5, 4), (3, 2), dict(mode="bicubic", padding_mode="reflection")),
]:
    register("grid_sample", lambda x, g, kw=kw: F.grid_sample(x, g, **kw),
             image_and_grid(x_shape, out_hw, kw.get("align_corners", False)))


def _theta(n, d=2, spread=0.3):
    """Affine matrices near the identity (so most points stay inside the image)."""
    eye = np.eye(d, d + 1)
    return lambda rng: (eye + spread * rng.standard_normal((n, d, d + 1)),)


register("affine_grid", lambda t: F.affine_grid(t, (2, 1, 3, 4)), _theta(2))
register("affine_grid", lambda t: F.affine_grid(t, (1, 3, 4, 2), align_corners=True),
         _theta(1))
register("affine_grid", lambda t: F.affine_grid(t, (1, 1, 2, 3, 2)), _theta(1, d=3))
# the two together, as a spatial transformer uses them: gradients reach theta
register("grid_sample",
         lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 2, 4, 4)),
                                    padding_mode="border"),
         lambda rng: (rng.standard_normal((2, 2, 5, 5)), _theta(2, spread=0.2)(rng)[0]),
         note="affine_grid then grid_sample")
