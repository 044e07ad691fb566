"""Preprocessing and augmentation for image batches: affine warps (rotation, shift,
scale, shear), random crops, elastic deformation, normalisation, and Compose.

Every transform works on a whole batch (N, C, H, W) at once (a single image (C, H, W)
works too) and fits the DataLoader's hook, which calls transform(x, y) and expects
(x, y) back:

    augment = Compose([RandomAffine(degrees=15, translate=(0.1, 0.1), seed=0),
                       Normalize((0.1307,), (0.3081,))])
    loader = DataLoader(train_set, 32, shuffle=True, transform=augment)

Argument names are torchvision's. Two differences: each image of a batch gets its
own random parameters (torchvision draws one set per call, i.e. per batch when given
a batch), and every random transform draws from its own minidl.Generator (give
`seed` or `generator`; by default one seeded from minidl's default generator when the
transform is made), so the same seed gives the same batches whatever else draws
random numbers.

Geometric transforms are built on F.affine_grid and F.grid_sample: a warp is a grid
of source positions, one per output pixel, read with bilinear or nearest
interpolation; pixels whose source lies outside the image get `fill`. The
deterministic warps are functions too -- affine(x, angle, translate, scale, shear),
elastic(x, displacement) -- with the same conventions:
  * angle in degrees, positive = counter-clockwise (as seen on screen, y pointing
    down), about the image centre;
  * translate (tx, ty) in pixels, positive = right / down;
  * scale > 1 enlarges;
  * shear (sx, sy) in degrees: x moves by tan(sx) * y, then y by tan(sy) * x.
Transforms run without recording a graph (they prepare data).
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..random import Generator, numpy_rng
from ..tensor import Tensor, ShapeError

INTERPOLATIONS = ("nearest", "bilinear")


# ------------------------------------------------------------------ input handling
def _as_batch(x, op: str):
    """x as a float Tensor (N, C, H, W), and a function that gives a result back in
    x's own form (Tensor or numpy, batched or a single (C, H, W) image)."""
    is_numpy = isinstance(x, np.ndarray)
    if not (is_numpy or isinstance(x, Tensor)):
        raise TypeError(f"{op}: expected images as a Tensor or numpy array of shape "
                        f"(N, C, H, W) or (C, H, W), got {type(x).__name__}")
    t = Tensor(x) if is_numpy else x.detach()
    if t.ndim not in (3, 4) or min(t.shape[-2:]) < 1:
        raise ShapeError(f"{op}: expected images of shape (N, C, H, W) or (C, H, W), "
                         f"got {tuple(t.shape)}")
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point images, got dtype {t.dtype} "
                        "(convert with .float() / astype(np.float32) first)")
    single = t.ndim == 3
    batch = t.reshape(1, *t.shape) if single else t

    def restore(out: Tensor):
        out = out.reshape(*out.shape[1:]) if single else out
        return out.numpy() if is_numpy else out
    return batch, restore


def _per_image(value, n: int, name: str, op: str) -> np.ndarray:
    """A number or one number per image -> float64 array (n,)."""
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,) or not np.isfinite(a).all():
        raise ValueError(f"{op}: {name} must be a finite number or {n} numbers (one "
                         f"per image), got {value!r}")
    return a


def _pairs(value, n: int, name: str, op: str) -> np.ndarray:
    """A pair (a, b) or one pair per image -> float64 array (n, 2)."""
    a = np.asarray(value, dtype=np.float64)
    if a.shape == (2,):
        a = np.tile(a, (n, 1))
    if a.shape != (n, 2) or not np.isfinite(a).all():
        raise ValueError(f"{op}: {name} must be a pair of finite numbers or {n} pairs "
                         f"(one per image), got {value!r}")
    return a


def _check_interpolation(interpolation, op: str) -> str:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    return interpolation


# ------------------------------------------------------------------ warping
def warp(x, grid, interpolation="bilinear", fill=0.0):
    """Read images x (N, C, H, W) at the normalised source positions in grid
    (N, H, W, 2) (see F.grid_sample, align_corners=False); pixels whose source is
    outside the image get `fill` (blended at the edge with bilinear)."""
    out = F.grid_sample(x, grid, mode=interpolation, padding_mode="zeros",
                        align_corners=False)
    if fill != 0:  # where the image covers the output, a warped all-ones image is 1
        ones = Tensor(np.ones((x.shape[0], 1) + tuple(x.shape[2:]), x.dtype))
        coverage = F.grid_sample(ones, grid,
                                 mode=interpolation, align_corners=False)
        out = out + fill * (1 - coverage)
    return out


def affine_matrices(angle, translate, scale, shear, size, center=None) -> np.ndarray:
    """The theta (N, 2, 3) of F.affine_grid for N affine maps given per image:
    angle (N,) degrees, translate (N, 2) pixels, scale (N,), shear (N, 2) degrees,
    on images of size (H, W), about `center` (x, y) in pixels (pixel (i, j) has its
    centre at x = j, y = i; default: the image's centre).

    The map that *moves* the picture, in pixel coordinates centred on the image
    (x right, y down), is  p_out = M (p_in - c) + c + t  with c the centre of the
    map relative to the image's (0 by default) and
        M = R(angle) * scale * Shy(sy) * Shx(sx),  R(a) = [[cos a, sin a], [-sin a, cos a]]
    (R turns counter-clockwise on screen, because y points down). Sampling needs the
    opposite direction, p_in = M^-1 (p_out - c - t) + c, and F.affine_grid wants it
    in normalised coordinates, p = D p_norm with D = diag(W / 2, H / 2):
        theta = [D^-1 M^-1 D | D^-1 (c - M^-1 (c + t))]."""
    h, w = size
    c = np.zeros(2) if center is None else \
        np.asarray(center, np.float64) - [(w - 1) / 2, (h - 1) / 2]
    a, (sx, sy) = np.radians(angle), np.radians(shear).T
    rotation = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # (2, 2, N)
    zero, one = np.zeros_like(a), np.ones_like(a)
    shear_x = np.array([[one, np.tan(sx)], [zero, one]])
    shear_y = np.array([[one, zero], [np.tan(sy), one]])
    forward = np.einsum("ijn,jkn,kln->nil", rotation, shear_y, shear_x) * \
        np.asarray(scale, np.float64)[:, None, None]                   # M, (N, 2, 2)
    inverse = np.linalg.inv(forward)
    d = np.array([w / 2, h / 2])
    linear = inverse * d[None, None, :] / d[None, :, None]              # D^-1 M^-1 D
    offset = (c - np.einsum("nij,nj->ni", inverse, translate + c)) / d
    return np.concatenate([linear, offset[:, :, None]], axis=2)


@no_grad()
def affine(img, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=(0.0, 0.0),
           interpolation="bilinear", fill=0.0, center=None):
    """Rotate, shift, scale and shear images (torchvision.transforms.functional.affine's
    arguments): each argument is one value for all images or one per image (angle,
    scale: (N,); translate, shear: (N, 2)); center (x, y) in pixels, default the
    image's centre. See the module docstring for the conventions and
    affine_matrices for the math."""
    op = "affine"
    x, restore = _as_batch(img, op)
    n, _, h, w = x.shape
    if np.ndim(shear) == 0:
        shear = (shear, 0.0)
    scale = _per_image(scale, n, "scale", op)
    if (scale <= 0).any():
        raise ValueError(f"{op}: scale must be positive, got {scale}")
    theta = affine_matrices(_per_image(angle, n, "angle", op),
                            _pairs(translate, n, "translate", op), scale,
                            _pairs(shear, n, "shear", op), (h, w),
                            None if center is None else _pairs(center, n, "center", op))
    grid = F.affine_grid(Tensor(theta.astype(x.dtype)), x.shape, align_corners=False)
    return restore(warp(x, grid, _check_interpolation(interpolation, op), fill))


@no_grad()
def elastic(img, displacement, interpolation="bilinear", fill=0.0):
    """Move every pixel by its own displacement: output pixel (i, j) reads the input
    at (j + dx, i + dy), with displacement (N, H, W, 2) (or (H, W, 2) for all images)
    holding (dx, dy) in pixels."""
    op = "elastic"
    x, restore = _as_batch(img, op)
    n, _, h, w = x.shape
    d = displacement.numpy() if isinstance(displacement, Tensor) else \
        np.asarray(displacement)
    if d.shape not in ((h, w, 2), (n, h, w, 2)):
        raise ShapeError(f"{op}: displacement must have shape (N, H, W, 2) = "
                         f"({n}, {h}, {w}, 2) or (H, W, 2), got {d.shape}")
    identity = np.tile(np.eye(2, 3), (n, 1, 1)).astype(x.dtype)
    base = F.affine_grid(Tensor(identity), x.shape, align_corners=False).numpy()
    grid = base + np.broadcast_to(d, (n, h, w, 2)) * np.array([2 / w, 2 / h])
    return restore(warp(x, Tensor(grid.astype(x.dtype)),
                        _check_interpolation(interpolation, op), fill))


# ------------------------------------------------------------------ the transforms
class Transform:
    """Base class: forward(x) maps a batch (N, C, H, W) Tensor to a new one. Calling
    the transform accepts the DataLoader's (x, y, ...) and passes the rest through."""

    op = "Transform"

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x, *rest):
        batch, restore = _as_batch(x, type(self).__name__)
        with no_grad():
            out = restore(self.forward(batch))
        return (out, *rest) if rest else out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if k != "generator")
        return f"{type(self).__name__}({args})"


class RandomTransform(Transform):
    """A transform that draws random parameters from its own Generator."""

    def __init__(self, seed=None, generator=None):
        if generator is not None and seed is not None:
            raise ValueError(f"{type(self).__name__}: give a generator or a seed, "
                             "not both")
        if generator is None:
            generator = Generator(int(numpy_rng().integers(2**63)) if seed is None
                                  else seed)
        self.generator = generator

    @property
    def rng(self) -> np.random.Generator:
        return self.generator.np


def _range(value, name: str, op: str, centre=0.0, low=None):
    """torchvision's convention: a number v means (centre - v, centre + v); a pair
    is (min, max)."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{op}: a single {name} must be non-negative, got {value}")
        return (centre - float(value), centre + float(value))
    pair = tuple(float(v) for v in value)
    if len(pair) != 2 or pair[0] > pair[1] or (low is not None and pair[0] < low):
        raise ValueError(f"{op}: {name} must be a number or a pair (min, max)"
                         f"{'' if low is None else f' with min >= {low}'}, got {value!r}")
    return pair


class RandomAffine(RandomTransform):
    """Random rotation, shift, scale and shear, drawn independently for each image
    (torchvision.transforms.RandomAffine's arguments and default interpolation):

    degrees    angle range in degrees: d means (-d, d), or (min, max)
    translate  (a, b): shifts up to a * W horizontally and b * H vertically, whole
               pixels (rounded, as torchvision), or None
    scale      (min, max) scale factor, or None (1)
    shear      s -> x-shear in (-s, s) degrees; (min, max) -> x-shear range;
               (xmin, xmax, ymin, ymax) -> both; or None
    interpolation  "nearest" (torchvision's default) or "bilinear"
    fill       value of pixels that come from outside the image
    center     (x, y) in pixels to turn about (default: the image's centre)
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation="nearest", fill=0.0, center=None, seed=None,
                 generator=None):
        super().__init__(seed, generator)
        op = "RandomAffine"
        self.degrees = _range(degrees, "degrees", op)
        if translate is not None and (len(translate) != 2 or
                                      not all(0 <= t <= 1 for t in translate)):
            raise ValueError(f"{op}: translate must be a pair of fractions in [0, 1], "
                             f"got {translate!r}")
        self.translate = translate
        self.scale = None if scale is None else _range(scale, "scale", op, low=1e-6)
        if shear is not None:
            values = [shear] if isinstance(shear, numbers.Number) else list(shear)
            if len(values) not in (1, 2, 4):
                raise ValueError(f"{op}: shear must be a number, or 2 or 4 numbers, "
                                 f"got {shear!r}")
            x_range = _range(values[0] if len(values) == 1 else values[:2], "shear", op)
            y_range = _range(values[2:], "shear", op) if len(values) == 4 else (0, 0)
            shear = x_range + y_range
        self.shear = shear
        self.interpolation = _check_interpolation(interpolation, op)
        self.fill, self.center = float(fill), center

    def draw(self, n: int, size):
        """Parameters for n images of size (H, W): dict of angle (n,), translate
        (n, 2), scale (n,), shear (n, 2) -- the arguments of affine()."""
        h, w = size
        rng = self.rng
        params = {"angle": rng.uniform(*self.degrees, n)}
        if self.translate is not None:
            limit = np.array([self.translate[0] * w, self.translate[1] * h])
            params["translate"] = np.round(rng.uniform(-limit, limit, (n, 2)))
        else:
            params["translate"] = np.zeros((n, 2))
        params["scale"] = rng.uniform(*self.scale, n) if self.scale else np.ones(n)
        if self.shear is not None:
            params["shear"] = np.stack([rng.uniform(*self.shear[:2], n),
                                        rng.uniform(*self.shear[2:], n)], axis=1)
        else:
            params["shear"] = np.zeros((n, 2))
        return params

    def forward(self, x):
        return affine(x, **self.draw(len(x), x.shape[2:]),
                      interpolation=self.interpolation, fill=self.fill,
                      center=self.center)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian of std sigma, 2 * round(4 sigma) + 1 taps."""
    radius = max(1, int(round(4 * sigma)))
    t = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(a: np.ndarray, sigma: float, axes=(-2, -1)) -> np.ndarray:
    """Blur an array along two axes with a Gaussian of std sigma (separable: one 1-D
    pass per axis; borders reflected)."""
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    for axis in axes:
        a = np.moveaxis(a, axis, -1)
        n = a.shape[-1]
        padded = np.pad(a, [(0, 0)] * (a.ndim - 1) + [(r, r)], mode="reflect"
                        if n > r else "edge")
        a = sum(k[i] * padded[..., i:i + n] for i in range(len(k)))
        a = np.moveaxis(a, -1, axis)
    return a


class RandomElastic(RandomTransform):
    """Elastic deformation (Simard, Steinkraus & Platt, 2003): every pixel moves by a
    random displacement, smooth across the image. For each image draw dx, dy ~ U(-1, 1)
    per pixel, blur each with a Gaussian of std `sigma` pixels, and scale:
    the displacement in pixels is alpha / 2 * blurred noise (torchvision's
    ElasticTransform scale: alpha / size in normalised units). Small sigma: a
    jittery, noisy field; large sigma: gentle bends. MNIST: alpha 34-70, sigma 4-6.
    """

    def __init__(self, alpha=50.0, sigma=5.0, interpolation="bilinear", fill=0.0,
                 seed=None, generator=None):
        super().__init__(seed, generator)
        if not (alpha >= 0 and sigma > 0):
            raise ValueError(f"RandomElastic: need alpha >= 0 and sigma > 0, got "
                             f"alpha={alpha!r}, sigma={sigma!r}")
        self.alpha, self.sigma = float(alpha), float(sigma)
        self.interpolation = _check_interpolation(interpolation, "RandomElastic")
        self.fill = float(fill)

    def draw(self, n: int, size) -> np.ndarray:
        """Displacements (n, H, W, 2) in pixels."""
        noise = self.rng.uniform(-1, 1, (n, 2) + tuple(size))
        field = gaussian_blur(noise, self.sigma) * (self.alpha / 2)
        return np.moveaxis(field, 1, -1)

    def forward(self, x):
        return elastic(x, self.draw(len(x), x.shape[2:]), self.interpolation,
                       self.fill)


class RandomCrop(RandomTransform):
    """A random size (h, w) window of each image, after padding its border by
    `padding` pixels (torchvision.transforms.RandomCrop's arguments): padding is an
    int, (left/right, top/bottom) or (left, top, right, bottom); padding_mode
    'constant' (with fill), 'edge', 'reflect' or 'symmetric'; pad_if_needed pads
    images smaller than size."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0.0,
                 padding_mode="constant", seed=None, generator=None):
        super().__init__(seed, generator)
        op = "RandomCrop"
        self.size = (int(size), int(size)) if isinstance(size, numbers.Number) \
            else tuple(int(s) for s in size)
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"{op}: size must be a positive int or (h, w), got {size!r}")
        p = (0,) * 4 if padding is None else (
            (padding,) * 4 if isinstance(padding, numbers.Number) else tuple(padding))
        if len(p) == 2:
            p = (p[0], p[1], p[0], p[1])
        if len(p) != 4 or min(p) < 0:
            raise ValueError(f"{op}: padding must be a non-negative int or 2 or 4 ints, "
                             f"got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"{op}: padding_mode must be 'constant', 'edge', 'reflect' "
                             f"or 'symmetric', got {padding_mode!r}")
        self.padding, self.pad_if_needed = tuple(int(v) for v in p), pad_if_needed
        self.fill, self.padding_mode = float(fill), padding_mode

    def _pad(self, a: np.ndarray) -> np.ndarray:
        left, top, right, bottom = self.padding
        h, w = a.shape[2] + top + bottom, a.shape[3] + left + right
        if self.pad_if_needed:  # grow both sides of a too small dim (torchvision)
            extra_h, extra_w = max(self.size[0] - h, 0), max(self.size[1] - w, 0)
            top, bottom, left, right = top + extra_h, bottom + extra_h, left + extra_w, \
                right + extra_w
        widths = [(0, 0), (0, 0), (top, bottom), (left, right)]
        if self.padding_mode == "constant":
            return np.pad(a, widths, constant_values=self.fill)
        return np.pad(a, widths, mode=self.padding_mode)

    def forward(self, x):
        a = self._pad(x.numpy())
        (n, _, h, w), (ch, cw) = a.shape, self.size
        if ch > h or cw > w:
            raise ShapeError(f"RandomCrop: crop size {self.size} is larger than the "
                             f"padded image ({h}, {w}); pass pad_if_needed=True")
        top = self.rng.integers(0, h - ch + 1, n)
        left = self.rng.integers(0, w - cw + 1, n)
        rows = top[:, None] + np.arange(ch)                 # (n, ch)
        cols = left[:, None] + np.arange(cw)                # (n, cw)
        batch = np.arange(n)[:, None, None, None]
        channels = np.arange(a.shape[1])[None, :, None, None]
        return Tensor(np.ascontiguousarray(
            a[batch, channels, rows[:, None, :, None], cols[:, None, None, :]]))


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel (torchvision.transforms.Normalize); mean and
    std are sequences with one value per channel (or one value for all)."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std}")
        self.inplace = inplace  # accepted for torchvision's signature; never in place

    def forward(self, x):
        c = x.shape[1]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ShapeError(f"Normalize: mean {self.mean} and std {self.std} need 1 or "
                             f"{c} values for images with {c} channels")
        mean = np.asarray(self.mean, x.dtype).reshape(1, -1, 1, 1)
        std = np.asarray(self.std, x.dtype).reshape(1, -1, 1, 1)
        return Tensor((x.numpy() - mean) / std)


class Compose(Transform):
    """Apply transforms one after another: Compose([t1, t2])(x) = t2(t1(x))."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable, got "
                                f"{type(t).__name__}")

    def forward(self, x):
        for t in self.transforms:
            x = t(x)
        return x


__all__ = ["RandomAffine", "RandomCrop", "RandomElastic", "Normalize", "Compose",
           "affine", "elastic", "warp", "affine_matrices", "gaussian_blur"]
