"""Deformation edits: warp a digit with an affine map or an elastic field, and the
*plausible* version of a warp -- the warped digit projected back onto what a VAE
can draw.

A warp moves pixels: output pixel p reads the input at a source position T(p),
interpolating bilinearly between the 4 pixels around it (F.grid_sample):

    affine   T(p) = M^-1 (p - t),  M = R(angle) * scale * Shy * Shx   (p centred on
             the image; see minidl.data.transforms.affine_matrices)
    elastic  T(p) = p + d(p), with d a smooth random field: uniform noise in
             [-1, 1] per pixel, blurred by a Gaussian of std sigma, times alpha / 2
             (Simard et al. 2003)

A large warp makes digits no one writes (a 5 sheared by 40 degrees). The VAE has
learnt which images are likely digits, so it can say how implausible the warp is
and what the nearest plausible digit looks like:

    plausibility  how many nats the model needs for x beyond what its grey levels
                  cost anyway: -log p(x) - H(x), with -log p(x) estimated with k
                  importance samples (VAE.importance_weighted_bound) and
                  H(x) = sum_i -x_i log x_i - (1 - x_i) log(1 - x_i) the entropy of
                  its pixels as Bernoulli variables. The decoder's Bernoulli costs
                  a pixel of grey level x_i at least H(x_i) nats whatever the digit,
                  so -log p(x) alone would call every blurry image implausible;
                  the difference is 0 only for an image the model draws exactly,
                  and lower is more digit-like.
    project       the nearest digit the decoder can draw: either decode(mu(x)) (one
                  encoder pass, "encode"), or the MAP fit ("map", as denoise uses):
                  z* = argmax_z log p(z) + log p(x | z),  starting from mu(x);
                  returns sigmoid(decode(z*)).
"""
from __future__ import annotations

import numpy as np

import minidl
from minidl.data import transforms
from minidl.tensor import Tensor
from minidl.ops.arguments import drop_batch_dim

from .vae import VAE
from .vae_editing import as_images

PROJECTIONS = ("encode", "map")


def warp_affine(images, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0)):
    """Rotate (degrees, counter-clockwise), shift (pixels, right / down), scale
    (> 1 enlarges) and shear (degrees, x then y) digits (N, 1, 28, 28) or (1, 28, 28)
    in [0, 1] about their centre; pixels from outside the image are 0. Each argument
    is one value or one per image. Bilinear, so the result stays in [0, 1]."""
    x, unbatched = as_images(images, "warp_affine")
    out = transforms.affine(x, angle, translate, scale, shear, interpolation="bilinear")
    return drop_batch_dim(out, unbatched)


def smooth_field(n: int, alpha: float = 34.0, sigma: float = 4.0, size=(28, 28),
                 generator=None) -> np.ndarray:
    """n random smooth displacement fields (n, H, W, 2) in pixels: uniform noise in
    [-1, 1] per pixel and axis, blurred by a Gaussian of std sigma, times alpha / 2
    (the field of minidl.data.RandomElastic, from minidl's seeded generator)."""
    if not (alpha >= 0 and sigma > 0):
        raise ValueError(f"smooth_field: need alpha >= 0 and sigma > 0, got "
                         f"alpha={alpha!r}, sigma={sigma!r}")
    elastic = transforms.RandomElastic(alpha, sigma, generator=generator or
                                       minidl.Generator(0))
    return elastic.draw(int(n), size)


def warp_elastic(images, displacement=None, alpha=34.0, sigma=4.0, generator=None):
    """Move each pixel by a displacement field (N, 28, 28, 2) or (28, 28, 2) in pixels:
    output pixel (i, j) reads the input at (i + dy, j + dx). Without a displacement,
    a random smooth field (smooth_field(alpha, sigma), drawn from `generator`)."""
    x, unbatched = as_images(images, "warp_elastic")
    if displacement is None:
        displacement = smooth_field(len(x), alpha, sigma, x.shape[2:], generator)
    out = transforms.elastic(x, displacement, interpolation="bilinear")
    return drop_batch_dim(out, unbatched)


def pixel_entropy(images) -> np.ndarray:
    """H(x) = sum_i -x_i log x_i - (1 - x_i) log(1 - x_i) per image, in nats (N,)."""
    x, _ = as_images(images, "pixel_entropy")
    p = x.numpy().astype(np.float64).reshape(len(x), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log(p), 0) + np.where(p < 1, (1 - p) * np.log1p(-p),
                                                             0))
    return h.sum(1)


def plausibility(model: VAE, images, k: int = 50, generator=None) -> np.ndarray:
    """-log p(x) - H(x) per image in nats (module docstring): how far from a digit
    the model draws each image is; lower is more digit-like. (N,) float64."""
    x, _ = as_images(images, "plausibility")
    bound = model.importance_weighted_bound(x, k, generator or minidl.Generator(0))
    return bound.numpy().astype(np.float64) - pixel_entropy(x)


def project(model: VAE, images, method: str = "map", steps: int = 50) -> Tensor:
    """The plausible version of (warped) digits: the nearest digit the VAE draws.
    method "encode": sigmoid(decode(mu(x))); "map": the code maximising
    log p(z) + log p(x | z) (decoder's Bernoulli, `steps` Adam steps from mu(x))."""
    if method not in PROJECTIONS:
        raise ValueError(f"project: method must be 'encode' or 'map', got {method!r}")
    x, unbatched = as_images(images, "project")
    if method == "encode" or steps == 0:
        return drop_batch_dim(model.reconstruct(x), unbatched)
    return drop_batch_dim(model.map_fit(model.code(x), x.numpy(), steps=steps), unbatched)


__all__ = ["warp_affine", "warp_elastic", "smooth_field", "plausibility", "project",
           "pixel_entropy"]
