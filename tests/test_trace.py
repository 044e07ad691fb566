"""minidl.trace(): which rows a traced block records (ops, backward calls, spans), how
they nest, that self times add up, and that tracing leaves no state behind."""
import gc
import threading

import numpy as np
import pytest

import minidl
import minidl.functional as F
from minidl import nn

from minidl.tools import trace as trace_module  # (minidl.trace is the function)


@pytest.fixture(autouse=True)
def _no_automatic_gc():
    """Python's collector runs when it likes and would add rows (tested on its own)."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


def _layout(t):
    """(kind, name, phase, depth) of every row, in order."""
    return [(r.kind, r.name, r.phase, r.depth) for r in t.rows]


def _parent(t, i):
    """The row that directly encloses row i."""
    depth = t.rows[i].depth
    return next(r for r in reversed(t.rows[:i]) if r.depth == depth - 1)


def _idle():
    return trace_module.active is None


def test_known_expression_gives_exact_rows():
    x = minidl.randn(2, 3, dtype=minidl.float64, requires_grad=True)
    w = minidl.randn(3, 4, dtype=minidl.float64, requires_grad=True)
    with minidl.trace() as t:
        (x @ w).relu().sum().backward()
    assert _layout(t) == [
        ("op", "MatMul", "forward", 0),
        ("op", "ReLU", "forward", 0),
        ("span", "relu", "forward", 1),         # its kernel (kernels/activation.py)
        ("op", "Sum", "forward", 0),
        ("span", "autograd engine", "backward", 0),
        ("backward", "SumBackward", "backward", 1),
        ("op", "Reshape", "backward", 2),       # g () -> (1, 1)
        ("op", "Expand", "backward", 2),        # -> (2, 4)
        ("backward", "ReLUBackward", "backward", 1),
        ("op", "SlopeMask", "backward", 2),     # g where the output is positive
        ("span", "relu_grad", "backward", 3),
        ("backward", "MatMulBackward", "backward", 1),
        ("op", "Permute", "backward", 2),       # w^T
        ("op", "MatMul", "backward", 2),        # dx = g @ w^T
        ("op", "Permute", "backward", 2),       # x^T
        ("op", "MatMul", "backward", 2),        # dw = x^T @ g
    ]
    matmul, relu, total = [r for r in t.rows if r.kind == "op"][:3]
    assert matmul.input_shapes == ((2, 3), (3, 4)) and matmul.output_shape == (2, 4)
    assert relu.input_shapes == ((2, 4),) and relu.output_shape == (2, 4)
    assert total.input_shapes == ((2, 4),) and total.output_shape == ()
    assert {r.dtype for r in t.rows if r.kind != "span"} == {"float64"}
    # bytes: new output arrays; views (Reshape, Expand, Permute) allocate nothing
    assert [r.bytes for r in (matmul, relu, total)] == [64, 64, 8]
    views = [r.bytes for r in t.rows if r.name in ("Reshape", "Expand", "Permute")]
    assert views == [0] * 4
    assert [r.bytes for r in t.rows if r.name == "MatMul"] == [64, 6 * 8, 12 * 8]
    # a backward row shows the shapes of the forward op it differentiates
    node = next(r for r in t.rows if r.name == "MatMulBackward")
    assert node.input_shapes == ((2, 3), (3, 4)) and node.output_shape == (2, 4)
    assert node.bytes == 0
    assert x.grad is not None and w.grad is not None


def test_table_counts_calls_per_name_and_phase():
    x = minidl.randn(2, 3, requires_grad=True)
    w = minidl.randn(3, 4, requires_grad=True)
    with minidl.trace() as t:
        (x @ w).relu().sum().backward()
    calls = {}
    for line in t.table().splitlines()[2:-2]:  # (header, rule, ..., 2 lines of notes)
        cells = line.split()  # name (may hold spaces), phase, calls, 5 numbers
        calls[(" ".join(cells[:-7]), cells[-7])] = int(cells[-6])
    assert calls == {
        ("MatMul", "forward"): 1, ("ReLU", "forward"): 1, ("Sum", "forward"): 1,
        ("autograd engine", "backward"): 1, ("SumBackward", "backward"): 1,
        ("Reshape", "backward"): 1, ("Expand", "backward"): 1,
        ("ReLUBackward", "backward"): 1, ("SlopeMask", "backward"): 1,
        ("relu", "forward"): 1, ("relu_grad", "backward"): 1,  # the kernels
        ("MatMulBackward", "backward"): 1, ("Permute", "backward"): 2,
        ("MatMul", "backward"): 2}
    assert str(t) == t.table()
    markdown = t.table(markdown=True).splitlines()
    assert markdown[0].startswith("| name | phase | calls |")
    assert markdown[1].startswith("| --- | --- | ---: |")
    assert "2x3 3x4" in t.table(group_by="shape")  # MatMul's input shapes
    short = t.table(top=3).splitlines()[2:6]  # 3 groups, then the other 11 summed
    top_calls = sum(int(line.split()[-6]) for line in short[:3])
    assert short[3].split()[:3] == ["(11", "more)", str(len(t.rows) - top_calls)]
    with pytest.raises(ValueError, match="group_by"):
        t.table(group_by="layer")


def test_self_times_add_up_to_at_most_the_wall_time():
    a = minidl.randn(300, 300, dtype=minidl.float64, requires_grad=True)
    with minidl.trace() as t:
        y = a
        for _ in range(4):
            y = (y @ a).tanh()
        y.sum().backward()
    assert all(r.ms >= r.self_ms >= -1e-9 for r in t.rows)
    self_total = sum(r.self_ms for r in t.rows)
    outermost = sum(r.ms for r in t.rows if r.depth == 0)
    assert self_total == pytest.approx(outermost, rel=1e-9)
    assert 0 < self_total <= t.total_ms
    assert self_total > 0.5 * t.total_ms  # compute-heavy: little time outside ops
    children = {}  # a row's self time excludes exactly the rows directly inside it
    for i, r in enumerate(t.rows):
        if r.depth:
            children.setdefault(id(_parent(t, i)), []).append(r.ms)
    for r in t.rows:
        assert r.ms - sum(children.get(id(r), [])) == pytest.approx(r.self_ms, abs=1e-9)


def _small_cnn():
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(3, 4, 3, padding=1), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Linear(4, 5))


def test_conv_step_shows_im2col_gemm_col2im_pooling_and_the_optimizer():
    model = _small_cnn()
    opt = minidl.optim.Adam(model.parameters())
    x, y = minidl.randn(2, 2, 6, 6), minidl.tensor([1, 3])
    with minidl.trace() as t:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    forward = [(r.name, r.phase) for r in t.rows if r.kind == "span"]
    assert forward.count(("im2col", "forward")) == 2
    assert forward.count(("GEMM", "forward")) == 2
    assert forward.count(("max_pool2x2_forward", "forward")) == 1  # the 2x2 fast path
    assert forward.count(("box_mean_forward", "forward")) == 1
    # backward: the first conv needs no input gradient (x is data): one col2im
    assert forward.count(("col2im", "backward")) == 1
    assert forward.count(("GEMM", "backward")) == 3  # 2 weight grads + 1 input grad
    assert forward.count(("scatter_add_planes", "backward")) == 1
    assert forward.count(("box_mean_adjoint", "backward")) == 1
    assert [(r.name, r.phase, r.depth) for r in t.rows if r.name.endswith(".step")] == [
        ("Adam.step", "optimizer", 0)]
    step = next(i for i, r in enumerate(t.rows) if r.name == "Adam.step")
    assert all(r.kind == "span" and r.depth == 1 for r in t.rows[step + 1:])  # not ops
    for i, r in enumerate(t.rows):  # the kernels run inside the conv ops
        if r.name in ("GEMM", "im2col", "col2im"):
            assert _parent(t, i).name in ("Conv2d", "ConvTranspose2d", "Conv2dWeight")
    conv = next(r for r in t.rows if r.name == "Conv2d")
    assert conv.input_shapes == ((2, 2, 6, 6), (3, 2, 3, 3), (3,))
    assert conv.output_shape == (2, 3, 4, 4) and conv.bytes == 2 * 3 * 4 * 4 * 4
    assert sum(r.name == "Conv2dBackward" for r in t.rows) == 2


def test_optimizer_closure_runs_outside_the_step_row():
    w = minidl.randn(3, requires_grad=True)
    opt = minidl.optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    with minidl.trace() as t:
        opt.step(closure)
    steps = [r for r in t.rows if r.name == "SGD.step"]
    assert len(steps) == 1 and steps[0].phase == "optimizer"
    assert [r.phase for r in t.rows if r.name == "Mul"] == ["forward", "backward",
                                                            "backward"]
    assert [r.name for r in t.rows if r.phase == "optimizer"] == ["SGD.step", "sgd"]


def test_no_grad_records_the_forward_only():
    model = _small_cnn()
    with minidl.no_grad(), minidl.trace() as t:
        model(minidl.randn(2, 2, 6, 6))
    assert t.rows and {r.phase for r in t.rows} == {"forward"}
    assert not any(r.kind == "backward" or r.name == "autograd engine" for r in t.rows)
    assert [r.name for r in t.rows if r.kind == "op"] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "AvgPool2d", "Reshape", "Linear"]


def test_nothing_is_recorded_outside_the_block():
    x = minidl.randn(3, requires_grad=True)
    t = minidl.trace()
    (x * 2).sum().backward()
    assert t.rows == [] and _idle()
    with t:
        x.exp()
    assert _idle() and len(t.rows) == 1
    (x * 2).sum().backward()
    with trace_module.span("outside"):
        x.exp()
    assert len(t.rows) == 1 and trace_module.span("x") is trace_module.span("y")
    with t:  # entering again adds to the same trace
        x.exp()
    assert [r.name for r in t.rows] == ["Exp", "Exp"] and t.total_ms > 0


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_errors_leave_no_trace_active():
    x = minidl.tensor([-1.0, 2.0])
    with pytest.raises(ZeroDivisionError):
        with minidl.trace() as t:
            with trace_module.span("outer"):
                x.exp()
                1 / 0
    assert _idle() and not t._open
    assert _layout(t) == [("span", "outer", "forward", 0), ("op", "Exp", "forward", 1)]
    assert t.rows[0].ms >= t.rows[1].ms >= 0

    with minidl.trace() as t, minidl.detect_anomaly():  # an error inside an op
        with pytest.raises(minidl.AnomalyError):
            x.log()
        x.exp()  # recorded at the top level again: the failed op's row is closed
    assert _layout(t) == [("op", "Log", "forward", 0), ("op", "Exp", "forward", 0)]
    assert _idle() and not t._open


def test_garbage_collections_are_rows_of_their_own():
    x = minidl.ones(3)
    with minidl.trace() as t:
        with trace_module.span("outer"):
            x.exp()
            gc.collect()
    assert _layout(t) == [("span", "outer", "forward", 0), ("op", "Exp", "forward", 1),
                          ("span", "garbage collection (gen 2)", "forward", 1)]
    outer, exp, collection = t.rows
    assert outer.self_ms == pytest.approx(outer.ms - exp.ms - collection.ms, abs=1e-9)
    assert gc.callbacks.count(t._collecting) == 0  # the hook is gone after the block


def test_traces_do_not_nest():
    with minidl.trace() as outer:
        with pytest.raises(RuntimeError, match="already recording"):
            with minidl.trace():
                pass
        assert trace_module.active is outer
        minidl.ones(2).exp()
    assert _idle() and [r.name for r in outer.rows] == ["Exp"]


def test_other_threads_are_not_recorded():
    x = minidl.ones(4)
    with minidl.trace() as t:
        worker = threading.Thread(target=lambda: [x.exp(), trace_module.span("s")])
        worker.start()
        worker.join()
        x.log()
    assert [r.name for r in t.rows] == ["Log"]


def test_traced_results_equal_untraced_results():
    model = _small_cnn()
    x, y = minidl.randn(2, 2, 6, 6), minidl.tensor([0, 4])
    F.cross_entropy(model(x), y).backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with minidl.trace():
        F.cross_entropy(model(x), y).backward()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)
