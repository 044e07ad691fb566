"""The VAE's image-editing API: what a trained VAE can do to digits, as methods every
VAE (models/vae.py) inherits from `Editing`.

All of them work in the model's latent space. The encoder's mean code mu(x) is the
image's deterministic encoding, the decoder's mean image sigmoid(decode(z)) is what
the model draws for a code z, and the prior p(z) = N(0, I) says which codes are
typical:

  code, reconstruct     x -> mu(x);  x -> sigmoid(decode(mu(x)))
  sample                z ~ N(0, I) -> sigmoid(decode(z))
  interpolate           walk from mu(x_a) to mu(x_b) (straight line or great circle)
  map_fit               the maximum a posteriori code of an observation: the code
                        whose image best explains it, given the prior
  denoise, inpaint      map_fit under Gaussian noise / on the known pixels only
  attribute_vector, edit    latent arithmetic: mu(x) + strength * (direction)
  manifold              the decoded plane of a 2-D latent space

They take images in [0, 1] (as_images checks them), run without gradients in eval
mode (the `inference` decorator; the mode is restored after), and return pixel
probabilities in [0, 1]. More edits built on these: models/deformation.py, tone.py,
enhancement.py; the conditional VAE's: models/cvae.py.
"""
from __future__ import annotations

import functools

import numpy as np

import minidl
import minidl.functional as F
import minidl.optim
from minidl.ops.arguments import drop_batch_dim
from minidl.tensor import Tensor, ShapeError

IMAGE_SHAPE = (1, 28, 28)


# ------------------------------------------------------------------ input checks
def as_images(x, op: str) -> tuple[Tensor, bool]:
    """x as a float32 Tensor (N, 1, 28, 28), and whether it came without a batch axis.

    Accepts Tensors and numpy arrays of shape (N, 1, 28, 28) or (1, 28, 28) with
    finite values in [0, 1]; anything else raises an error naming `op`."""
    if isinstance(x, Tensor):
        a = x.detach().numpy()
    elif isinstance(x, np.ndarray):
        a = x
    else:
        raise TypeError(f"{op}: images must be a Tensor or numpy array of shape "
                        f"(N, 1, 28, 28) or (1, 28, 28), got {type(x).__name__}")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{op}: images must hold numbers in [0, 1], got dtype {a.dtype}")
    unbatched = a.shape == IMAGE_SHAPE
    if not unbatched and (a.ndim != 4 or a.shape[1:] != IMAGE_SHAPE or len(a) == 0):
        raise ShapeError(f"{op}: images must have shape (N, 1, 28, 28) or (1, 28, 28) "
                         f"with N >= 1, got {a.shape}")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise ValueError(f"{op}: images contain NaN or infinite values")
    if a.min() < 0 or a.max() > 1:
        raise ValueError(f"{op}: pixel values must lie in [0, 1], got values in "
                         f"[{a.min():.3g}, {a.max():.3g}] (scale 0..255 images by "
                         "1/255; clip noisy images to [0, 1])")
    return Tensor(a[None] if unbatched else a), unbatched


def inference(method):
    """Run a model's method without gradients and in eval mode (BatchNorm uses its
    running statistics), then put the model back in the mode it was in."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        was_training = self.training
        self.eval()
        try:
            with minidl.no_grad():
                return method(self, *args, **kwargs)
        finally:
            self.train(was_training)
    return run


class Editing:
    """The editing methods of a VAE. The model provides encode(x) -> (mu, logvar),
    decode(z) -> logits and latent_dim (see models/vae.py: VAE)."""

    def _codes(self, images):
        """The mean latent code mu(x) of each image (the deterministic encoding)."""
        return self.encode(images)[0]

    def _images(self, z):
        return self.decode(z).sigmoid()

    @inference
    def code(self, x) -> Tensor:
        """The mean latent code mu(x) of images x: (N, latent_dim)."""
        images, _ = as_images(x, "code")
        return self._codes(images)

    @inference
    def reconstruct(self, x) -> Tensor:
        """Encode to the mean code and decode: x -> sigmoid(decode(mu(x)))."""
        images, unbatched = as_images(x, "reconstruct")
        return drop_batch_dim(self._images(self._codes(images)), unbatched)

    @inference
    def sample(self, n: int, generator=None) -> Tensor:
        """n new digits: z ~ N(0, I) from the prior, decoded to (n, 1, 28, 28)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"sample: n must be a positive integer, got {n!r}")
        return self._images(minidl.randn(int(n), self.latent_dim, generator=generator))

    @inference
    def interpolate(self, x_a, x_b, steps: int = 8, spherical: bool = False) -> Tensor:
        """Walk in latent space from x_a's code to x_b's in `steps` equal steps (both
        ends included) and decode every point: (steps, 1, 28, 28) for single images,
        (N, steps, 1, 28, 28) for batches of N pairs.

        spherical=True follows the great circle (slerp) instead of the straight line,
        which keeps the norm of z typical for the prior N(0, I):
            slerp(a, b, t) = (sin((1-t) w) a + sin(t w) b) / sin(w),  cos w = a.b/|a||b|
        """
        _check_steps("interpolate", steps, minimum=2)
        a, unbatched = as_images(x_a, "interpolate")
        b, _ = as_images(x_b, "interpolate")
        if a.shape != b.shape:
            raise ShapeError(f"interpolate: x_a and x_b must have the same shape, got "
                             f"{a.shape} and {b.shape}")
        za, zb = self._codes(a).numpy(), self._codes(b).numpy()   # (N, D)
        t = np.linspace(0, 1, steps, dtype=np.float32)[None, :, None]
        if spherical:
            cos = (za * zb).sum(1) / (np.linalg.norm(za, axis=1) *
                                       np.linalg.norm(zb, axis=1) + 1e-12)
            w = np.arccos(np.clip(cos, -1, 1))[:, None, None]
            sin_w = np.maximum(np.sin(w), 1e-6)  # w -> 0: slerp -> lerp
            path = (np.sin((1 - t) * w) * za[:, None]
                    + np.sin(t * w) * zb[:, None]) / sin_w
        else:
            path = (1 - t) * za[:, None] + t * zb[:, None]         # (N, steps, D)
        n = len(za)
        out = self._images(Tensor(path.reshape(n * steps, -1).astype(np.float32)))
        out = out.reshape(n, steps, *IMAGE_SHAPE)
        return drop_batch_dim(out, unbatched)

    @inference
    def map_fit(self, z, target, known=None, steps: int = 50, noise_std=None,
                degrade=None) -> Tensor:
        """Maximum a posteriori codes, and their decoded images. Starting from codes
        z (N, latent_dim), `steps` Adam steps (lr 0.05; the decoder fixed) maximise

            log p(z) + sum over known pixels of log p(target | z)

        where p(z) = N(0, I) (so -log p(z) = |z|^2 / 2 + const) and p(target | z) is
          * the decoder's own Bernoulli on the decoded image (noise_std None), or
          * a Gaussian N(degrade(decoded image), noise_std^2) per observed pixel: the
            observation is the decoded image passed through a known degradation
            (blur, downscaling; `degrade` maps (N, 1, 28, 28) images to the
            observation's shape with differentiable ops; default: none).
        known (0/1, broadcasting to the observation) marks the pixels that count
        (default: all). Returns the decoded images sigmoid(decode(z*))."""
        z = Tensor(z.detach().numpy().copy(), requires_grad=True)
        optimizer = minidl.optim.Adam([z], lr=0.05)
        target = Tensor(np.asarray(target, dtype=np.float32))
        known = Tensor(np.ones(target.shape, np.float32) if known is None
                       else np.asarray(known, dtype=np.float32))
        for _ in range(steps):
            with minidl.enable_grad():
                logits = self.decode(z)
                if noise_std is None:  # -log Bernoulli(target; sigmoid(logits))
                    nll = F.binary_cross_entropy_with_logits(logits, target,
                                                             reduction="none")
                else:                  # -log N(target; degrade(image), std^2) + const
                    image = logits.sigmoid()
                    seen = image if degrade is None else degrade(image)
                    nll = (seen - target) ** 2 / (2 * noise_std ** 2)
                loss = (nll * known).sum() + 0.5 * (z * z).sum()  # -log p(z) = |z|^2/2
                z.grad, = minidl.autograd.grad(loss, [z])  # leaves the weights' .grad
            optimizer.step()
        return self._images(z)

    @inference
    def denoise(self, x_noisy, noise_std: float = 0.3, steps: int = 50) -> Tensor:
        """Remove noise by finding the digit the model would draw: the decoded image
        whose code best explains the noisy one (see map_fit) under Gaussian pixel
        noise of std noise_std, starting from the encoder's code. The decoder can
        only draw digits, so the noise is left out. steps=0 gives the plain
        reconstruction (weaker: noise shifts the encoder's code). Clip noisy images
        to [0, 1] first."""
        _check_steps("denoise", steps, minimum=0)
        if not noise_std > 0:
            raise ValueError(f"denoise: noise_std must be > 0, got {noise_std!r}")
        images, unbatched = as_images(x_noisy, "denoise")
        codes = self._codes(images)
        out = self.map_fit(codes, images.numpy(), steps=steps, noise_std=noise_std)
        return drop_batch_dim(out, unbatched)

    @inference
    def inpaint(self, x, mask, steps: int = 50, method: str = "optimize") -> Tensor:
        """Fill the unknown pixels of x: mask is 1 where a pixel is known, 0 where it
        is missing (same shape as x, or (1, 28, 28) / (28, 28) for all images). The
        known pixels are returned unchanged.

        method="optimize" (default): start the missing pixels at the prior's mean
          image sigmoid(decode(0)), encode, then fit the code to the known pixels
          only (`steps` steps, see map_fit) and fill in its decoded image.
        method="iterate": the classic loop: start the missing pixels as background
          (0), then `steps` times reconstruct the current image and copy the
          reconstruction into the missing pixels. Simpler, but it can settle on a
          confident wrong digit; "optimize" fills in better (on the full-MNIST conv
          VAE, missing bottom half, squared error per missing pixel: mean image
          0.067, iterate 5-20 steps 0.063, optimize 50 steps 0.042)."""
        _check_steps("inpaint", steps, minimum=1)
        if method not in ("optimize", "iterate"):
            raise ValueError(f"inpaint: method must be 'optimize' or 'iterate', got "
                             f"{method!r}")
        images, unbatched = as_images(x, "inpaint")
        known = _mask(mask, images.shape, unbatched)
        x_np = images.numpy()
        if method == "optimize":
            prior_mean = self._images(minidl.zeros(1, self.latent_dim)).numpy()
            filled = known * x_np + (1 - known) * prior_mean
            guess = self.map_fit(self._codes(Tensor(filled)), x_np, known, steps)
            filled = known * x_np + (1 - known) * guess.numpy()
        else:
            filled = known * x_np
            for _ in range(steps):
                guess = self._images(self._codes(Tensor(filled))).numpy()
                filled = known * x_np + (1 - known) * guess
        return drop_batch_dim(Tensor(filled.astype(np.float32)), unbatched)

    @inference
    def attribute_vector(self, xs_with, xs_without) -> Tensor:
        """A direction in latent space for an attribute: the mean code of images that
        have it minus the mean code of images that do not (e.g. thick minus thin
        digits, or 7s minus 1s). Returns a (latent_dim,) Tensor for edit()."""
        with_, _ = as_images(xs_with, "attribute_vector")
        without, _ = as_images(xs_without, "attribute_vector")
        return self._codes(with_).mean(dim=0) - self._codes(without).mean(dim=0)

    @inference
    def edit(self, x, vector, strength: float = 1.0) -> Tensor:
        """Latent arithmetic: decode(mu(x) + strength * vector). Negative strength
        removes the attribute."""
        images, unbatched = as_images(x, "edit")
        v = vector.detach().numpy() if isinstance(vector, Tensor) else np.asarray(vector)
        if v.shape != (self.latent_dim,) or not np.isfinite(v).all():
            raise ShapeError(f"edit: vector must be {self.latent_dim} finite numbers "
                             f"(shape ({self.latent_dim},)), got shape {v.shape}")
        if not np.isfinite(strength):
            raise ValueError(f"edit: strength must be a finite number, got {strength!r}")
        z = self._codes(images) + Tensor((float(strength) * v).astype(np.float32))
        return drop_batch_dim(self._images(z), unbatched)

    @inference
    def manifold(self, n: int = 15, limit: float = 2.0) -> Tensor:
        """For latent_dim = 2: decode an n x n grid of codes z = (z1, z2) evenly spaced
        in [-limit, limit]^2 (2 standard deviations of the prior by default). Returns
        (n * n, 1, 28, 28), row by row: z2 falls from +limit (top) to -limit, z1 rises
        from -limit (left) to +limit."""
        if self.latent_dim != 2:
            raise ValueError(f"manifold: needs a 2-D latent space, this model has "
                             f"latent_dim={self.latent_dim}")
        z1 = np.linspace(-limit, limit, n, dtype=np.float32)
        z2 = z1[::-1]
        grid = np.stack(np.meshgrid(z1, z2), axis=-1).reshape(-1, 2)
        return self._images(Tensor(np.ascontiguousarray(grid)))


def _check_steps(op, steps, minimum):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or steps < minimum:
        raise ValueError(f"{op}: steps must be an integer >= {minimum}, got {steps!r}")


def _mask(mask, images_shape, unbatched) -> np.ndarray:
    """The inpainting mask as a float32 array of 0s and 1s that broadcasts to images."""
    m = mask.detach().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    shape = images_shape[1:] if unbatched else images_shape
    allowed = {shape, IMAGE_SHAPE, IMAGE_SHAPE[1:]}
    if m.shape not in allowed:
        raise ShapeError(f"inpaint: mask must have the images' shape {shape}, or "
                         f"(1, 28, 28) or (28, 28), got {m.shape}")
    if not np.isin(m, (0, 1)).all():
        raise ValueError("inpaint: mask must hold only 0 (missing) and 1 (known)")
    return np.broadcast_to(m.astype(np.float32), images_shape)
