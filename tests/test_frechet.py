"""The Frechet distance and class coverage (models/frechet.py): exact values for
Gaussians with known closed-form distance, estimates from samples, and the SeedCNN
feature extractor loaded from a checkpoint."""
import json
import re

import numpy as np
import pytest

import minidl
from models import SeedCNN
from models import frechet


def random_spd(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def reference_trace_sqrt(s1, s2):
    """tr((S1 S2)^(1/2)) the slow way: S1 S2 is not symmetric, but its eigenvalues
    are real and >= 0, and the trace of its square root is the sum of their roots."""
    eigenvalues = np.linalg.eigvals(s1 @ s2)
    return np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()


def test_identical_statistics_give_zero(rng):
    mu, sigma = rng.standard_normal(5), random_spd(rng, 5)
    assert frechet.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-9)
    features = rng.standard_normal((300, 8))
    assert frechet.frechet_distance_features(features, features) == pytest.approx(
        0, abs=1e-9)


def test_diagonal_gaussians_match_the_closed_form(rng):
    # commuting covariances: d^2 = ||m1 - m2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2
    m1, m2 = rng.standard_normal(4), rng.standard_normal(4)
    a, b = rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet.frechet_distance(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(
        expected, rel=1e-10)


@pytest.mark.parametrize("d", [1, 2, 6])
def test_general_covariances_match_a_reference(rng, d):
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    expected = (np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2)
                - 2 * reference_trace_sqrt(s1, s2))
    got = frechet.frechet_distance(m1, s1, m2, s2)
    assert got == pytest.approx(expected, rel=1e-8)
    assert frechet.frechet_distance(m2, s2, m1, s1) == pytest.approx(got, rel=1e-8)


def test_sqrtm_psd_squares_back(rng):
    s = random_spd(rng, 5)
    root = frechet.sqrtm_psd(s)
    np.testing.assert_allclose(root @ root, s, atol=1e-10)
    np.testing.assert_allclose(root, root.T, atol=1e-12)


def test_sampled_sets_estimate_the_exact_distance(rng):
    m1, m2 = np.zeros(3), np.array([1.0, -0.5, 0.0])
    s1, s2 = np.diag([1.0, 2.0, 0.5]), random_spd(rng, 3)
    x = rng.multivariate_normal(m1, s1, 20_000)
    y = rng.multivariate_normal(m2, s2, 20_000)
    exact = frechet.frechet_distance(m1, s1, m2, s2)
    assert frechet.frechet_distance_features(x, y) == pytest.approx(exact, rel=0.05)


def test_distance_grows_as_a_set_is_shifted(rng):
    x = rng.standard_normal((5000, 4))
    y = rng.standard_normal((5000, 4))
    distances = [frechet.frechet_distance_features(x, y + shift)
                 for shift in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert distances[0] < 0.02  # two samples of the same Gaussian: near 0
    assert all(a < b for a, b in zip(distances, distances[1:]))
    # shifting every coordinate by s moves the mean by s * sqrt(4): d^2 ~ 4 s^2
    assert distances[-1] == pytest.approx(4 * 4.0 ** 2, rel=0.05)


def test_frechet_distance_rejects_mismatched_shapes(rng):
    with pytest.raises(ValueError, match="frechet_distance"):
        frechet.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="feature_statistics"):
        frechet.frechet_distance_features(np.zeros(5), np.zeros(5))


def test_class_coverage_of_uniform_and_collapsed_labels():
    uniform = frechet.class_coverage(np.repeat(np.arange(10), 7))
    assert uniform["counts"] == [7] * 10
    assert uniform["classes_seen"] == 10
    assert uniform["entropy"] == pytest.approx(np.log(10))
    assert uniform["max_entropy"] == pytest.approx(np.log(10))
    collapsed = frechet.class_coverage(np.full(50, 3))
    assert collapsed["classes_seen"] == 1 and collapsed["entropy"] == 0
    two = frechet.class_coverage([1, 1, 8, 8])
    assert two["entropy"] == pytest.approx(np.log(2))
    assert two["fractions"][1] == 0.5
    json.dumps(uniform)  # plain Python numbers: goes straight into metrics.json
    with pytest.raises(ValueError, match="class_coverage"):
        frechet.class_coverage([0, 10])


def test_missing_classifier_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_cnn.py"):
        frechet.load_classifier(tmp_path / "nothing" / "model.npz")


def test_features_come_from_the_penultimate_layer_of_a_saved_cnn(tmp_path, rng):
    model = SeedCNN()
    minidl.save({"model": model.state_dict(), "epoch": 0}, tmp_path / "model.npz")
    loaded = frechet.load_classifier(tmp_path / "model.npz")
    images = rng.random((7, 1, 28, 28)).astype(np.float32)
    features, probs = frechet.classifier_features(loaded, images, batch_size=3)
    assert features.shape == (7, 64) and probs.shape == (7, 10)
    assert (features >= 0).all()  # after the penultimate ReLU
    with minidl.no_grad():
        logits = model.eval()(minidl.tensor(images)).numpy()
    np.testing.assert_allclose(probs, np.exp(logits) / np.exp(logits).sum(1, keepdims=True),
                               rtol=1e-5)
    # the last layer applied to the features gives the logits
    last = model.classifier[-1]
    np.testing.assert_allclose(features @ last.weight.detach().numpy().T + last.bias.detach().numpy(),
                               logits, rtol=1e-4, atol=1e-5)
    # (N, 28, 28) works too; anything else is rejected clearly
    f2, _ = frechet.classifier_features(loaded, images[:, 0])
    np.testing.assert_allclose(f2, features, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="classifier_features"):
        frechet.classifier_features(loaded, images.reshape(7, 1, 784))
    score = frechet.score_samples(images, loaded, features)
    assert score["frechet_distance"] == pytest.approx(0, abs=1e-6)
    assert sum(score["coverage"]["counts"]) == 7
    assert score["confident"] == frechet.confident_fraction(probs)


def test_confident_fraction_counts_sure_predictions():
    p = np.array([[0.95, 0.05], [0.5, 0.5], [0.1, 0.9], [0.89, 0.11]])
    assert frechet.confident_fraction(p) == 0.5
    assert frechet.confident_fraction(p, threshold=0.5) == 1.0
    with pytest.raises(ValueError, match="confident_fraction"):
        frechet.confident_fraction(np.ones(3))


@pytest.mark.parametrize("make, argv, message", [
    (None, ["missing.npy"], "does not exist"),
    (None, ["{dir}"], "is not a file"),
    (np.zeros((3, 1, 28, 28)), ["{f}", "--n", "1"], "integer >= 2"),
    (np.zeros((3, 1, 28, 28)), ["{f}", "--n", "ten"], "integer >= 2"),
    (np.zeros((3, 1, 28, 28)), ["{f}", "--data-dir", "nowhere"], "does not exist"),
    (np.zeros((3, 28)), ["{f}"], "expected images"),
    (np.zeros((1, 28, 28)), ["{f}"], "N >= 2"),
    (np.full((3, 28, 28), 2.0), ["{f}"], r"values in \[0, 1\]"),
    (np.full((3, 28, 28), np.nan), ["{f}"], "finite"),
    (b"not an array", ["{f}"], "not a .npy array file"),
    (np.zeros((3, 28, 28)), ["{f}", "--classifier", "{dir}/none.npz"], "no classifier"),
])
def test_command_line_is_checked_before_any_work(tmp_path, capsys, make, argv, message):
    f = tmp_path / "samples.npy"
    if isinstance(make, bytes):
        f.write_bytes(make)
    elif make is not None:
        np.save(f, make)
    argv = [a.format(f=f, dir=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as stop:
        frechet.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    error = err[err.index("error:"):]
    assert re.search(message, error), err
