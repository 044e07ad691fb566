"""Exercise 14: the VAE's reparameterisation and its loss (the negative ELBO).

An encoder gives, per image, mu and logvar = log sigma^2 of q(z|x) = N(mu, sigma^2).
Sampling z ~ q directly has no gradient; write it as a deterministic function of
(mu, logvar) and outside noise eps ~ N(0, 1) -- the reparameterisation trick:
    z = mu + exp(logvar / 2) * eps          (sigma = exp(logvar / 2), not exp(logvar))
The loss per image, in nats, averaged over the batch:
    reconstruction = sum over pixels of BCE(logits, x)
                   = sum [max(l, 0) - l*x + log(1 + e^{-|l|})]   (stable form)
    KL(q || N(0, I)) = 1/2 sum_j (mu_j^2 + e^{logvar_j} - 1 - logvar_j)
    negative_elbo   = mean over batch of (reconstruction + KL)

The check: against models/vae.py; gradcheck and gradgradcheck of each; properties:
KL >= 0 and == 0 exactly at mu = 0, logvar = 0; z has mean mu and standard deviation
sigma over many eps (so exp(logvar) in place of exp(logvar/2) fails).

Hint: minidl.functional.binary_cross_entropy_with_logits(l, x, reduction="none")
exists; or build it from Tensor ops with the stable form above.
"""


def reparameterize(mu, logvar, eps):
    """mu, logvar, eps: (N, D) Tensors -> z (N, D)."""
    raise NotImplementedError


def gaussian_kl(mu, logvar):
    """(N, D), (N, D) -> (N,): KL of each row's Gaussian from N(0, I)."""
    raise NotImplementedError


def negative_elbo(logits, x, mu, logvar):
    """logits, x: (N, ...) images; mu, logvar: (N, D) -> 0-d Tensor."""
    raise NotImplementedError
