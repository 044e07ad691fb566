"""Registry entries for the VAE's differentiable pieces in models/vae.py (see
registry.py): the analytic Gaussian KL and the reparameterisation z = mu + sigma eps.
reparameterize draws eps from a freshly seeded Generator on every call, so the
function gradcheck differentiates is deterministic."""
import minidl
from models.vae import gaussian_kl, reparameterize
from registry import register


def _mu_logvar(n, d):
    return lambda rng: (rng.standard_normal((n, d)), 0.5 * rng.standard_normal((n, d)))


register("gaussian_kl", gaussian_kl, _mu_logvar(3, 4))
register("gaussian_kl", gaussian_kl, _mu_logvar(1, 2))
register("reparameterize",
         lambda mu, logvar: reparameterize(mu, logvar, generator=minidl.Generator(7)),
         _mu_logvar(3, 4))
register("reparameterize",  # the sample fed on through a loss-like square
         lambda mu, logvar: (reparameterize(mu, logvar, minidl.Generator(1)) ** 2).sum(),
         _mu_logvar(2, 3))
