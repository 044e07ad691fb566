"""examples/tour.py runs end to end: every check it shows passes, the graph it prints
has the expression's nodes, and it writes its two figures."""
import math
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import tour  # noqa: E402


def test_tour_runs_and_every_check_it_prints_passes(tmp_path, capsys):
    results = tour.main(["--out", str(tmp_path)])
    assert results and all(results.values()), results
    for name in ("graph.png", "swish.png", "im2col.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name
    printed = capsys.readouterr().out
    for node in ("TanhBackward", "SubBackward", "PowBackward", "MulBackward"):
        assert node in printed
    assert printed.count("w = -1.5000  (leaf, requires_grad)") >= 2  # w is used twice


def test_backward_by_hand_matches_the_chain_rule_on_paper():
    w, b, L, names = tour.step_expression()
    grads = tour.manual_backward(L, names)
    h = math.tanh(-1.5 * 0.5 + 0.25)
    dz = 2 * (h - 0.8) * (1 - h * h)
    np.testing.assert_allclose([grads["w"], grads["b"]], [dz * 0.5 + 0.2 * -1.5, dz],
                               rtol=1e-12)


def test_swish_function_matches_silu_and_its_derivative():
    import minidl
    x = minidl.tensor(np.linspace(-4, 4, 9), dtype=minidl.float64, requires_grad=True)
    tour.swish(x).sum().backward()
    s = 1 / (1 + np.exp(-x.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), s + x.detach().numpy() * s * (1 - s), rtol=1e-12)
