"""examples/mnist_minimal.py, PyTorch's MNIST example in minidl: it learns, and the
same seed gives the same numbers."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))
import mnist_minimal  # noqa: E402


def test_minimal_example_learns_and_is_deterministic(capsys):
    args = ["--limit", "640", "--epochs", "1", "--seed", "3"]
    loss, accuracy = mnist_minimal.main(args)
    assert accuracy > 0.4 and loss < 2.0  # chance: 0.1 and ln 10 = 2.3
    assert "epoch 1 [0/640]" in capsys.readouterr().out
    assert mnist_minimal.main(args) == (loss, accuracy)
