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
    graph = printed[printed.index("=== 2."):printed.index("=== 3.")]
    for line in ("wx = -0.7500   MulBackward  <- w, 0.5", "w = -1.5000   leaf",
                 "pen = +0.2250   MulBackward  <- 0.1, w2",
                 "L = +1.8179   AddBackward  <- sq, pen"):
        assert line in graph  # every node by name, constants as values
    assert graph.index(" w = ") < graph.index(" wx = ") < graph.index(" L = ")  # forward
    backward = printed[printed.index("=== 3."):printed.index("=== 4.")]
    assert "dh/dz = 1 - h^2 = +0.786448, so z gets -2.524234 * +0.786448" in backward
    assert backward.count(", so w gets") == 2  # w is used twice
    assert printed.index("=== 5. A new op: swish(x) = x * sigmoid(x)") < printed.index(
        "forgets the product rule")  # swish is defined before its broken twin is shown


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
