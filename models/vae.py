"""Variational autoencoders for 28x28 digits: model, loss, evaluation and image editing.

A VAE (Kingma & Welling, 2014) learns an encoder q(z|x) = N(mu(x), diag sigma(x)^2)
and a decoder p(x|z) = Bernoulli(sigmoid(logits(z))) with a prior p(z) = N(0, I).
It is trained by maximising the evidence lower bound (ELBO) on log p(x):

    log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z)) = ELBO

so the loss is the negative ELBO in nats per image:

    reconstruction = sum over pixels of BCE(logits, x)   (x: grey levels in [0, 1])
    KL             = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)   (analytic)

The expectation is estimated with one sample z = mu + sigma * eps, eps ~ N(0, I)
(the reparameterisation trick: the randomness sits in eps, so gradients flow through
mu and sigma). The file holds, top to bottom:

  gaussian_kl, reparameterize, negative_elbo   the loss and its parts
  as_images      the input check every editing method uses
  VAE            the base Module: encode / decode / forward, importance-weighted
                 bound, and the editing API (reconstruct, sample, interpolate,
                 map_fit, denoise, inpaint, attribute_vector, edit, manifold;
                 more edits built on it: models/deformation.py, tone.py,
                 enhancement.py)
  ConvVAE        two stride-2 convolutions + a 256-unit dense layer, and back
  MLPVAE         Kingma & Welling's one-hidden-layer MLP, for comparison
  build_vae, load_vae   a model from its config / from a train_vae.py checkpoint
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

import minidl
import minidl.functional as F
import minidl.optim
from minidl import nn
from minidl.tensor import Tensor, ShapeError

IMAGE_SHAPE = (1, 28, 28)


# ------------------------------------------------------------------ the loss
def gaussian_kl(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) for each row: (N, D) -> (N,), in nats.

    KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), with log sigma^2 = logvar.
    d/dmu = mu,  d/dlogvar = (exp(logvar) - 1) / 2.
    """
    _check_gaussian("gaussian_kl", mu, logvar)
    return 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(dim=1)


def reparameterize(mu, logvar, generator=None):
    """A sample z = mu + sigma * eps of N(mu, diag exp(logvar)), eps ~ N(0, I) drawn
    from minidl's (seeded) generator. z is differentiable in mu and logvar:
    dz/dmu = 1,  dz/dlogvar = sigma * eps / 2  (sigma = exp(logvar / 2))."""
    _check_gaussian("reparameterize", mu, logvar)
    eps = minidl.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def _check_gaussian(op, mu, logvar):
    if not isinstance(mu, Tensor) or not isinstance(logvar, Tensor):
        raise TypeError(f"{op}: mu and logvar must be Tensors, got "
                        f"{type(mu).__name__} and {type(logvar).__name__}")
    if mu.shape != logvar.shape or mu.ndim != 2:
        raise ShapeError(f"{op}: mu and logvar must both have shape (N, latent_dim), "
                         f"got {mu.shape} and {logvar.shape}")


class ELBOTerms(NamedTuple):
    loss: Tensor            # mean over the batch of reconstruction + beta * KL
    reconstruction: Tensor  # mean over the batch of the summed pixel BCE (nats)
    kl: Tensor              # mean over the batch of KL(q(z|x) || N(0, I)) (nats)


def negative_elbo(logits, x, mu, logvar, beta=1.0) -> ELBOTerms:
    """The VAE loss per image in nats: reconstruction + beta * KL, averaged over the
    batch. beta = 1 is the true negative ELBO; beta < 1 (KL warm-up) early in
    training lets the decoder learn before the KL pulls every code to the prior."""
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    reconstruction = per_pixel.reshape(len(x), -1).sum(dim=1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return ELBOTerms(reconstruction + beta * kl, reconstruction, kl)


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


def _unbatch(images: Tensor, unbatched: bool) -> Tensor:
    return images.reshape(*images.shape[1:]) if unbatched else images


# ------------------------------------------------------------------ the model
def _inference(method):
    """Run a VAE method without gradients and in eval mode (BatchNorm uses its
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


class VAE(nn.Module):
    """Base class: a subclass builds `self.encoder` (images -> 2 * latent_dim numbers:
    mu and log-variance) and `self.decoder` (latent_dim -> 1x28x28 Bernoulli logits).

    forward(x) -> (logits, mu, logvar), with z drawn by reparameterize; the loss is
    negative_elbo(logits, x, mu, logvar). The editing methods below take images in
    [0, 1] (see as_images), run without gradients in eval mode (the mode is
    restored after), and return pixel probabilities sigmoid(logits) in [0, 1] --
    the decoder's mean image."""

    def __init__(self, latent_dim: int):
        super().__init__()
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) \
                or latent_dim < 1:
            raise ValueError(f"{type(self).__name__}: latent_dim must be a positive "
                             f"integer, got {latent_dim!r}")
        self.latent_dim = latent_dim

    def encode(self, x):
        """q(z|x): (N, 1, 28, 28) -> mu, logvar, each (N, latent_dim)."""
        h = self.encoder(x)
        d = self.latent_dim
        return h[:, :d], h[:, d:2 * d]

    def decode(self, z):
        """p(x|z): (N, latent_dim) -> Bernoulli logits (N, 1, 28, 28)."""
        return self.decoder(z)

    def forward(self, x, generator=None):
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator)), mu, logvar

    def elbo(self, x, beta: float = 1.0, generator=None) -> ELBOTerms:
        """The loss of a batch: negative_elbo with one z per image (analytic KL)."""
        logits, mu, logvar = self(x, generator)
        return negative_elbo(logits, x, mu, logvar, beta)

    def _posterior(self, x):
        """What the encoder says about x: (mu, logvar) here; subclasses add more."""
        return self.encode(x)

    def _draw(self, posterior, eps):
        """z ~ q(z|x) from standard normal eps, and log q(z|x) up to the constant
        -D/2 log(2 pi):  z = mu + sigma * eps,  log q = -1/2 sum(eps^2 + logvar)."""
        mu, logvar = posterior
        return mu + (0.5 * logvar).exp() * eps, -0.5 * (eps * eps + logvar).sum(dim=1)

    # ---------------------------------------------------------- evaluation
    @_inference
    def importance_weighted_bound(self, x, k: int = 100, generator=None) -> Tensor:
        """-log p(x) estimated with k importance samples (Burda et al., 2016), per
        image (N,) in nats. With z_i ~ q(z|x) and weights w_i = p(x|z_i) p(z_i) /
        q(z_i|x):   log p(x) >= log (1/k) sum_i w_i,   a bound that tightens as k
        grows (k = 1 is the ELBO). Computed with logsumexp, so no w_i overflows."""
        x, _ = as_images(x, "importance_weighted_bound")
        posterior = self._posterior(x)
        n, d = len(x), self.latent_dim
        log_w = []
        for _ in range(k):  # one sample per image at a time: k decoder passes of N
            eps = minidl.randn((n, d), generator=generator, dtype=x.dtype)
            z, log_qz = self._draw(posterior, eps)  # log q(z|x) + const
            log_px_z = -F.binary_cross_entropy_with_logits(
                self.decode(z), x, reduction="none").reshape(n, -1).sum(dim=1)
            log_pz = -0.5 * (z * z).sum(dim=1)      # log N(z; 0, I) + the same const
            log_w.append(log_px_z + log_pz - log_qz)
        log_w = minidl.stack(log_w, dim=1)  # (N, k)
        return -(log_w.logsumexp(dim=1) - math.log(k))

    # ---------------------------------------------------------- editing API
    def _codes(self, images):
        """The mean latent code mu(x) of each image (the deterministic encoding)."""
        return self.encode(images)[0]

    def _images(self, z):
        return self.decode(z).sigmoid()

    @_inference
    def code(self, x) -> Tensor:
        """The mean latent code mu(x) of images x: (N, latent_dim)."""
        images, _ = as_images(x, "code")
        return self._codes(images)

    @_inference
    def reconstruct(self, x) -> Tensor:
        """Encode to the mean code and decode: x -> sigmoid(decode(mu(x)))."""
        images, unbatched = as_images(x, "reconstruct")
        return _unbatch(self._images(self._codes(images)), unbatched)

    @_inference
    def sample(self, n: int, generator=None) -> Tensor:
        """n new digits: z ~ N(0, I) from the prior, decoded to (n, 1, 28, 28)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"sample: n must be a positive integer, got {n!r}")
        return self._images(minidl.randn(int(n), self.latent_dim, generator=generator))

    @_inference
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
        return _unbatch(out, unbatched)

    @_inference
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

    @_inference
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
        return _unbatch(out, unbatched)

    @_inference
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
        return _unbatch(Tensor(filled.astype(np.float32)), unbatched)

    @_inference
    def attribute_vector(self, xs_with, xs_without) -> Tensor:
        """A direction in latent space for an attribute: the mean code of images that
        have it minus the mean code of images that do not (e.g. thick minus thin
        digits, or 7s minus 1s). Returns a (latent_dim,) Tensor for edit()."""
        with_, _ = as_images(xs_with, "attribute_vector")
        without, _ = as_images(xs_without, "attribute_vector")
        return self._codes(with_).mean(dim=0) - self._codes(without).mean(dim=0)

    @_inference
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
        return _unbatch(self._images(z), unbatched)

    @_inference
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


def _layers(batch_norm: bool):
    """block(layer, norm): layer -> [norm] -> ReLU, the norm only with batch_norm."""
    def block(layer, norm):
        return [layer, norm, nn.ReLU()] if batch_norm else [layer, nn.ReLU()]
    return block


def _refine(c: int, depth: int, batch_norm: bool) -> list:
    """depth more 3x3 convolutions (stride 1) of c channels at the same size."""
    block = _layers(batch_norm)
    return [layer for _ in range(depth)
            for layer in block(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))]


def conv_trunk(c1: int, c2: int, batch_norm: bool, depth: int = 0) -> list:
    """1x28x28 -> Conv 3x3/2 (c1) [-> depth x Conv 3x3 (c1)] -> Conv 3x3/2 (c2)
    -> flat c2*7*7 features."""
    block = _layers(batch_norm)
    return [*block(nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.BatchNorm2d(c1)),
            *_refine(c1, depth, batch_norm),
            *block(nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.BatchNorm2d(c2)),
            nn.Flatten()]


def encoder_head(n_in: int, hidden: int, n_out: int, batch_norm: bool) -> list:
    """n_in features -> Dense hidden -> Dense n_out (2 * latent_dim: mu, log sigma^2;
    and more for a richer posterior)."""
    block = _layers(batch_norm)
    return [*block(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden)),
            nn.Linear(hidden, n_out)]


def deconv_decoder(n_in: int, c1: int, c2: int, hidden: int, batch_norm: bool,
                   depth: int = 0) -> list:
    """n_in numbers -> Dense hidden -> Dense c2*7*7 -> ConvTranspose 3x3/2 (c1)
    [-> depth x Conv 3x3 (c1)] -> ConvTranspose 3x3/2 (1) -> 1x28x28 logits."""
    block = _layers(batch_norm)
    return [*block(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden)),
            *block(nn.Linear(hidden, c2 * 7 * 7), nn.BatchNorm1d(c2 * 7 * 7)),
            nn.Unflatten(1, (c2, 7, 7)),
            *block(nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1),
                   nn.BatchNorm2d(c1)),
            *_refine(c1, depth, batch_norm),
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1)]


class ConvVAE(VAE):
    """Convolutional VAE (latent_dim 16 by default; 2 for the manifold plot); with the
    default widths c1, c2 = channels = (32, 64) and hidden = 256:

        encoder 1x28x28 -> Conv 3x3/2 (c1) -> c1x14x14 -> Conv 3x3/2 (c2) -> c2x7x7
                -> Dense hidden -> Dense 2*latent_dim (mu, log sigma^2)
        decoder latent_dim -> Dense hidden -> Dense c2*7*7 -> c2x7x7
                -> ConvTranspose 3x3/2 (c1) -> c1x14x14 -> ConvTranspose 3x3/2 (1)
                -> 1x28x28 logits
    ("3x3/2": 3x3 kernel, stride 2, padding 1; the transposed convolutions add
    output_padding=1 so that 7 -> 14 -> 28 exactly.) depth > 0 adds that many 3x3
    convolutions (stride 1, c1 channels) at 14x14 in both halves. Every hidden layer
    is followed by ReLU -- with BatchNorm in between when batch_norm=True."""

    def __init__(self, latent_dim: int = 16, batch_norm: bool = False,
                 channels=(32, 64), hidden: int = 256, depth: int = 0):
        super().__init__(latent_dim)
        c1, c2 = (int(c) for c in channels)
        self.config = {"model": "conv", "latent_dim": latent_dim,
                       "batch_norm": batch_norm, "channels": [c1, c2], "hidden": hidden,
                       "depth": depth}
        self.encoder = nn.Sequential(*conv_trunk(c1, c2, batch_norm, depth),
                                     *encoder_head(c2 * 7 * 7, hidden,
                                                   2 * latent_dim + self.extra_outputs(),
                                                   batch_norm))
        self.decoder = nn.Sequential(*deconv_decoder(latent_dim, c1, c2, hidden,
                                                     batch_norm, depth))

    def extra_outputs(self) -> int:
        """Encoder outputs beyond mu and log sigma^2 (none here; see models/iaf.py)."""
        return 0


class MLPVAE(VAE):
    """Kingma & Welling's MLP VAE: 784 -> hidden (tanh) -> mu, log sigma^2, and
    latent_dim -> hidden (tanh) -> 784 logits. (The paper used 500 hidden units.)"""

    def __init__(self, latent_dim: int = 16, hidden: int = 500):
        super().__init__(latent_dim)
        self.config = {"model": "mlp", "latent_dim": latent_dim, "hidden": hidden}
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(28 * 28, hidden), nn.Tanh(),
            nn.Linear(hidden, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, 28 * 28),
            nn.Unflatten(1, IMAGE_SHAPE),
        )


MODELS = {"conv": ConvVAE, "mlp": MLPVAE}


def build_vae(config: dict) -> VAE:
    """A fresh model from its `config` ({"model": "conv" or "mlp", ...arguments})."""
    kwargs = dict(config)
    kind = kwargs.pop("model")
    if kind not in MODELS:
        raise ValueError(f"build_vae: model must be one of {sorted(MODELS)}, got "
                         f"{kind!r}")
    return MODELS[kind](**kwargs)


def load_vae(path) -> VAE:
    """The trained model in a checkpoint written by examples/train_vae.py, in eval
    mode (the checkpoint stores the model's config beside its weights)."""
    state = minidl.load(path)
    if "config" not in state or "model" not in state:
        raise ValueError(f"load_vae: {path} is not a VAE checkpoint from train_vae.py "
                         "(it lacks 'config' or 'model')")
    model = build_vae(state["config"])
    model.load_state_dict(state["model"])
    return model.eval()
