"""The conditional models (models/cvae.py, models/cgan.py), their scores
(models/frechet.py: conditional_scores), the health report (models/health.py), and the
example scripts' conditional modes on a few hundred images."""
import json
import pathlib
import sys

import numpy as np
import pytest

import minidl
from minidl.data import DataLoader, TensorDataset
from minidl.tensor import ShapeError
from models import frechet, health
from models.cgan import ConditionalGenerator, ProjectionDiscriminator
from models.cvae import ConditionalVAE, one_hot
from models.gan import discriminator_loss, generator_loss
from models.vae import load_vae

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import train_gan  # noqa: E402
import train_vae  # noqa: E402


# ------------------------------------------------------------------ conditional VAE
def test_one_hot_and_its_checks():
    np.testing.assert_array_equal(one_hot([2, 0], 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(one_hot(1, 3, n=2).numpy(), [[0, 1, 0], [0, 1, 0]])
    for bad in ([10], [-1], [1.5], [[1]]):
        with pytest.raises(ValueError, match="one_hot"):
            one_hot(bad)


def test_the_label_reaches_the_decoder():
    minidl.manual_seed(0)
    model = ConditionalVAE(latent_dim=3, channels=(4, 8), hidden=16).eval()
    z = minidl.zeros(2, 3)
    with minidl.no_grad():
        a, b = model.decode(z, [1, 7]).numpy()
    assert not np.allclose(a, b)          # same z, different digit -> different image


def bars(n=256, seed=0):
    """A toy data set where the label decides the picture: digit 0 is a horizontal
    bar, digit 1 a vertical one, each shifted by -3..3 pixels (the "style")."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = np.zeros((n, 1, 28, 28), np.float32)
    for i, s in enumerate(rng.integers(-3, 4, n)):
        if y[i] == 0:
            x[i, 0, 12 + s:16 + s, 4:24] = 1
        else:
            x[i, 0, 4:24, 12 + s:16 + s] = 1
    return x, y


@pytest.fixture(scope="module")
def cvae():
    """A small conditional VAE after 30 epochs on 256 bars (a few seconds)."""
    minidl.manual_seed(0)
    model = ConditionalVAE(latent_dim=2, channels=(4, 8), hidden=32)
    opt = minidl.optim.Adam(model.parameters(), lr=3e-3)
    data = TensorDataset(*bars())
    for epoch in range(30):
        for x, y in DataLoader(data, 32, shuffle=True, seed=epoch):
            opt.zero_grad()
            model.elbo(x, y).loss.backward()
            opt.step()
    return model.eval()


def test_cvae_draws_the_requested_digit(cvae):
    """Asked for a 0, it draws horizontal bars; asked for a 1, vertical ones."""
    for digit in (0, 1):
        drawn = cvae.sample([digit] * 20, minidl.Generator(1)).numpy()
        assert np.array_equal(drawn, cvae.sample([digit] * 20,
                                                 minidl.Generator(1)).numpy())
        left = drawn[:, 0, 10:18, 2:10].mean()   # only a horizontal bar reaches here
        top = drawn[:, 0, 2:10, 10:18].mean()    # only a vertical bar reaches here
        assert (left > 5 * top) if digit == 0 else (top > 5 * left)


def test_cvae_transfers_style(cvae):
    x, y = bars(4, seed=1)
    assert cvae.transfer_style(x, y).shape == (4, 10, 1, 28, 28)  # every digit
    out = cvae.transfer_style(x, y, targets=[0, 1])
    assert out.shape == (4, 2, 1, 28, 28)
    # redrawn as its own label, an image comes back as its reconstruction
    for i in range(4):
        np.testing.assert_allclose(out.numpy()[i, y[i]],
                                   cvae.reconstruct(x[i:i + 1], y[i:i + 1]).numpy()[0],
                                   atol=1e-5)
    # a horizontal bar redrawn as a 1 is a vertical bar
    assert out.numpy()[0, 1, 0, 2:10, 10:18].mean() > 5 * out.numpy()[0, 1, 0, 10:18,
                                                                       2:10].mean()
    assert cvae.transfer_style(x[0], [y[0]], targets=[1]).shape == (1, 1, 28, 28)
    with pytest.raises(ValueError, match="one_hot"):
        cvae.transfer_style(x[0], [y[0]], targets=[10])
    with pytest.raises(ShapeError, match="3 labels for 2 images"):
        cvae.encode(minidl.tensor(x[:2]), [1, 0, 1])


def test_cvae_elbo_terms_and_checkpoint_round_trip(cvae, tmp_path):
    x, y = bars(8, seed=2)
    with minidl.no_grad():
        terms = cvae.elbo(minidl.tensor(x), y, generator=minidl.Generator(0))
    assert terms.loss.item() == pytest.approx(terms.reconstruction.item() +
                                              terms.kl.item(), rel=1e-6)
    minidl.save({"model": cvae.state_dict(), "config": cvae.config}, tmp_path / "c.npz")
    again = load_vae(tmp_path / "c.npz")
    assert isinstance(again, ConditionalVAE)
    np.testing.assert_allclose(again.reconstruct(x, y).numpy(),
                               cvae.reconstruct(x, y).numpy())


# ------------------------------------------------------------------ conditional GAN
def test_conditional_gan_shapes_and_the_projection_uses_the_label():
    minidl.manual_seed(0)
    G, D = ConditionalGenerator(z_dim=8, width=4), ProjectionDiscriminator(width=4,
                                                                          hidden=16)
    z = minidl.randn(3, 8)
    images = G(z, [0, 1, 2])
    assert images.shape == (3, 1, 28, 28)
    assert np.abs(images.detach().numpy()).max() <= 1
    D.eval()
    with minidl.no_grad():
        a, b = D(images, [0, 1, 2]), D(images, [5, 5, 5])
    assert a.shape == (3,) and not np.allclose(a.numpy(), b.numpy())
    # the losses of models/gan.py apply unchanged; gradients reach both players
    D.train()
    loss = discriminator_loss(D(images.detach(), [0, 1, 2]), D(images.detach(), [3, 4, 5]))
    loss.backward()
    assert all(p.grad is not None for p in D.parameters())
    generator_loss(D(G(z, [1, 1, 1]), [1, 1, 1])).backward()
    assert all(p.grad is not None for p in G.parameters())


# ------------------------------------------------------------------ scores and health
def test_conditional_scores_count_hits_per_requested_class():
    # the classifier's outputs are given (classifier_features replaced for the test)
    images = np.zeros((4, 1, 28, 28), np.float32)
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]])
    features = np.random.default_rng(0).standard_normal((4, 3))
    real = np.random.default_rng(1).standard_normal((6, 3))
    original = frechet.classifier_features
    frechet.classifier_features = lambda model, x: (features, probabilities)
    try:
        scores = frechet.conditional_scores(images, [0, 1, 1, 1], None, real,
                                            np.array([0, 0, 0, 1, 1, 1]), num_classes=2)
    finally:
        frechet.classifier_features = original
    assert scores["accuracy"] == 0.5
    assert scores["per_class_accuracy"] == [1.0, pytest.approx(1 / 3)]
    assert np.isnan(scores["frechet_per_class"][0])      # one sample: no covariance
    assert scores["frechet_per_class"][1] == pytest.approx(
        frechet.frechet_distance_features(features[1:], real[3:]))


def test_health_numbers():
    assert health.active_units([0.0, 0.005, 0.02, 3.0]) == 2
    kl = health.kl_per_unit(np.array([[1.0, 0.0]]), np.array([[0.0, np.log(2)]]))
    np.testing.assert_allclose(kl, [0.5, 0.5 * (2 - 1 - np.log(2))])
    coverage = frechet.class_coverage([0, 0, 0, 1])
    assert "MODE COLLAPSE" in health.collapse_alarm(coverage | {"counts": [3, 1] + [0] * 8})
    assert health.collapse_alarm(frechet.class_coverage(np.arange(100) % 10)) is None
    model = minidl.nn.Sequential(minidl.nn.Linear(2, 3), minidl.nn.ReLU(),
                                 minidl.nn.Linear(3, 1))
    model(minidl.ones(4, 2)).sum().backward()
    norms = health.layer_grad_norms(model)
    assert list(norms) == ["0 Linear", "2 Linear"]
    w, b = model[2].weight.grad.numpy(), model[2].bias.grad.numpy()
    assert norms["2 Linear"] == pytest.approx(np.sqrt((w ** 2).sum() + (b ** 2).sum()))


# ------------------------------------------------------------------ the examples
def test_train_vae_conditional_and_flow_modes(tmp_path):
    base = ["--limit", "200", "--epochs", "1", "--no-progress", "--latent-dim", "3",
            "--channels", "4", "8", "--hidden", "16", "--score-samples", "0"]
    history = train_vae.main(base + ["--model", "cvae", "--out", str(tmp_path / "c"),
                                     "--iw-samples", "0"])
    assert len(history["kl_per_unit"][0]) == 3
    for name in ("samples.png", "style.png", "health.png", "reconstructions.png"):
        assert (tmp_path / "c" / name).stat().st_size > 1000, name
    train_vae.main(base + ["--flows", "2", "--out", str(tmp_path / "f"),
                           "--iw-samples", "3", "--iw-images", "20"])
    metrics = json.loads((tmp_path / "f" / "metrics.json").read_text())
    assert metrics["config"]["model"] == "iaf" and metrics["iw_bound"] is not None


def test_train_gan_conditional_mode_writes_health(tmp_path):
    history = train_gan.main(["--model", "cdcgan", "--limit", "128", "--epochs", "1",
                              "--width", "4", "--z-dim", "8", "--no-progress",
                              "--fd-samples", "0", "--out", str(tmp_path)])
    record = history["epochs"][0]
    assert record["g_grad_norms"] and record["d_grad_norms"]
    for name in ("samples.png", "health.png", "losses.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    with pytest.raises(SystemExit, match="cdcgan"):
        train_gan.main(["--model", "cdcgan", "--loss", "wgan-gp", "--limit", "64",
                        "--epochs", "1", "--out", str(tmp_path / "w")])


def test_frechet_floor_per_class_is_one_finite_distance_per_digit():
    from models.cnn import SeedCNN
    minidl.manual_seed(0)
    floors = frechet.floor_per_class(SeedCNN().eval(), n=300)
    assert len(floors) == 10 and all(np.isfinite(f) and f >= 0 for f in floors)
