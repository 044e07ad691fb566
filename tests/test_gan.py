"""GANs (models/gan.py, examples/train_gan.py): shapes, DCGAN initialisation, the
losses against their formulas, the gradient penalty (its value, and its gradient --
a double backward through the conv layers -- against finite differences), a few
training steps on tiny shapes, divergence detection, and the example end to end."""
import json
import pathlib
import sys

import numpy as np
import pytest

import minidl
from minidl import nn
from models import SeedCNN
from models.gan import (MLPGenerator, MLPDiscriminator, DCGANGenerator,
                        DCGANDiscriminator, build_gan, dcgan_init_, discriminator_loss,
                        generator_loss, critic_loss, gradient_penalty)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))
import train_gan  # noqa: E402


def log_sigmoid(x):
    return -np.logaddexp(0, -x)


@pytest.mark.parametrize("G, D", [(DCGANGenerator(8, width=4), DCGANDiscriminator(4)),
                                  (MLPGenerator(8), MLPDiscriminator())])
def test_shapes_and_ranges(G, D):
    images = G(minidl.randn(3, 8))
    assert images.shape == (3, 1, 28, 28)
    assert np.abs(images.detach().numpy()).max() <= 1  # tanh
    assert D(images).shape == (3,)


def test_dcgan_initialisation():
    G = DCGANGenerator(64, width=16)
    w = G.net[0].weight.detach().numpy()  # Linear(64, 1568): 100k weights
    assert abs(w.mean()) < 1e-3 and w.std() == pytest.approx(0.02, rel=0.02)
    bn = G.net[1]
    assert bn.weight.detach().numpy().mean() == pytest.approx(1, abs=0.01)
    assert np.all(bn.bias.detach().numpy() == 0)
    D = dcgan_init_(DCGANDiscriminator(16, norm=None))
    assert np.all(D.net[2].bias.detach().numpy() == 0)  # the critic's conv keeps a bias
    assert D.net[2].weight.detach().numpy().std() == pytest.approx(0.02, rel=0.05)
    assert isinstance(D.net[3], nn.Identity)
    assert isinstance(DCGANDiscriminator(4).net[3], nn.BatchNorm2d)
    with pytest.raises(ValueError, match="norm"):
        DCGANDiscriminator(4, norm="layer")


def test_losses_match_their_formulas(rng):
    r, f = rng.standard_normal(6), rng.standard_normal(6)
    real, fake = minidl.tensor(r), minidl.tensor(f)
    # -[log D(x) + log(1 - D(G(z)))], with log(1 - sigmoid(f)) = log_sigmoid(-f)
    expected_d = -(log_sigmoid(r).mean() + log_sigmoid(-f).mean())
    assert discriminator_loss(real, fake).item() == pytest.approx(expected_d)
    assert generator_loss(fake).item() == pytest.approx(-log_sigmoid(f).mean())
    assert generator_loss(fake, "minimax").item() == pytest.approx(
        log_sigmoid(-f).mean())
    assert generator_loss(fake, "wasserstein").item() == pytest.approx(-f.mean())
    assert critic_loss(real, fake).item() == pytest.approx(f.mean() - r.mean())
    with pytest.raises(ValueError, match="generator_loss"):
        generator_loss(fake, "hinge")


def test_minimax_loss_saturates_where_non_saturating_does_not():
    # D is sure the fakes are fake (logit -8): log(1 - D) is flat there, -log D is not
    def grad(kind):
        logits = minidl.tensor(np.full(4, -8.0), requires_grad=True)
        generator_loss(logits, kind).backward()
        return np.abs(logits.grad.numpy()).mean()
    assert grad("minimax") < 1e-3 < 0.2 < grad("non-saturating")


def test_gradient_penalty_of_a_linear_critic_is_exact(rng):
    # D(x) = <w, x> + b has grad_x D = w everywhere: penalty = lambda (||w|| - 1)^2
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 1)).double()
    real = minidl.tensor(rng.standard_normal((5, 3, 2, 2)))
    fake = minidl.tensor(rng.standard_normal((5, 3, 2, 2)))
    norm = np.linalg.norm(critic[1].weight.detach().numpy())
    assert gradient_penalty(critic, real, fake, lambda_=3.0).item() == pytest.approx(
        3.0 * (norm - 1) ** 2)


def test_gradient_penalty_gradient_matches_finite_differences(rng):
    """d penalty / d critic weights needs the derivative of grad_x D(x) with respect to
    the weights: a double backward through Conv2d, LeakyReLU and Linear."""
    critic = DCGANDiscriminator(width=1, norm=None, hidden=4).double()
    for p in critic.parameters():  # larger weights than N(0, 0.02): a non-trivial penalty
        p.detach().numpy()[...] = rng.standard_normal(p.shape) * 0.5
    real = minidl.tensor(rng.random((2, 1, 28, 28)) * 2 - 1)
    fake = minidl.tensor(rng.random((2, 1, 28, 28)) * 2 - 1)
    alpha = minidl.tensor(rng.random((2, 1, 1, 1)))

    def penalty():
        return gradient_penalty(critic, real, fake, lambda_=10.0, alpha=alpha)

    critic.zero_grad()
    value = penalty()
    value.backward()
    assert value.item() > 0.1
    h, checked = 1e-6, 0
    for name, p in critic.named_parameters():
        flat = p.detach().numpy().reshape(-1)
        numeric = np.empty_like(flat)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h
            up = penalty().item()
            flat[i] = old - h
            down = penalty().item()
            flat[i] = old
            numeric[i] = (up - down) / (2 * h)
        # biases only shift the LeakyReLU kinks, so grad_x D and the penalty do not
        # depend on them (locally): no gradient reaches them, and none should
        analytic = np.zeros_like(flat) if p.grad is None else p.grad.numpy().reshape(-1)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6, err_msg=name)
        checked += p.grad is not None
    assert checked == 4  # the weights of both convolutions and both linear layers


def test_gradient_penalty_rejects_mismatched_batches():
    critic = MLPDiscriminator()
    with pytest.raises(ValueError, match="gradient_penalty"):
        gradient_penalty(critic, minidl.zeros(2, 1, 28, 28), minidl.zeros(3, 1, 28, 28))


@pytest.mark.parametrize("loss", ["non-saturating", "wasserstein"])
def test_each_player_improves_in_a_few_steps(loss):
    """With the other player frozen, a few Adam steps lower each player's loss."""
    G, D = build_gan("dcgan", loss, z_dim=8, width=4)
    real = minidl.rand(8, 1, 28, 28) * 2 - 1
    z = minidl.randn(8, 8)
    d_opt = minidl.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    g_opt = minidl.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    kind = loss if loss == "wasserstein" else "non-saturating"

    def d_loss():
        with minidl.no_grad():
            fake = G(z)
        if loss == "wasserstein":
            return critic_loss(D(real), D(fake)) + gradient_penalty(D, real, fake)
        return discriminator_loss(D(real), D(fake))

    d_losses = []
    for _ in range(5):
        d_opt.zero_grad()
        value = d_loss()
        value.backward()
        d_opt.step()
        d_losses.append(value.item())
    g_losses = []
    for _ in range(5):
        D.requires_grad_(False)
        g_opt.zero_grad()
        value = generator_loss(D(G(z)), kind)
        value.backward()
        g_opt.step()
        g_losses.append(value.item())
    assert np.all(np.isfinite(d_losses + g_losses))
    assert d_losses[-1] < d_losses[0]
    assert g_losses[-1] < g_losses[0]


def test_divergence_monitor():
    monitor = train_gan.DivergenceMonitor(patience=3)
    good = {"d_loss": 0.5, "g_loss": 1.0, "d_real": 0.7, "d_fake": 0.3}
    monitor.check("step 1", **good)
    with pytest.raises(train_gan.Divergence, match="not finite"):
        monitor.check("step 2", **{**good, "g_loss": float("nan")})
    low = {**good, "d_loss": 1e-5}
    monitor.check("a", **low)
    monitor.check("b", **low)
    monitor.check("c", **good)  # recovered: the count starts again
    monitor.check("d", **low)
    monitor.check("e", **low)
    with pytest.raises(train_gan.Divergence, match="discriminator loss stayed below"):
        monitor.check("f", **low)
    critic = train_gan.DivergenceMonitor(watch_collapse=False, patience=1)
    critic.check("g", **{**good, "d_loss": -50.0})  # a critic's loss may be anything


COMMON = ["--limit", "80", "--batch-size", "16", "--epochs", "1", "--width", "4",
          "--z-dim", "8", "--no-progress", "--seed", "1"]


def test_dcgan_example_trains_scores_and_saves(tmp_path):
    classifier = tmp_path / "cnn" / "model.npz"
    minidl.save({"model": SeedCNN().state_dict()}, classifier)  # untrained is enough
    out = tmp_path / "gan"
    history = train_gan.main(COMMON + ["--out", str(out), "--classifier", str(classifier),
                                       "--fd-samples", "40", "--save-samples",
                                       str(tmp_path / "s.npy"), "--num-samples", "12"])
    steps = history["steps"]
    assert len(steps["d_loss"]) == len(steps["g_loss"]) == 5  # 80 images / 16
    assert np.all(np.isfinite([v for values in steps.values() for v in values]))
    assert len(set(steps["g_loss"])) > 1  # the losses move
    for name in ("model.npz", "samples.png", "samples_epoch_1.png", "losses.png",
                 "interpolation.png", "metrics.json"):
        assert (out / name).stat().st_size > 1000, name
    metrics = json.loads((out / "metrics.json").read_text())
    final = metrics["final"]
    assert np.isfinite(final["frechet_distance"]) and final["frechet_distance"] > 0
    assert np.isfinite(final["frechet_floor"])
    assert sum(final["coverage"]["counts"]) == 40
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (12, 1, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1


def test_wgan_gp_example_trains(tmp_path):
    history = train_gan.main(COMMON + ["--loss", "wgan-gp", "--n-critic", "2",
                                       "--out", str(tmp_path), "--fd-samples", "0"])
    steps = history["steps"]
    assert len(steps["d_loss"]) == 5 and len(steps["g_loss"]) == 2  # every 2nd step
    assert np.all(np.isfinite(steps["d_loss"] + steps["g_loss"]))
    assert len(set(steps["d_loss"])) == 5


def test_mlp_example_resumes_where_it_stopped(tmp_path):
    base = COMMON[:4] + COMMON[6:] + ["--model", "mlp", "--fd-samples", "0"]
    straight = train_gan.main(base + ["--epochs", "2", "--out", str(tmp_path / "s")])
    train_gan.main(base + ["--epochs", "1", "--out", str(tmp_path / "r")])
    resumed = train_gan.main(base + ["--epochs", "2", "--out", str(tmp_path / "r"),
                                     "--resume"])
    assert resumed["steps"]["g_loss"] == pytest.approx(straight["steps"]["g_loss"],
                                                       rel=1e-5)
    with pytest.raises(SystemExit, match="trained with"):
        train_gan.main(base + ["--epochs", "3", "--out", str(tmp_path / "r"), "--resume",
                               "--loss", "minimax"])
