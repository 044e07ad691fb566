"""Exercise 15: GAN losses and the WGAN-GP gradient penalty through double backward.

With D's logits l (sigmoid(l) = probability "real"):
    discriminator_loss = BCE(l_real, 1) + BCE(l_fake, 0)      (each a batch mean)
    generator_loss     = BCE(l_fake, 1) = mean -log sigmoid(l_fake)   (non-saturating:
                         -log D(G(z)) has a large gradient when D rejects fakes)
WGAN-GP keeps the critic 1-Lipschitz by penalising its gradient norm at points
between real and fake samples, x_hat = alpha * real + (1 - alpha) * fake:
    penalty = lambda * mean over the batch of (||d critic(x_hat) / d x_hat||_2 - 1)^2
The penalty is a function of a gradient; training the critic differentiates it with
respect to the critic's weights -- a derivative of a derivative. So take the inner
gradient with minidl.autograd.grad(..., create_graph=True).

The checker's critic is built from your Tanh (exercise 2) and MatMul (exercise 4)
once those pass -- your double backward is what the penalty goes through.

The check: both losses against models/gan.py; the penalty against models/gan.py for
fixed alpha, and its gradient with respect to the critic's weight (gradcheck through
the double backward); a critic with gradient norm 1 everywhere has zero penalty.

Hint: detach real and fake, build x_hat, then x_hat.requires_grad_(); sum the
critic's scores before autograd.grad; add 1e-12 inside the sqrt (sqrt'(0) is inf).
"""
import minidl  # noqa: F401
import minidl.functional as F  # noqa: F401


def discriminator_loss(real_logits, fake_logits):
    raise NotImplementedError


def generator_loss(fake_logits):
    raise NotImplementedError


def gradient_penalty(critic, real, fake, alpha, lambda_=10.0):
    """critic: Tensor (N, ...) -> scores (N, 1); alpha: (N, 1, ...) -> 0-d Tensor."""
    raise NotImplementedError
