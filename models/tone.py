"""Tone edits of digits (grey levels in [0, 1], ink bright on black): brightness,
contrast, gamma, and stroke thickness -- by morphology (the plain baseline) or by
moving along a VAE's latent "thickness" direction measured from data.

    brightness  out = clip(x * factor, 0, 1)                     (torchvision's
    contrast    out = clip(m + factor * (x - m), 0, 1),           adjust_brightness,
                m = the image's mean grey level                  adjust_contrast,
    gamma       out = clip(gain * x ** gamma, 0, 1)              adjust_gamma)
    dilate      out[p] = max of x over the 3x3 square around p   (strokes grow by a
    erode       out[p] = min of x over the 3x3 square around p    pixel on each side /
                                                                   shrink by one)
    thickness by the model: decode(mu(x) + strength * v) with
                v = mean code of the thickest digits - mean code of the thinnest
                (per class: the 20% with the most ink minus the 20% with the least,
                 so v carries stroke width, not identity; see VAE.edit).

Morphology changes every stroke by whole pixels and keeps any flaw; the latent edit
redraws the digit a little thicker or thinner, as a writer would, but can also drift
in style. Both are shown side by side by examples/edit_images.py.
"""
from __future__ import annotations

import numpy as np

import minidl.functional as F
from minidl.tensor import Tensor
from minidl.ops.arguments import drop_batch_dim

from .vae import VAE
from .vae_editing import as_images


def _clip01(t: Tensor) -> Tensor:
    return t.clamp(0.0, 1.0)


def _check_factor(value, name: str, op: str) -> float:
    if isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{op}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def adjust_brightness(images, factor: float) -> Tensor:
    """clip(x * factor, 0, 1): factor 0 gives black, 1 the original, > 1 brighter."""
    x, unbatched = as_images(images, "adjust_brightness")
    return drop_batch_dim(_clip01(x * _check_factor(factor, "factor", "adjust_brightness")),
                    unbatched)


def adjust_contrast(images, factor: float) -> Tensor:
    """clip(m + factor * (x - m), 0, 1), m the image's mean: factor 0 gives a flat
    grey image of the mean, 1 the original, > 1 more contrast."""
    x, unbatched = as_images(images, "adjust_contrast")
    factor = _check_factor(factor, "factor", "adjust_contrast")
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return drop_batch_dim(_clip01(mean + factor * (x - mean)), unbatched)


def adjust_gamma(images, gamma: float, gain: float = 1.0) -> Tensor:
    """clip(gain * x ** gamma, 0, 1): gamma < 1 lifts the faint grey edges of the
    strokes (bolder look), gamma > 1 darkens them (crisper, thinner look)."""
    x, unbatched = as_images(images, "adjust_gamma")
    gamma = _check_factor(gamma, "gamma", "adjust_gamma")
    gain = _check_factor(gain, "gain", "adjust_gamma")
    return drop_batch_dim(_clip01(gain * x ** gamma), unbatched)


def _morphology(images, steps: int, op: str, sign: float) -> Tensor:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"{op}: steps must be an integer >= 0, got {steps!r}")
    x, unbatched = as_images(images, op)
    for _ in range(steps):  # max over 3x3 windows; min(x) = -max(-x)
        x = sign * F.max_pool2d(sign * x, 3, stride=1, padding=1)
    return drop_batch_dim(x, unbatched)


def dilate(images, steps: int = 1) -> Tensor:
    """Grey-scale dilation: each pixel becomes the max of its 3x3 neighbourhood,
    `steps` times (strokes thicken by one pixel per side per step)."""
    return _morphology(images, steps, "dilate", 1.0)


def erode(images, steps: int = 1) -> Tensor:
    """Grey-scale erosion: each pixel becomes the min of its 3x3 neighbourhood,
    `steps` times (strokes thin by one pixel per side per step)."""
    return _morphology(images, steps, "erode", -1.0)


def thickness_direction(model: VAE, images, labels, fraction: float = 0.2) -> Tensor:
    """The latent direction of stroke thickness, measured from labelled digits:
    within each class, the mean code of the `fraction` with the most ink minus that
    of the `fraction` with the least (classes pooled). Returns (latent_dim,)."""
    x, _ = as_images(images, "thickness_direction")
    labels = np.asarray(labels.numpy() if isinstance(labels, Tensor) else labels)
    if labels.shape != (len(x),):
        raise ValueError(f"thickness_direction: need one label per image ({len(x)}), "
                         f"got labels of shape {labels.shape}")
    if not 0 < fraction <= 0.5:
        raise ValueError(f"thickness_direction: fraction must be in (0, 0.5], got "
                         f"{fraction!r}")
    ink = x.numpy().reshape(len(x), -1).sum(1)
    thick, thin = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        order = idx[np.argsort(ink[idx], kind="stable")]
        k = max(1, int(len(order) * fraction))
        thin.append(order[:k])
        thick.append(order[-k:])
    pixels = x.numpy()
    return model.attribute_vector(pixels[np.concatenate(thick)],
                                  pixels[np.concatenate(thin)])


def change_thickness(model: VAE, images, direction, strength: float) -> Tensor:
    """Thicker (strength > 0) or thinner (< 0) strokes, redrawn by the model:
    sigmoid(decode(mu(x) + strength * direction)) (see thickness_direction)."""
    return model.edit(images, direction, strength)


def ink(images) -> np.ndarray:
    """Total ink per image: the sum of its grey levels (N,) -- thickness in numbers."""
    x, _ = as_images(images, "ink")
    return x.numpy().reshape(len(x), -1).sum(1).astype(np.float64)


__all__ = ["adjust_brightness", "adjust_contrast", "adjust_gamma", "dilate", "erode",
           "thickness_direction", "change_thickness", "ink"]
