"""Generative adversarial networks for 28x28 digits, built only from minidl.

A GAN is two networks playing a game (Goodfellow et al., 2014):
  * the generator G turns noise z ~ N(0, I) into an image G(z) in [-1, 1] (tanh);
  * the discriminator D looks at an image and returns one logit: "real or fake?".
D learns to tell real images from G's; G learns to fool D. At the game's balance
the images G makes are distributed like the real ones.

The models:
  MLPGenerator / MLPDiscriminator   the 2014 GAN with fully connected layers (the
                                    generator batch-normed, as is usual today)
  DCGANGenerator                    z -> two Linear -> 7x7 maps -> two stride-2
                                    ConvTranspose2d up to 1x28x28 (Radford et al. 2015;
                                    the layer sizes are InfoGAN's for MNIST)
  DCGANDiscriminator                two stride-2 Conv2d with LeakyReLU(0.2) -> Linear
                                    -> one logit;
                                    norm="batch" for the GAN, norm=None for the
                                    WGAN-GP critic (the penalty is per image, and batch
                                    norm would mix the images of a batch)
  dcgan_init_                       DCGAN's initialisation: weights ~ N(0, 0.02)

The losses (all take logits; D outputs no sigmoid):
  discriminator_loss    -[log D(x) + log(1 - D(G(z)))], via BCE-with-logits
  generator_loss        "non-saturating": -log D(G(z))  (the default: strong gradients
                        while D still wins easily); "minimax": log(1 - D(G(z))), the
                        game's own objective, whose gradient vanishes when D is sure
  critic_loss, generator_loss("wasserstein"), gradient_penalty   WGAN-GP (Gulrajani
                        et al. 2017): the critic estimates the Wasserstein distance,
                        and lambda * (||grad_x D(x_hat)||_2 - 1)^2 keeps it 1-Lipschitz.
"""
from __future__ import annotations

import math

import minidl
import minidl.functional as F
from minidl import nn

Z_DIM = 64
IMAGE_SHAPE = (1, 28, 28)
GENERATOR_LOSSES = ("non-saturating", "minimax", "wasserstein")


# ------------------------------------------------------------------ the 2014 GAN
class MLPGenerator(nn.Module):
    """z (N, z_dim) -> 128 -> 256 -> 512 -> 1024 -> 784 -> tanh -> images (N, 1, 28, 28)
    in [-1, 1]. Hidden layers use LeakyReLU(0.2); all but the first are batch-normed
    (without it this small G collapses onto a few blotchy strokes in the first epochs).
    """

    def __init__(self, z_dim=Z_DIM, hidden=(128, 256, 512, 1024)):
        super().__init__()
        self.z_dim = z_dim
        sizes = (z_dim, *hidden)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, bias=i == 0))
            if i > 0:  # (batch norm's shift replaces the bias)
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.LeakyReLU(0.2))
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], math.prod(IMAGE_SHAPE)),
                                 nn.Tanh(), nn.Unflatten(1, IMAGE_SHAPE))

    def forward(self, z):
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> 512 -> 256 -> one logit per image, shape (N,)."""

    def __init__(self, hidden=(512, 256)):
        super().__init__()
        sizes = (math.prod(IMAGE_SHAPE), *hidden)
        layers = [nn.Flatten()]
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))

    def forward(self, x):
        return self.net(x).reshape(-1)


# ------------------------------------------------------------------ DCGAN
class DCGANGenerator(nn.Module):
    """z (N, z_dim) -> images (N, 1, 28, 28) in [-1, 1]; `width` sets the channels:

        Linear(z_dim, hidden) + BatchNorm1d + ReLU
        Linear(hidden, 2w*7*7) + BatchNorm1d + ReLU -> 2w x 7 x 7
        ConvTranspose2d(2w, w, 4, stride 2, pad 1) + BatchNorm2d + ReLU -> w x 14 x 14
        ConvTranspose2d(w, 1, 4, stride 2, pad 1) + Tanh -> 1 x 28 x 28

    (InfoGAN's MNIST generator, Chen et al. 2016. The dense layer of `hidden` units
    before the 7x7 maps is what makes the digits clean within a few epochs: without it
    a third of the samples are still strokes rather than digits after 5 epochs.)
    A stride-2 transposed conv with kernel 4 and padding 1 doubles the size exactly:
    out = (in - 1) * 2 - 2 * 1 + 4 = 2 * in. Layers followed by batch norm have no
    bias: the norm's own shift would cancel it."""

    def __init__(self, z_dim=Z_DIM, width=64, hidden=1024):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1), nn.Tanh(),
        )
        dcgan_init_(self)

    def forward(self, z):
        return self.net(z)


class DCGANDiscriminator(nn.Module):
    """images (N, 1, 28, 28) -> one logit per image, shape (N,):

        Conv2d(1, w, 4, stride 2, pad 1) + LeakyReLU(0.2)                  -> w x 14 x 14
        Conv2d(w, 2w, 4, stride 2, pad 1) + [BatchNorm2d] + LeakyReLU(0.2) -> 2w x 7 x 7
        Flatten + Linear(2w*7*7, hidden) + [BatchNorm1d] + LeakyReLU(0.2)
        Linear(hidden, 1)

    (InfoGAN's MNIST discriminator.) norm="batch" (the GAN) or None (the WGAN-GP
    critic: no batch norm, and the layers get their biases back)."""

    def __init__(self, width=64, norm="batch", hidden=1024):
        super().__init__()
        if norm not in ("batch", None):
            raise ValueError(f"DCGANDiscriminator: norm must be 'batch' or None, "
                             f"got {norm!r}")
        batch_norm = norm == "batch"
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(2 * width) if batch_norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, hidden, bias=not batch_norm),
            nn.BatchNorm1d(hidden) if batch_norm else nn.Identity(),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )
        dcgan_init_(self)

    def forward(self, x):
        return self.net(x).reshape(-1)


def dcgan_init_(model: nn.Module) -> nn.Module:
    """DCGAN's initialisation, in place: conv and linear weights ~ N(0, 0.02), biases 0;
    batch-norm scales ~ N(1, 0.02), shifts 0."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(module.weight, 1.0, 0.02)
        else:
            continue
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    return model


def build_gan(model="dcgan", loss="non-saturating", z_dim=Z_DIM, width=64, hidden=1024):
    """(generator, discriminator) for model "dcgan" or "mlp"; the Wasserstein loss
    gets a critic without batch norm. width and hidden size the DCGAN."""
    critic = loss == "wasserstein"
    if model == "dcgan":
        return (DCGANGenerator(z_dim, width, hidden),
                DCGANDiscriminator(width, norm=None if critic else "batch", hidden=hidden))
    if model == "mlp":
        return MLPGenerator(z_dim), MLPDiscriminator()
    raise ValueError(f"build_gan: model must be 'dcgan' or 'mlp', got {model!r}")


# ------------------------------------------------------------------ losses
def discriminator_loss(real_logits, fake_logits):
    """-[log D(x) + log(1 - D(G(z)))]: real images labelled 1, generated ones 0
    (each term averaged over its batch)."""
    return (F.binary_cross_entropy_with_logits(real_logits, minidl.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits,
                                                 minidl.zeros_like(fake_logits)))


def generator_loss(fake_logits, kind="non-saturating"):
    """What G minimises, given D's logits on G's images.

    non-saturating:  -log D(G(z))      = BCE(logits, 1)
    minimax:          log(1 - D(G(z))) = -BCE(logits, 0)
    wasserstein:     -mean critic score
    Near the start D rejects fakes confidently (D(G(z)) ~ 0), where log(1 - D) is flat:
    the minimax loss then gives G almost no gradient; -log D gives a large one."""
    if kind == "non-saturating":
        return F.binary_cross_entropy_with_logits(fake_logits,
                                                  minidl.ones_like(fake_logits))
    if kind == "minimax":
        return -F.binary_cross_entropy_with_logits(fake_logits,
                                                   minidl.zeros_like(fake_logits))
    if kind == "wasserstein":
        return -fake_logits.mean()
    raise ValueError(f"generator_loss: kind must be one of {GENERATOR_LOSSES}, "
                     f"got {kind!r}")


def critic_loss(real_scores, fake_scores):
    """WGAN critic: mean D(G(z)) - mean D(x), i.e. minus the estimated Wasserstein
    distance (the gradient penalty is added separately)."""
    return fake_scores.mean() - real_scores.mean()


def gradient_penalty(critic, real, fake, lambda_=10.0, alpha=None, generator=None):
    """lambda * mean over the batch of (||grad_x D(x_hat)||_2 - 1)^2, at random points
    x_hat = alpha * x + (1 - alpha) * G(z) on the lines between real and fake images.

    alpha (N, 1, 1, 1) is drawn uniformly from [0, 1] unless given. The gradient is
    taken with create_graph=True, so the penalty itself can be differentiated with
    respect to the critic's weights: a derivative of a derivative (double backward)."""
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {real.shape} and fake {fake.shape} "
                         "must have the same shape")
    if alpha is None:
        alpha = minidl.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=generator,
                            dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_()
    scores = critic(x_hat)
    (grad,) = minidl.autograd.grad(scores.sum(), x_hat, create_graph=True)
    # a tiny epsilon keeps sqrt differentiable where the gradient is exactly zero
    norm = (grad.reshape(grad.shape[0], -1).pow(2).sum(1) + 1e-12).sqrt()
    return lambda_ * ((norm - 1) ** 2).mean()
