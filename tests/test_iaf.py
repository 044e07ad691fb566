"""The IAF posterior (models/iaf.py): MADE masks are autoregressive, a step's Jacobian
is triangular with the gates on its diagonal (so the log-determinant is exact), the
one-sample KL estimate is unbiased, and the model trains and edits like a VAE."""
import numpy as np
import pytest

import minidl
from minidl.data import MNIST, DataLoader
from models.iaf import IAFVAE, AutoregressiveStep, made_masks
from models.vae import gaussian_kl, load_vae


@pytest.mark.parametrize("reverse", [False, True])
def test_made_masks_are_autoregressive(reverse):
    to_hidden, to_out = made_masks(4, 7, reverse)
    reach = (to_out.astype(int) @ to_hidden.astype(int)) > 0   # output i <- input j
    order = np.arange(4)[::-1] if reverse else np.arange(4)
    for i in range(4):
        for j in range(4):
            assert reach[i, j] == (order[j] < order[i])  # only earlier inputs


def _step_and_inputs(seed=0):
    minidl.manual_seed(seed)
    step = AutoregressiveStep(4, 16, 3, reverse=True).double()  # float64 for the checks
    with minidl.no_grad():
        for p in step.parameters():
            p.copy_(p * 3)  # larger weights: a Jacobian far from the identity
    rng = np.random.default_rng(seed)
    return step, rng.standard_normal((1, 4)), rng.standard_normal((1, 3))


def test_a_step_has_a_triangular_jacobian_with_the_gates_on_its_diagonal():
    step, z, context = _step_and_inputs()
    c = minidl.tensor(context, dtype=minidl.float64)
    jacobian = np.zeros((4, 4))
    for j in range(4):
        e = np.zeros((1, 4))
        e[0, j] = 1e-6
        up = step(minidl.tensor(z + e, dtype=minidl.float64), c)[0].detach().numpy()
        down = step(minidl.tensor(z - e, dtype=minidl.float64), c)[0].detach().numpy()
        jacobian[:, j] = (up - down)[0] / 2e-6
    # reverse order: output i depends on inputs j > i only, besides itself
    assert np.allclose(np.tril(jacobian, -1), 0, atol=1e-8)
    _, log_det = step(minidl.tensor(z, dtype=minidl.float64), c)
    sign, log_abs = np.linalg.slogdet(jacobian)
    assert sign > 0 and log_det.item() == pytest.approx(log_abs, abs=1e-6)


def test_a_step_passes_gradcheck():
    step, z, context = _step_and_inputs(1)
    inputs = [minidl.tensor(a, dtype=minidl.float64, requires_grad=True)
              for a in (z, context)]
    assert minidl.gradcheck(lambda a, b: step(a, b)[0] * 1.0 + step(a, b)[1].sum(),
                            inputs)


def test_without_flow_steps_the_kl_estimate_averages_to_the_analytic_kl():
    minidl.manual_seed(0)
    model = IAFVAE(latent_dim=3, channels=(4, 8), hidden=16, flows=0, context=2).eval()
    x = minidl.rand(2, 1, 28, 28, generator=minidl.Generator(1))
    with minidl.no_grad():
        mu, logvar = model.encode(x)
        analytic = gaussian_kl(mu, logvar).mean().item()
        estimates = [model.elbo(x, generator=minidl.Generator(s)).kl.item()
                     for s in range(400)]
    assert np.mean(estimates) == pytest.approx(analytic, abs=4 * np.std(estimates) / 20)


def test_iaf_vae_learns_edits_and_round_trips_a_checkpoint(tmp_path):
    minidl.manual_seed(0)
    model = IAFVAE(latent_dim=4, channels=(8, 16), hidden=32, flows=2, flow_hidden=16,
                   context=8)
    data = MNIST(train=True, limit=256)
    opt = minidl.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for x, _ in DataLoader(data, 64, seed=0):
        for _ in range(3):
            opt.zero_grad()
            terms = model.elbo(x)
            terms.loss.backward()
            opt.step()
            losses.append(terms.loss.item())
    assert losses[-1] < losses[0]
    x = data.get_batch(np.arange(5))[0]
    bound = model.importance_weighted_bound(x, k=20, generator=minidl.Generator(0))
    with minidl.no_grad():
        model.eval()
        neg_elbo = np.mean([model.elbo(minidl.tensor(x), generator=minidl.Generator(s))
                            .loss.item() for s in range(20)])
    assert bound.numpy().mean() < neg_elbo + 1.0   # a tighter (lower) bound
    assert model.reconstruct(x).shape == (5, 1, 28, 28)
    assert model.code(x).shape == (5, 4)
    minidl.save({"model": model.state_dict(), "config": model.config},
                tmp_path / "iaf.npz")
    again = load_vae(tmp_path / "iaf.npz")
    assert isinstance(again, IAFVAE) and again.config == model.config
    np.testing.assert_allclose(again.reconstruct(x).numpy(), model.reconstruct(x).numpy())
