"""The training steps the benchmarks time, each written twice: with minidl and with
PyTorch, the same network, optimizer, batch size and float32 data.

    seed_cnn   SeedCNN (models/cnn.py) on a batch of MNIST-sized images: zero_grad,
               forward, cross-entropy, backward, Adam -- the main job's step
    dcgan      one DCGAN iteration as examples/train_gan.py runs it (InfoGAN sizes,
               batch 64): G makes a batch, D learns on real + fake, then G learns
               through D
    wgan_gp    one WGAN-GP critic step: critic loss + gradient penalty, whose
               gradient is a derivative of a derivative (double backward), Adam
    vae        one conv VAE step (models/vae.py, latent 16): forward, negative ELBO,
               backward, Adam
    vae_depth1 the same with one more 3x3 stride-1 convolution in each half
               (train_vae.py --depth 1); minidl only

`make(lib, name, batch, seed)` returns a function that runs one step; lib is "minidl"
or "torch". The data are random tensors of MNIST's shapes and ranges: the time of a
step does not depend on the values.
"""
from __future__ import annotations


import numpy as np

DEFAULT_BATCH = {"seed_cnn": 32, "dcgan": 64, "wgan_gp": 64, "vae": 128, "vae_depth1": 128}
Z_DIM, WIDTH, HIDDEN = 64, 64, 1024  # models/gan.py's defaults


def make(lib: str, name: str, batch: int | None = None, seed: int = 0):
    batch = batch or DEFAULT_BATCH[name]
    rng = np.random.default_rng(seed)
    images = rng.random((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    z = rng.standard_normal((batch, Z_DIM)).astype(np.float32)
    builders = {"minidl": MINIDL, "torch": TORCH}[lib]
    return builders[name](images, labels, z, seed)


# ------------------------------------------------------------------ minidl
def _md_seed_cnn(images, labels, z, seed):
    import minidl
    import minidl.functional as F
    from models.cnn import SeedCNN
    minidl.manual_seed(seed)
    model = SeedCNN()
    opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
    x, y = minidl.tensor(images), minidl.tensor(labels)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _md_gan(loss):
    def build(images, labels, z, seed):
        import minidl
        from models import gan
        minidl.manual_seed(seed)
        G, D = gan.build_gan("dcgan", loss)
        betas = (0.0, 0.9) if loss == "wasserstein" else (0.5, 0.999)
        g_opt = minidl.optim.Adam(G.parameters(), lr=2e-4, betas=betas)
        d_opt = minidl.optim.Adam(D.parameters(), lr=2e-4, betas=betas)
        real, noise = minidl.tensor(images * 2 - 1), minidl.tensor(z)

        def dcgan_step():
            fake = G(noise)
            d_opt.zero_grad()
            gan.discriminator_loss(D(real), D(fake.detach())).backward()
            d_opt.step()
            D.requires_grad_(False)
            g_opt.zero_grad()
            gan.generator_loss(D(fake)).backward()
            g_opt.step()
            D.requires_grad_(True)

        def critic_step():
            with minidl.no_grad():
                fake = G(noise)
            d_opt.zero_grad()
            loss = gan.critic_loss(D(real), D(fake)) + gan.gradient_penalty(D, real, fake)
            loss.backward()
            d_opt.step()
        return critic_step if loss == "wasserstein" else dcgan_step
    return build


def _md_vae(images, labels, z, seed, depth=0):
    import minidl
    from models.vae import ConvVAE, negative_elbo
    minidl.manual_seed(seed)
    model = ConvVAE(16, depth=depth)
    opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
    x = minidl.tensor(images)

    def step():
        opt.zero_grad()
        logits, mu, logvar = model(x)
        negative_elbo(logits, x, mu, logvar).loss.backward()
        opt.step()
    return step


MINIDL = {"seed_cnn": _md_seed_cnn, "dcgan": _md_gan("non-saturating"),
          "wgan_gp": _md_gan("wasserstein"), "vae": _md_vae,
          "vae_depth1": lambda *args: _md_vae(*args, depth=1)}


# ------------------------------------------------------------------ PyTorch
def _torch_seed_cnn(images, labels, z, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def _torch_gan_models(critic):
    from torch import nn
    w, bn = WIDTH, not critic
    G = nn.Sequential(
        nn.Linear(Z_DIM, HIDDEN, bias=False), nn.BatchNorm1d(HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, 2 * w * 49, bias=False), nn.BatchNorm1d(2 * w * 49), nn.ReLU(),
        nn.Unflatten(1, (2 * w, 7, 7)),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=not bn),
        nn.BatchNorm2d(2 * w) if bn else nn.Identity(), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * w * 49, HIDDEN, bias=not bn),
        nn.BatchNorm1d(HIDDEN) if bn else nn.Identity(), nn.LeakyReLU(0.2),
        nn.Linear(HIDDEN, 1), nn.Flatten(0))
    return G, D


def _torch_gan(critic):
    def build(images, labels, z, seed):
        import torch
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        torch.manual_seed(seed)
        G, D = _torch_gan_models(critic)
        betas = (0.0, 0.9) if critic else (0.5, 0.999)
        g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=betas)
        d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=betas)
        real, noise = torch.from_numpy(images * 2 - 1), torch.from_numpy(z)

        def dcgan_step():
            fake = G(noise)
            d_opt.zero_grad()
            r, f = D(real), D(fake.detach())
            (bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))).backward()
            d_opt.step()
            D.requires_grad_(False)
            g_opt.zero_grad()
            f = D(fake)
            bce(f, torch.ones_like(f)).backward()
            g_opt.step()
            D.requires_grad_(True)

        def critic_step():
            with torch.no_grad():
                fake = G(noise)
            d_opt.zero_grad()
            alpha = torch.rand(len(real), 1, 1, 1)
            x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_()
            grad, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            norm = (grad.reshape(len(grad), -1).pow(2).sum(1) + 1e-12).sqrt()
            loss = D(fake).mean() - D(real).mean() + 10 * ((norm - 1) ** 2).mean()
            loss.backward()
            d_opt.step()
        return critic_step if critic else dcgan_step
    return build


def _torch_vae(images, labels, z, seed):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    encoder = nn.Sequential(
        nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 49, 256), nn.ReLU(), nn.Linear(256, 32))
    decoder = nn.Sequential(
        nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 64 * 49), nn.ReLU(),
        nn.Unflatten(1, (64, 7, 7)), nn.ConvTranspose2d(64, 32, 3, 2, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 3, 2, 1, 1))
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
    x = torch.from_numpy(images)

    def step():
        opt.zero_grad()
        h = encoder(x)
        mu, logvar = h[:, :16], h[:, 16:]
        zs = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        logits = decoder(zs)
        bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
        kl = 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(1)
        (bce.reshape(len(x), -1).sum(1).mean() + kl.mean()).backward()
        opt.step()
    return step


TORCH = {"seed_cnn": _torch_seed_cnn, "dcgan": _torch_gan(False),
         "wgan_gp": _torch_gan(True), "vae": _torch_vae}
