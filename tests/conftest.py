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
