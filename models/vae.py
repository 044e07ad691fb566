"""Variational autoencoders for 28x28 digits: the model and its loss.

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
  VAE            the base Module: encode / decode / forward, the loss of a batch,
                 the importance-weighted bound; its editing methods (reconstruct,
                 sample, interpolate, map_fit, denoise, inpaint, ...) are in
                 models/vae_editing.py
  conv_trunk, encoder_head, deconv_decoder   the layers, shared with models/cvae.py
  ConvVAE        two stride-2 convolutions + a 256-unit dense layer, and back
  MLPVAE         Kingma & Welling's one-hidden-layer MLP, for comparison
  build_vae, load_vae   a model from its config / from a train_vae.py checkpoint
"""
from __future__ import annotations

import math
from typing import NamedTuple

import minidl
import minidl.functional as F
from minidl import nn
from minidl.tensor import Tensor, ShapeError

from .vae_editing import IMAGE_SHAPE, Editing, as_images, inference


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


# ------------------------------------------------------------------ the model
class VAE(Editing, nn.Module):
    """Base class: a subclass builds `self.encoder` (images -> 2 * latent_dim numbers:
    mu and log-variance) and `self.decoder` (latent_dim -> 1x28x28 Bernoulli logits).

    forward(x) -> (logits, mu, logvar), with z drawn by reparameterize; the loss is
    negative_elbo(logits, x, mu, logvar). The editing methods (reconstruct, sample,
    denoise, ...) come from Editing (models/vae_editing.py)."""

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
    @inference
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


# ------------------------------------------------------------------ the layers
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
