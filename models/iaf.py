"""A conv VAE whose posterior is an inverse autoregressive flow (IAF; Kingma, Salimans,
Jozefowicz, Chen, Sutskever & Welling, 2016).

Why: the ELBO is log p(x) minus KL(q(z|x) || p(z|x)). A diagonal Gaussian q cannot
follow a true posterior that is skewed or correlated, and that gap is paid in every
image's bound (the conv VAE's negative ELBO exceeds its importance-weighted bound by
about 5.7 nats). A flow makes q richer at little cost: start from the Gaussian and
apply T invertible steps whose Jacobian is triangular, so log q stays exact:

    z_0 = mu + sigma * eps,             log q(z_0) = -sum(log sigma + eps^2 / 2) + c
    for t = 1..T:
        m, s = MADE_t(z_{t-1}, h)       (autoregressive: m_i, s_i see only z_{<i})
        g = sigmoid(s)                  (a gate, initialised near 1: z barely moves)
        z_t = g * z_{t-1} + (1 - g) * m
        log q(z_t) = log q(z_{t-1}) - sum log g       (dz_t/dz_{t-1} is triangular
                                                        with diagonal g)
with h a context vector the encoder also outputs. The order of the latent units is
reversed from step to step. The KL has no closed form any more, so the loss uses the
one-sample estimate  KL ~ log q(z_T | x) - log p(z_T)  (its expectation is the KL).

MADE (Germain et al. 2015) makes a dense network autoregressive with masks: each
unit gets a degree; a hidden unit of degree k may see inputs of degree <= k, an
output of degree d may see hidden units of degree < d.

The editing API works unchanged: an image's code is z_T at eps = 0 (_codes), and the
prior p(z) = N(0, I) is on z_T.
"""
from __future__ import annotations

import numpy as np

import minidl
import minidl.functional as F
from minidl import nn
from minidl.tensor import Tensor

from .vae import MODELS, ConvVAE, ELBOTerms


class MaskedLinear(nn.Linear):
    """y = x @ (W * mask)^T + b: a dense layer with some connections cut (mask 0/1 of
    W's shape (out, in), a buffer)."""

    def __init__(self, in_features: int, out_features: int, mask: np.ndarray):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", Tensor(np.asarray(mask, np.float32)))

    def forward(self, x):
        return x @ (self.weight * self.mask).transpose(0, 1) + self.bias


def made_masks(dim: int, hidden: int, reverse: bool):
    """The masks of a one-hidden-layer MADE over `dim` inputs: (hidden, dim) and
    (dim, hidden). Input i has degree i + 1 (reversed: dim - i); hidden units cycle
    through degrees 1..dim-1."""
    degree_in = np.arange(1, dim + 1)[::-1] if reverse else np.arange(1, dim + 1)
    degree_hidden = np.arange(hidden) % max(1, dim - 1) + 1
    to_hidden = degree_hidden[:, None] >= degree_in[None, :]
    to_out = degree_in[:, None] > degree_hidden[None, :]
    return to_hidden, to_out


class AutoregressiveStep(nn.Module):
    """One IAF step: z -> g * z + (1 - g) * m, with (m, s) = MADE(z, context),
    g = sigmoid(s + 2) (the +2 starts the gate near 1). Returns (z', log det) where
    log det = sum log g (per row)."""

    def __init__(self, dim: int, hidden: int, context: int, reverse: bool):
        super().__init__()
        to_hidden, to_out = made_masks(dim, hidden, reverse)
        self.hidden = MaskedLinear(dim, hidden, to_hidden)
        self.context = nn.Linear(context, hidden, bias=False)
        self.shift = MaskedLinear(hidden, dim, to_out)
        self.gate = MaskedLinear(hidden, dim, to_out)

    def forward(self, z, context):
        a = F.elu(self.hidden(z) + self.context(context))
        s = self.gate(a) + 2.0
        g = s.sigmoid()
        log_g = -F.softplus(-s)                # log sigmoid(s), without overflow
        return g * z + (1 - g) * self.shift(a), log_g.sum(dim=1)


class IAFVAE(ConvVAE):
    """ConvVAE (same sizes and arguments) with `flows` IAF steps after the Gaussian;
    the encoder also outputs a `context`-sized vector for the steps."""

    def __init__(self, latent_dim: int = 16, batch_norm: bool = False,
                 channels=(32, 64), hidden: int = 256, flows: int = 2,
                 flow_hidden: int = 256, context: int = 64, depth: int = 0):
        self.context_size = context
        super().__init__(latent_dim, batch_norm, channels, hidden, depth)
        self.config.update(model="iaf", flows=flows, flow_hidden=flow_hidden,
                           context=context)
        self.flow = nn.ModuleList([AutoregressiveStep(latent_dim, flow_hidden, context,
                                                      reverse=t % 2 == 1)
                                   for t in range(flows)])

    def extra_outputs(self) -> int:
        return self.context_size

    def _posterior(self, x):
        h = self.encoder(x)
        d = self.latent_dim
        return h[:, :d], h[:, d:2 * d], h[:, 2 * d:]

    def _draw(self, posterior, eps):
        mu, logvar, context = posterior
        z, log_q = super()._draw((mu, logvar), eps)
        for step in self.flow:
            z, log_det = step(z, context)
            log_q = log_q - log_det
        return z, log_q

    def _codes(self, images):
        """z_T at eps = 0: the flow applied to the Gaussian's mean."""
        return self._draw(self._posterior(images), minidl.zeros(
            len(images), self.latent_dim, dtype=images.dtype))[0]

    def forward(self, x, generator=None):
        """(logits, mu, logvar) of the Gaussian before the flow, like the VAE's; the
        loss of this model is elbo(), which follows z through the flow."""
        posterior = self._posterior(x)
        eps = minidl.randn(len(x), self.latent_dim, generator=generator, dtype=x.dtype)
        return self.decode(self._draw(posterior, eps)[0]), posterior[0], posterior[1]

    def elbo(self, x, beta: float = 1.0, generator=None) -> ELBOTerms:
        """reconstruction + beta * (log q(z_T|x) - log p(z_T)), one z per image (the
        constants -D/2 log 2 pi of q and p cancel)."""
        posterior = self._posterior(x)
        eps = minidl.randn(len(x), self.latent_dim, generator=generator, dtype=x.dtype)
        z, log_q = self._draw(posterior, eps)
        per_pixel = F.binary_cross_entropy_with_logits(self.decode(z), x,
                                                       reduction="none")
        reconstruction = per_pixel.reshape(len(x), -1).sum(dim=1).mean()
        kl = (log_q + 0.5 * (z * z).sum(dim=1)).mean()
        return ELBOTerms(reconstruction + beta * kl, reconstruction, kl)


MODELS["iaf"] = IAFVAE

__all__ = ["IAFVAE", "AutoregressiveStep", "MaskedLinear", "made_masks"]
