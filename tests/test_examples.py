"""End-to-end: the example scripts train for real on a few hundred images, learn, save
what they promise, and resume from their checkpoints."""
import json
import pathlib
import sys

import pytest

import minidl
from minidl.data import MNIST

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import train_mlp  # noqa: E402
import train_cnn  # noqa: E402
import training  # noqa: E402


def test_mlp_example_learns_and_saves(tmp_path):
    history = train_mlp.main(["--epochs", "3", "--limit", "600", "--batch-size", "32",
                              "--out", str(tmp_path), "--no-progress", "--seed", "1"])
    assert history["train_loss"][-1] < history["train_loss"][0] * 0.7
    assert history["test_acc"][-1] > 0.6  # chance is 0.1
    for name in ("model.npz", "curves.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test_accuracy"] == history["test_acc"][-1]


def test_mlp_example_is_deterministic_for_a_seed(tmp_path):
    args = ["--epochs", "1", "--limit", "200", "--no-progress", "--seed", "3"]
    a = train_mlp.main(args + ["--out", str(tmp_path / "a")])
    b = train_mlp.main(args + ["--out", str(tmp_path / "b")])
    assert a["train_loss"] == b["train_loss"] and a["test_acc"] == b["test_acc"]


def test_mlp_example_resume_continues_where_it_stopped(tmp_path):
    base = ["--limit", "200", "--no-progress", "--seed", "2"]
    straight = train_mlp.main(base + ["--epochs", "2", "--out", str(tmp_path / "s")])
    train_mlp.main(base + ["--epochs", "1", "--out", str(tmp_path / "r")])
    resumed = train_mlp.main(base + ["--epochs", "2", "--out", str(tmp_path / "r"),
                                     "--resume"])
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-6)


def test_cnn_example_learns_and_writes_its_figures(tmp_path):
    acc = train_cnn.main(["--epochs", "2", "--limit", "500", "--out", str(tmp_path),
                          "--no-progress", "--seed", "0"])
    assert acc > 0.5  # a few hundred images, two epochs: well above chance (0.1)
    for name in ("model.npz", "curves.png", "confusion.png", "filters.png",
                 "feature_maps.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["history"]["train_loss"][-1] < metrics["history"]["train_loss"][0]


def test_cnn_example_resumes_mid_schedule(tmp_path, monkeypatch):
    """Stopped after epoch 1 of 2 and resumed, the cosine-scheduled run ends exactly
    where the uninterrupted one does (the scheduler is in the checkpoint)."""
    base = ["--epochs", "2", "--limit", "100", "--no-progress", "--seed", "4"]
    train_cnn.main(base + ["--out", str(tmp_path / "s")])
    straight = json.loads((tmp_path / "s" / "metrics.json").read_text())["history"]

    real_epoch, calls = training.train_epoch, []

    def stop_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", stop_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_cnn.main(base + ["--out", str(tmp_path / "r")])
    monkeypatch.setattr(training, "train_epoch", real_epoch)
    train_cnn.main(base + ["--out", str(tmp_path / "r"), "--resume"])
    resumed = json.loads((tmp_path / "r" / "metrics.json").read_text())["history"]
    assert resumed["train_loss"] == pytest.approx(straight["train_loss"], rel=1e-6)
    assert resumed["test_acc"] == straight["test_acc"]


def test_cnn_example_constant_schedule_is_the_seed_recipe(tmp_path):
    base = ["--epochs", "1", "--limit", "100", "--no-progress", "--seed", "4"]
    train_cnn.main(base + ["--out", str(tmp_path / "c"), "--schedule", "constant"])
    train_cnn.main(base + ["--out", str(tmp_path / "d")])
    constant = minidl.load(tmp_path / "c" / "model.npz")
    cosine = minidl.load(tmp_path / "d" / "model.npz")
    assert constant["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-3)
    assert "scheduler" not in constant
    assert cosine["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_cnn_example_with_augmentation_reports_the_moved_test_set(tmp_path):
    base = ["--epochs", "1", "--limit", "200", "--no-progress", "--seed", "5"]
    train_cnn.main(base + ["--augment", "--out", str(tmp_path / "a")])
    train_cnn.main(base + ["--out", str(tmp_path / "p")])
    augmented, plain = (json.loads((tmp_path / d / "metrics.json").read_text())
                        for d in ("a", "p"))
    assert 0 <= augmented["moved_test_accuracy"] <= 1
    assert augmented["history"]["train_loss"] != plain["history"]["train_loss"]
    assert (tmp_path / "a" / "moved_test.png").stat().st_size > 1000
    # the moved test set is the same for every run
    images = [train_cnn.moved_test_set(MNIST(train=False, limit=50))
              .get_batch([0, 1])[0] for _ in range(2)]
    assert (images[0] == images[1]).all()
