"""End-to-end: the example scripts train for real on a few hundred images, learn, save
what they promise, and resume from their checkpoints."""
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import train_mlp  # noqa: E402
import train_cnn  # noqa: E402


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
