"""A class-conditional DCGAN: "draw a 7" with a GAN (Mirza & Osindero 2014; the
discriminator's projection from Miyato & Koyama 2018).

    generator      G(z, y): one-hot(y) is appended to the noise z, and [z, y] goes
                   through the DCGAN generator (models/gan.py). Its first dense
                   layer, W [z; y] = W_z z + W_y y, thus adds a learned vector per
                   digit (a column of W_y): the label's embedding. G must make an
                   image that looks real *and* shows digit y.
    discriminator  D(x, y) = w . h(x) + b + e'(y) . h(x): the DCGAN discriminator's
                   features h(x) (its last hidden layer) scored by the usual linear
                   layer, plus their inner product with a learned embedding of the
                   label ("projection"): D can then say "a real-looking 3, but you
                   asked for a 7" with one number per class and no extra layers.

The losses are the GAN's own (models/gan.py: discriminator_loss, generator_loss);
only the calls carry the labels. Real images come with their dataset labels; fakes
with the labels G was asked for.
"""
from __future__ import annotations

import minidl
from minidl import nn

from .cvae import one_hot, NUM_CLASSES
from .gan import DCGANGenerator, DCGANDiscriminator, Z_DIM, dcgan_init_


class ConditionalGenerator(nn.Module):
    """G(z, y): z (N, z_dim), labels (N,) -> images (N, 1, 28, 28) in [-1, 1]."""

    conditional = True

    def __init__(self, z_dim=Z_DIM, width=64, hidden=1024, num_classes=NUM_CLASSES):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.body = DCGANGenerator(z_dim + num_classes, width, hidden)

    def forward(self, z, labels):
        y = one_hot(labels, self.num_classes, len(z))
        return self.body(minidl.cat([z, y], dim=1))


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = linear(h(x)) + <embed(y), h(x)>: images (N, 1, 28, 28) and labels
    (N,) -> one logit per image (N,). norm as DCGANDiscriminator."""

    conditional = True

    def __init__(self, width=64, norm="batch", hidden=1024, num_classes=NUM_CLASSES):
        super().__init__()
        self.num_classes = num_classes
        self.body = DCGANDiscriminator(width, norm, hidden)
        self.embed = nn.Linear(num_classes, hidden, bias=False)
        dcgan_init_(self.embed)

    def forward(self, x, labels):
        features = self.body.net[:-1](x)                 # h(x), (N, hidden)
        score = self.body.net[-1](features).reshape(-1)  # w . h + b
        e = self.embed(one_hot(labels, self.num_classes, len(x)))
        return score + (e * features).sum(dim=1)


__all__ = ["ConditionalGenerator", "ProjectionDiscriminator"]
