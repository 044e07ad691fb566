"""A conditional VAE (Sohn, Lee & Yan, 2015): a VAE told which digit it is looking at.

The label y (one-hot) is fed to every part:
    encoder q(z | x, y) = N(mu(x, y), diag sigma(x, y)^2)   conv features of x, with
                                                            y appended, -> Dense
    decoder p(x | z, y) = Bernoulli(sigmoid(logits(z, y)))  y joins z at the input
                                                            and every later layer
    prior   p(z | y) = N(m_y, I)                            a learned mean per digit
and it is trained on the same negative ELBO as the VAE (models/vae.py), now of
log p(x | y), with KL(q(z | x, y) || N(m_y, I)) = KL(N(mu - m_y, sigma^2) || N(0, I)).
Because the decoder is given the class, z is free to hold everything else -- slant,
stroke width, size: the *style*. That gives two edits:

    draw a y        sample(labels):  z ~ N(m_y, I), image = sigmoid(decode(z, y))
    style transfer  transfer_style(x, y, targets):  the style of x is
                    s = mu(x, y) - m_y; redrawn as digit t: sigmoid(decode(s + m_t, t))
                    -- your 3, redrawn as 0..9 in your handwriting.

Why the per-digit prior and the label at every layer. The KL pulls each q(z | x, y)
towards the prior, but nothing makes the codes of the 7s *as a group* fill the
prior: the encoder happily gives each digit its own region of z-space (a 2's loop is
a different kind of style from a 7's bar). Sampling z ~ N(0, I) for "a 7" then often
lands in the 2s' region, and the decoder draws something in between: with the plain
CVAE (latent 16, label only at the decoder's input) the SeedCNN recognised the
requested digit in only 68% of samples after 6 epochs. A prior mean per digit lets
each digit's codes sit where they like at no KL cost, and feeding y to every layer
makes the label, rather than z, the easy way to know the digit. A small latent space
(4 units) leaves z room for style but little for identity; see the README for the
numbers.

The network is the ConvVAE's (models/vae.py: conv_trunk, encoder_head; the decoder
is ConditionedDecoder below) with the one-hot label concatenated after the conv
features, to z, and to the decoder's hidden layers and feature maps.
"""
from __future__ import annotations

import numpy as np

import minidl
from minidl import nn
from minidl.tensor import Tensor, ShapeError
from minidl.ops.arguments import drop_batch_dim

from .vae import (MODELS, ELBOTerms, _layers, negative_elbo, reparameterize, conv_trunk,
                  encoder_head, deconv_decoder)
from .vae_editing import IMAGE_SHAPE, as_images, inference

NUM_CLASSES = 10


def one_hot(labels, num_classes: int = NUM_CLASSES, n=None) -> Tensor:
    """Labels (N,) (int array, list, Tensor, or one int for all n) -> one-hot (N, K)
    float32. Raises if a label is not an integer in [0, num_classes)."""
    y = labels.detach().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if y.ndim == 0 and n is not None:
        y = np.full(n, y)
    if y.ndim != 1 or (y.size and (y.dtype.kind not in "iu" or y.min() < 0
                                   or y.max() >= num_classes)):
        raise ValueError(f"one_hot: labels must be integers in [0, {num_classes}), one "
                         f"per image, got {labels!r}")
    out = np.zeros((len(y), num_classes), np.float32)
    out[np.arange(len(y)), y] = 1
    return Tensor(out)


class ConditionedDecoder(nn.Module):
    """p(x | z, y) with the label fed to every layer, so that the label -- not z --
    is the easy way to know the digit:

        [z, y] -> Dense hidden -> [., y] -> Dense c2*7*7 -> c2x7x7 (+ y as K constant
        maps) -> ConvTranspose 3x3/2 (c1) -> c1x14x14 (+ y maps) -> ConvTranspose
        3x3/2 (1) -> 1x28x28 logits"""

    def __init__(self, latent_dim, num_classes, c1, c2, hidden, batch_norm):
        super().__init__()
        block, k = _layers(batch_norm), num_classes
        self.c2 = c2
        self.dense1 = nn.Sequential(*block(nn.Linear(latent_dim + k, hidden),
                                           nn.BatchNorm1d(hidden)))
        self.dense2 = nn.Sequential(*block(nn.Linear(hidden + k, c2 * 7 * 7),
                                           nn.BatchNorm1d(c2 * 7 * 7)))
        self.up1 = nn.Sequential(*block(nn.ConvTranspose2d(c2 + k, c1, 3, stride=2,
                                                           padding=1, output_padding=1),
                                        nn.BatchNorm2d(c1)))
        self.up2 = nn.ConvTranspose2d(c1 + k, 1, 3, stride=2, padding=1,
                                      output_padding=1)

    def forward(self, z, y):
        n, k = y.shape
        maps = lambda size: y.reshape(n, k, 1, 1).expand(n, k, size, size)  # noqa: E731
        h = self.dense1(minidl.cat([z, y], dim=1))
        h = self.dense2(minidl.cat([h, y], dim=1)).reshape(n, self.c2, 7, 7)
        h = self.up1(minidl.cat([h, maps(7)], dim=1))
        return self.up2(minidl.cat([h, maps(14)], dim=1))


class ConditionalVAE(nn.Module):
    """Conditional conv VAE: forward(x, labels) -> (logits, mu, logvar) as the VAE's;
    the loss is models.vae.negative_elbo. Sizes as ConvVAE (channels, hidden)."""

    conditional = True

    def __init__(self, latent_dim: int = 16, num_classes: int = NUM_CLASSES,
                 batch_norm: bool = False, channels=(32, 64), hidden: int = 256,
                 every_layer: bool = True, class_prior: bool = True):
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.config = {"model": "cvae", "latent_dim": latent_dim,
                       "num_classes": num_classes, "batch_norm": batch_norm,
                       "channels": [c1, c2], "hidden": hidden,
                       "every_layer": every_layer, "class_prior": class_prior}
        self.trunk = nn.Sequential(*conv_trunk(c1, c2, batch_norm))
        self.head = nn.Sequential(*encoder_head(c2 * 7 * 7 + num_classes, hidden,
                                                2 * latent_dim, batch_norm))
        self.prior = nn.Linear(num_classes, latent_dim, bias=False) \
            if class_prior else None
        if self.prior is not None:
            nn.init.zeros_(self.prior.weight)
        if every_layer:
            self.decoder = ConditionedDecoder(latent_dim, num_classes, c1, c2, hidden,
                                              batch_norm)
        else:  # the label only at the input, with z
            self.decoder = nn.Sequential(*deconv_decoder(latent_dim + num_classes, c1,
                                                         c2, hidden, batch_norm))

    def _labels(self, labels, n: int) -> Tensor:
        y = one_hot(labels, self.num_classes, n)
        if len(y) != n:
            raise ShapeError(f"{type(self).__name__}: got {len(y)} labels for {n} "
                             "images")
        return y

    def prior_mean(self, labels, n: int) -> Tensor:
        """The mean m_y of the prior p(z | y) = N(m_y, I) of each label (0 without a
        class prior): (N, latent_dim)."""
        if self.prior is None:
            return minidl.zeros(n, self.latent_dim)
        return self.prior(self._labels(labels, n))

    def encode(self, x, labels):
        """q(z | x, y): images (N, 1, 28, 28), labels (N,) -> mu, logvar (N, latent)."""
        h = self.head(minidl.cat([self.trunk(x), self._labels(labels, len(x))], dim=1))
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def decode(self, z, labels):
        """p(x | z, y): codes (N, latent), labels (N,) -> logits (N, 1, 28, 28)."""
        y = self._labels(labels, len(z))
        if isinstance(self.decoder, ConditionedDecoder):
            return self.decoder(z, y)
        return self.decoder(minidl.cat([z, y], dim=1))

    def forward(self, x, labels, generator=None):
        mu, logvar = self.encode(x, labels)
        return self.decode(reparameterize(mu, logvar, generator), labels), mu, logvar

    def elbo(self, x, labels, beta: float = 1.0, generator=None) -> ELBOTerms:
        """The loss of a batch: negative_elbo of log p(x | y), one z per image."""
        logits, mu, logvar = self(x, labels, generator)
        # KL(N(mu, s^2) || N(m_y, I)) = KL(N(mu - m_y, s^2) || N(0, I))
        return negative_elbo(logits, x, mu - self.prior_mean(labels, len(x)), logvar,
                             beta)

    @inference
    def reconstruct(self, x, labels) -> Tensor:
        """sigmoid(decode(mu(x, y), y)): each image through its mean code."""
        images, unbatched = as_images(x, "reconstruct")
        y = self._labels(labels, len(images)).numpy().argmax(1)
        return drop_batch_dim(self.decode(self.encode(images, y)[0], y).sigmoid(), unbatched)

    @inference
    def sample(self, labels, generator=None) -> Tensor:
        """Draw the requested digits: one image per label, z ~ N(0, I) from
        `generator`: (N, 1, 28, 28) pixel probabilities."""
        y = self._labels(labels, np.size(labels)).numpy().argmax(1)
        z = self.prior_mean(y, len(y)) + minidl.randn(len(y), self.latent_dim,
                                                      generator=generator)
        return self.decode(z, y).sigmoid()

    @inference
    def transfer_style(self, x, labels, targets=range(NUM_CLASSES)) -> Tensor:
        """Each image redrawn as every target digit, in its own style: z = mu(x, y),
        out[n, t] = sigmoid(decode(z_n, targets[t])). Returns (N, T, 1, 28, 28)
        ((T, 1, 28, 28) for one image)."""
        images, unbatched = as_images(x, "transfer_style")
        y = self._labels(labels, len(images)).numpy().argmax(1)
        style = self.encode(images, y)[0] - self.prior_mean(y, len(y))
        targets = np.asarray(list(targets))
        one_hot(targets, self.num_classes)  # checks them
        n, t = len(images), len(targets)
        style = style.reshape(n, 1, -1).expand(n, t, self.latent_dim).reshape(n * t, -1)
        wanted = np.tile(targets, n)
        out = self.decode(style + self.prior_mean(wanted, n * t), wanted).sigmoid()
        return drop_batch_dim(out.reshape(n, t, *IMAGE_SHAPE), unbatched)


MODELS["cvae"] = ConditionalVAE

__all__ = ["ConditionalVAE", "one_hot"]
