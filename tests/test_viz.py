"""minidl.viz: the backward graph as data (exact nodes and edges), as DOT text, and
drawn with matplotlib (files written, no overlapping boxes, edges around boxes)."""
import itertools
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl
import minidl.functional as F
from minidl import nn, viz
from minidl.tools.viz import _pack

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
from models import SeedCNN  # noqa: E402
import draw_graphs  # noqa: E402


def named_edges(g):
    """Edges as (src label, dst label) -- for graphs whose labels are unique."""
    label = {n.id: n.label for n in g.nodes}
    return {(label[s], label[d]) for s, d in g.edges}


def seedcnn_loss():
    model = SeedCNN()
    loss = F.cross_entropy(model(minidl.rand(2, 1, 28, 28)), minidl.tensor([3, 7]))
    return loss, dict(model.named_parameters())


def mlp_loss():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 3))
    loss = F.cross_entropy(model(minidl.rand(2, 1, 3, 4)), minidl.tensor([0, 2]))
    return loss, dict(model.named_parameters())


# --------------------------------------------------------------------------------------
# graph(): the nodes and edges.
# --------------------------------------------------------------------------------------
def test_graph_of_a_known_expression():
    a = minidl.randn(3, requires_grad=True)
    b = minidl.randn(3, requires_grad=True)
    z = (a * b + a).sum()
    g = viz.graph(z, {"a": a, "b": b})
    assert [(n.kind, n.label, n.shape, n.dtype) for n in g.nodes] == [
        ("output", "output", (), "float32"), ("op", "Sum", (), "float32"),
        ("op", "Add", (3,), "float32"), ("op", "Mul", (3,), "float32"),
        ("leaf", "a", (3,), "float32"), ("leaf", "b", (3,), "float32")]
    assert [n.id for n in g.nodes] == list(range(6))
    assert len(g.edges) == 6
    assert named_edges(g) == {("Sum", "output"), ("Add", "Sum"), ("Mul", "Add"),
                              ("a", "Add"), ("a", "Mul"), ("b", "Mul")}


def test_shared_subexpression_appears_once_with_one_edge_per_use():
    x = minidl.randn(4, dtype=minidl.float64, requires_grad=True)
    y = x.exp()
    z = (y * y + y).sum()  # y feeds Mul twice and Add once
    g = viz.graph(z)
    assert sorted(n.label for n in g.nodes) == ["Add", "Exp", "Mul", "Sum", "leaf",
                                                "output"]
    assert named_edges(g) == {("leaf", "Exp"), ("Exp", "Mul"), ("Exp", "Add"),
                              ("Mul", "Add"), ("Add", "Sum"), ("Sum", "output")}
    assert len(g.edges) == 6 and all(n.dtype == "float64" for n in g.nodes)


def test_inputs_without_grad_are_left_out():
    a = minidl.randn(3, requires_grad=True)
    c = minidl.randn(3)  # a constant: no gradient flows into it
    g = viz.graph((a * c + 2.0).sum())
    assert sorted(n.kind for n in g.nodes) == ["leaf", "op", "op", "op", "output"]
    assert [n.shape for n in g.nodes if n.kind == "leaf"] == [(3,)]


def test_parameters_are_marked_and_labelled_from_params():
    model = nn.Linear(3, 2)
    loss = model(minidl.randn(4, 3)).sum()
    params = {n.label: n for n in viz.graph(loss, dict(model.named_parameters())).nodes
              if n.kind == "param"}
    assert set(params) == {"weight", "bias"}
    assert params["weight"].shape == (2, 3) and params["bias"].shape == (2,)
    assert params["weight"].text() == "weight\n(2,3)"
    unnamed = viz.graph(loss).nodes
    assert sorted(n.label for n in unnamed if n.kind == "param") == ["Parameter"] * 2
    assert not any(n.kind == "leaf" for n in unnamed)  # the input x needs no grad


def test_seedcnn_graph_has_every_parameter_once():
    loss, params = seedcnn_loss()
    g = viz.graph(loss, params)
    assert sorted(n.label for n in g.nodes if n.kind == "param") == sorted(params)
    assert [n.label for n in g.nodes if n.kind == "op"].count("Conv2d") == 3
    assert 25 <= len(g.nodes) <= 40
    shapes = {n.label: n.shape for n in g.nodes}
    assert shapes["features.0.weight"] == (32, 1, 3, 3)
    assert shapes["LogSoftmax"] == (2, 10)


@pytest.mark.parametrize("make", [
    lambda a: a,                                 # a leaf: nothing was recorded
    lambda a: minidl.randn(3).exp(),             # no input requires grad
    lambda a: _under_no_grad(lambda: a * 2),     # computed under no_grad
])
def test_a_tensor_without_grad_fn_has_no_graph(make):
    t = make(minidl.randn(3, requires_grad=True))
    for show in (viz.graph, viz.to_dot, viz.draw_graph):
        with pytest.raises(ValueError, match="no grad_fn"):
            show(t)


def _under_no_grad(fn):
    with minidl.no_grad():
        return fn()


# --------------------------------------------------------------------------------------
# to_dot(): Graphviz text.
# --------------------------------------------------------------------------------------
NODE_LINE = re.compile(r'^  n(\d+) \[label="((?:[^"\\]|\\.)*)", shape=(box|ellipse), '
                       r'fillcolor="#[0-9a-f]{6}", color="#[0-9a-f]{6}"(, penwidth=2)?\];$')
EDGE_LINE = re.compile(r"^  n(\d+) -> n(\d+);$")


def test_to_dot_has_one_line_per_node_and_edge():
    loss, params = mlp_loss()
    params['odd "name" \\ here'] = params.pop("1.weight")  # quotes must be escaped
    g = viz.graph(loss, params)
    lines = viz.to_dot(loss, params).splitlines()
    assert lines[0] == "digraph backward {" and lines[-1] == "}"
    body = lines[2:-1]
    nodes = [NODE_LINE.match(line) for line in body if "->" not in line]
    edges = [EDGE_LINE.match(line) for line in body if "->" in line]
    assert all(nodes) and all(edges) and len(nodes) + len(edges) == len(body)
    assert sorted(int(m[1]) for m in nodes) == [n.id for n in g.nodes]
    assert {(int(m[1]), int(m[2])) for m in edges} == set(g.edges)
    assert len(edges) == len(g.edges)
    labels = {int(m[1]): m[2] for m in nodes}
    assert labels[0] == r"output\nscalar"
    assert r'odd \"name\" \\ here\n(5,12)' in labels.values()
    text = "\n".join(lines)
    assert text.count("{") == text.count("}") == 1
    shapes = {int(m[1]): m[3] for m in nodes}
    assert all(shapes[n.id] == ("box" if n.kind in ("op", "output") else "ellipse")
               for n in g.nodes)


# --------------------------------------------------------------------------------------
# layout() and draw_graph(): the picture.
# --------------------------------------------------------------------------------------
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 2), st.floats(0.001, 3)),
                min_size=1, max_size=8))
def test_pack_keeps_order_and_gaps_and_moves_nothing_it_need_not(boxes):
    targets, widths, weights = map(list, zip(*boxes))
    x = _pack(targets, widths, weights, gap=0.3)
    for i in range(len(x) - 1):
        assert x[i + 1] - x[i] >= (widths[i] + widths[i + 1]) / 2 + 0.3 - 1e-9
    feasible = sorted(targets)
    if all(b - a >= (wa + wb) / 2 + 0.3 for a, b, wa, wb
           in zip(feasible, feasible[1:], widths, widths[1:])):
        assert np.allclose(_pack(feasible, widths, weights, 0.3), feasible)


def test_pack_finds_the_weighted_least_squares_positions():
    # Two unit boxes both wanting x=0, gap 1 => 2 apart; the heavy one barely moves.
    assert np.allclose(_pack([0.0, 0.0], [1.0, 1.0], [3.0, 1.0], 1.0), [-0.5, 1.5])


def _residual_graph():
    """Edges that skip layers (x and w1 are used far below): routes need dummies."""
    x = minidl.randn(4, 8, requires_grad=True)
    w1, w2 = nn.Parameter(minidl.randn(8, 8)), nn.Parameter(minidl.randn(8, 8))
    h = x
    for w in (w1, w2):
        h = F.relu(h @ w) + h
    return viz.graph((h.tanh() * x).mean() + (w1 * w1).sum())


def test_layout_boxes_do_not_overlap_and_edges_go_around_boxes():
    g = _residual_graph()
    sizes = {n.id: (0.1 * len(n.text()), 0.4) for n in g.nodes}
    pos = viz.layout(g, sizes)
    boxes = {i: (x - sizes[i][0] / 2, y - sizes[i][1] / 2, x + sizes[i][0] / 2,
                 y + sizes[i][1] / 2) for i, (x, y) in pos.centre.items()}
    for (i, a), (j, b) in itertools.combinations(boxes.items(), 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (i, j)
    assert any(len(route) > 0 for route in pos.routes.values())  # some edge was routed
    for src, dst in g.edges:
        points = ([(pos.centre[src][0], boxes[src][1])] + pos.routes[src, dst]
                  + [(pos.centre[dst][0], boxes[dst][3])])
        ys = [y for _, y in points]
        assert ys == sorted(ys, reverse=True), "edges point down, to the output"
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for t in np.linspace(0, 1, 41):
                px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                for k, (l, b, r, tp) in boxes.items():
                    inside = l + 1e-6 < px < r - 1e-6 and b + 1e-6 < py < tp - 1e-6
                    assert not inside, f"edge {src}->{dst} crosses node {k}"


def _rendered_boxes(fig):
    """Window extents of the node boxes, the node texts and the rest (title, legend)."""
    from matplotlib.patches import FancyBboxPatch
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    ax = fig.axes[0]
    boxes = [p.get_window_extent(renderer) for p in ax.patches
             if isinstance(p, FancyBboxPatch)]
    texts = [t.get_window_extent(renderer) for t in ax.texts]
    return boxes, texts, ax.get_legend().get_window_extent(renderer)


def test_seedcnn_drawing_has_no_overlapping_boxes_or_stray_text():
    loss, params = seedcnn_loss()
    fig = viz.draw_graph(loss, params=params, title="SeedCNN")
    boxes, texts, legend = _rendered_boxes(fig)
    assert len(boxes) == len(viz.graph(loss).nodes)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    inside = [t for t in texts if any(b.x0 <= t.x0 and t.x1 <= b.x1 and b.y0 <= t.y0
                                      and t.y1 <= b.y1 for b in boxes)]
    assert len(inside) == 2 * len(boxes)  # a label and a shape line in every box
    title = [t for t in texts if t not in inside]
    assert len(title) == 1
    width, height = fig.get_size_inches() * fig.dpi
    for extra in title + [legend]:
        assert not any(extra.overlaps(b) for b in boxes)
        assert 0 <= extra.x0 and extra.x1 <= width and extra.y1 <= height


@pytest.mark.parametrize("make", [mlp_loss, seedcnn_loss])
def test_draw_graph_writes_png_and_svg(make, tmp_path):
    loss, params = make()
    viz.draw_graph(loss, tmp_path / "g.png", params=params)
    viz.draw_graph(loss, tmp_path / "g.svg", params=params, title="a graph")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "</svg>" in svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png", "g.svg"]  # no temps


def test_example_script_writes_both_figures(tmp_path):
    draw_graphs.main(["--out", str(tmp_path), "--seed", "1"])
    for name in ("graph_mlp.png", "graph_seedcnn.png"):
        assert (tmp_path / name).stat().st_size > 10_000, name


def test_import_minidl_does_not_import_matplotlib():
    code = "import sys, minidl; minidl.viz.graph; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
