"""Enhancement edits: restore a blurred or a low-resolution digit with a VAE as the
prior, by inverting the degradation -- and the plain baselines to beat.

The degradations (differentiable, so they can sit inside the fit):
    gaussian_blur(x, sigma)   x convolved with a normalised Gaussian of std sigma px
                              (zeros beyond the border: MNIST's background)
    downscale(x, factor)      the mean of each factor x factor block (28 -> 14 for 2)
The baselines:
    the blurred digit itself; upscale_bilinear(low_res), PyTorch's
    interpolate(mode="bilinear", align_corners=False), written with grid_sample.
The restoration (maximum a posteriori, as VAE.map_fit): find the code whose decoded
image, degraded the same way, matches the observation y:

    z* = argmax_z  log N(z; 0, I) + log N(y; D(sigmoid(decode(z))), s^2 I)
       = argmin_z  |z|^2 / 2 + |D(image(z)) - y|^2 / (2 s^2)

by Adam from the encoder's guess (the code of the blurred or upscaled digit). s
(noise_std) is how far the observation may differ from an exact degradation of a
drawable digit: small s trusts the observation, large s the prior. image(z*) can
only be a digit the model can draw -- sharp, but it misses what the model cannot
draw (an unusual loop, a stroke's exact width). So a last step puts back what the
observation says and image(z*) lacks (data consistency, one step of iterative
back-projection, Irani & Peleg 1991):

    out = clip(image(z*) + U(y - D(image(z*))), 0, 1)

with U a rough inverse of D: bilinear upscaling for downscale, the identity for the
blur (which is its own transpose). Then D(out) is close to y again, and the model
supplies only what y does not determine.
"""
from __future__ import annotations

import math

import numpy as np

import minidl
import minidl.functional as F
from minidl.tensor import Tensor, ShapeError
from minidl.ops.arguments import drop_batch_dim

from .vae import VAE
from .vae_editing import IMAGE_SHAPE, as_images


def _positive(value, name: str, op: str) -> float:
    if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive number, got {value!r}")
    return float(value)


def gaussian_kernel2d(sigma: float) -> np.ndarray:
    """A normalised 2-D Gaussian (1, 1, k, k) with k = 2 * ceil(3 sigma) + 1."""
    radius = max(1, math.ceil(3 * sigma))
    t = np.arange(-radius, radius + 1)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    k = np.outer(g, g)
    return (k / k.sum())[None, None].astype(np.float32)


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Blur (N, 1, H, W) images with a Gaussian of std sigma pixels: a convolution
    with a normalised kernel, zero padding, same size. Differentiable."""
    sigma = _positive(sigma, "sigma", "gaussian_blur")
    kernel = gaussian_kernel2d(sigma)
    return F.conv2d(images, Tensor(kernel.astype(images.dtype)),
                    padding=kernel.shape[-1] // 2)


def downscale(images: Tensor, factor: int = 2) -> Tensor:
    """The mean of each factor x factor block: (N, 1, H, W) -> (N, 1, H/f, W/f)."""
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) \
            or factor < 1 or images.shape[-1] % factor or images.shape[-2] % factor:
        raise ValueError(f"downscale: factor must be a positive integer dividing the "
                         f"image size {tuple(images.shape[-2:])}, got {factor!r}")
    return F.avg_pool2d(images, int(factor))


def upscale_bilinear(images, size=IMAGE_SHAPE[1:]) -> Tensor:
    """Bilinear upscaling of (N, C, h, w) images to `size` (H, W): output row i reads
    input row (i + 1/2) h / H - 1/2, between its two nearest rows (clamped to the
    border), and likewise for columns -- PyTorch's F.interpolate(mode="bilinear",
    align_corners=False), here as grid_sample over the identity grid with border
    padding."""
    x = images if isinstance(images, Tensor) else Tensor(np.asarray(images, np.float32))
    if x.ndim != 4:
        raise ShapeError(f"upscale_bilinear: expected images (N, C, h, w), got {x.shape}")
    identity = Tensor(np.tile(np.eye(2, 3), (len(x), 1, 1)).astype(x.dtype))
    grid = F.affine_grid(identity, (len(x), x.shape[1]) + tuple(size), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def restore(model: VAE, observed, degrade, start, steps: int = 100,
            noise_std: float = 0.1, back_project=None) -> Tensor:
    """The MAP restoration (module docstring): the decoded image of the code that
    best explains `observed` through `degrade`, starting from the codes of the
    images `start` (N, 1, 28, 28); then, if back_project (observation -> image
    space) is given, the data-consistency step. observed: numpy or Tensor, of
    degrade's output shape."""
    noise_std = _positive(noise_std, "noise_std", "restore")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"restore: steps must be an integer >= 0, got {steps!r}")
    y = observed.detach().numpy() if isinstance(observed, Tensor) else \
        np.asarray(observed, np.float32)
    image = model.map_fit(model.code(start), y, steps=steps, noise_std=noise_std,
                          degrade=degrade)
    return image if back_project is None else consistent(image, y, degrade,
                                                         back_project)


@minidl.no_grad()
def consistent(image, observed, degrade, back_project) -> Tensor:
    """The data-consistency step: clip(image + U(y - D(image)), 0, 1), with D =
    degrade and U = back_project (module docstring)."""
    y = observed if isinstance(observed, Tensor) else Tensor(np.asarray(observed,
                                                                        np.float32))
    return (image + back_project(y - degrade(image))).clamp(0.0, 1.0)


def deblur(model: VAE, blurred, sigma: float, steps: int = 100,
           noise_std: float = 0.1, consistent: bool = True) -> Tensor:
    """Restore digits blurred by gaussian_blur(sigma): MAP fit through the blur,
    starting from the blurred digit's own code; then (consistent=True) add back the
    residual blurred - blur(result)."""
    x, unbatched = as_images(blurred, "deblur")
    _positive(sigma, "sigma", "deblur")
    out = restore(model, x, lambda image: gaussian_blur(image, sigma), x, steps,
                  noise_std, (lambda r: r) if consistent else None)
    return drop_batch_dim(out, unbatched)


def super_resolve(model: VAE, low_res, factor: int = 2, steps: int = 100,
                  noise_std: float = 0.1, consistent: bool = True) -> Tensor:
    """Restore 28x28 digits from their downscale(factor) (N, 1, 28/f, 28/f) in [0, 1]
    (or (1, 28/f, 28/f)): MAP fit through the downscaling, starting from the code
    of the bilinear upscaling; then (consistent=True) add back the upscaled residual
    low_res - downscale(result)."""
    a = low_res.detach().numpy() if isinstance(low_res, Tensor) else np.asarray(low_res)
    unbatched = a.ndim == 3
    a = a[None] if unbatched else a
    side = IMAGE_SHAPE[1] // factor if isinstance(factor, (int, np.integer)) else None
    if a.ndim != 4 or a.shape[1:] != (1, side, side):
        raise ShapeError(f"super_resolve: low_res must have shape (N, 1, {side}, {side})"
                         f" for factor {factor!r}, got {a.shape}")
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        raise ValueError("super_resolve: pixel values must be finite and in [0, 1]")
    with minidl.no_grad():
        start = upscale_bilinear(Tensor(a.astype(np.float32))).clamp(0.0, 1.0)
    out = restore(model, a.astype(np.float32), lambda image: downscale(image, factor),
                  start, steps, noise_std, upscale_bilinear if consistent else None)
    return drop_batch_dim(out, unbatched)


__all__ = ["gaussian_blur", "downscale", "upscale_bilinear", "restore", "consistent",
           "deblur", "super_resolve", "gaussian_kernel2d"]
