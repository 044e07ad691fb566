"""Shared test settings: hypothesis profiles, seeds, and where full MNIST may be."""
import os
import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=300, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The official MNIST files beside the checkout (developer machines and CI only; a
# user's clone does not have them). Tests that need them skip when absent.
SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def full_mnist_dir():
    if not (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("full MNIST files not present")
    return SHARED_MNIST


@pytest.fixture(autouse=True)
def _seed():
    import minidl
    minidl.manual_seed(0)


@pytest.fixture(scope="session")
def digits():
    """5,000 built-in training images (an MNIST Dataset) and 500 test images with
    labels (float32 (N, 1, 28, 28), int64 (N,))."""
    from minidl.data import MNIST
    test = MNIST(train=False, limit=500)
    return MNIST(train=True, limit=5000), test.get_batch(np.arange(len(test)))


@pytest.fixture(scope="session")
def trained(digits):
    """A small MLP VAE (latent 16, hidden 400) after 300 Adam steps (lr 3e-3, batch
    128; seeded: the same model every run), in eval mode. Shared by the VAE and
    editing tests."""
    import minidl
    from minidl.data import DataLoader
    from models.vae import MLPVAE, negative_elbo
    minidl.manual_seed(0)
    model = MLPVAE(latent_dim=16, hidden=400)
    opt = minidl.optim.Adam(model.parameters(), lr=3e-3)
    steps = 0
    while steps < 300:
        for x, _ in DataLoader(digits[0], 128, shuffle=True, seed=steps):
            opt.zero_grad()
            logits, mu, logvar = model(x)
            negative_elbo(logits, x, mu, logvar).loss.backward()
            opt.step()
            steps += 1
            if steps == 300:
                break
    model.zero_grad()
    return model.eval()
