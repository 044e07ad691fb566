"""The checks of exercises 1-7: autograd by hand, Functions, broadcasting, matmul,
softmax, the backward walk, higher-order gradients."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from .. import autograd
from ..gradcheck import OpSpec, away_from_zero, gradcheck, gradgradcheck, normal, positive
from ..ops import reduction
from ..tensor import Tensor
from .grader import (CheckFailed, check_forward, check_gradients, expect_close,
                     run_property, swapped, values)

# hypothesis, repeatably: the same examples on every run, nothing written to disk
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
SMALL = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


def vector(low=-3.0, high=3.0):
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.lists(floats, min_size=1, max_size=6).map(np.array)


def normals(*shapes):
    """A sampler of standard-normal inputs, one of each shape."""
    return lambda rng: tuple(rng.standard_normal(shape) for shape in shapes)


def op_steps(run, specs):
    """Forward against the reference, then gradcheck and gradgradcheck, per op."""
    for spec in specs:
        run.step(f"{spec.name}: forward against the reference", check_forward, spec)
        run.step(f"{spec.name}: gradcheck and gradgradcheck", check_gradients, spec)


def tensor(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ 1. Value
EXPRESSIONS = {  # name -> f(a, b, c) on Values
    "a * b + c": lambda a, b, c: a * b + c,
    "tanh(a * b) * a": lambda a, b, c: (a * b).tanh() * a,
    "a * a * a": lambda a, b, c: a * a * a,
    "exp(a) + a * c": lambda a, b, c: a.exp() + a * c,
    "d = a*b; (tanh(d) + d) * a": lambda a, b, c: ((a * b).tanh() + a * b) * a,
    "e = a*b + c; e * e + tanh(e)": lambda a, b, c: (lambda e: e * e + e.tanh())(a * b + c),
}


def check_1(ws, run):
    Value = ws.module(1).Value
    run.step("values of +, *, tanh, exp", _value_forward, Value)
    for name, f in EXPRESSIONS.items():
        run.step(f"gradients of {name} against finite differences", _value_gradients,
                 Value, f, (0.7, -1.3, 0.4))
    run.step("a value used twice gets both gradients (x * x, x + x)", _value_reuse, Value)

    @PROPERTY
    @given(SMALL, SMALL)
    def local_rules(a, b):
        _value_gradients(Value, EXPRESSIONS["tanh(a * b) * a"], (a, b, 0.0))
    run.step("property: gradients of tanh(a*b)*a for any a, b", run_property, local_rules)


def _value_forward(Value):
    a, b = Value(2.0), Value(-3.0)
    for what, got, want in [("a + b", a + b, -1.0), ("a * b", a * b, -6.0),
                            ("a.tanh()", a.tanh(), math.tanh(2.0)),
                            ("a.exp()", a.exp(), math.exp(2.0))]:
        if not isinstance(got, Value) or abs(got.data - want) > 1e-9:
            raise CheckFailed(f"{what} with a=2, b=-3: expected Value({want:.6g}), got "
                              f"{got!r}")


def _value_gradients(Value, f, point, eps=1e-6):
    xs = [Value(p) for p in point]
    f(*xs).backward()
    for name, x, p in zip("abc", xs, point):
        up, down = list(point), list(point)
        up["abc".index(name)] += eps
        down["abc".index(name)] -= eps
        numeric = (f(*map(Value, up)).data - f(*map(Value, down)).data) / (2 * eps)
        if abs(x.grad - numeric) > 1e-5 + 1e-4 * abs(numeric):
            raise CheckFailed(
                f"at a, b, c = {point}: dL/d{name} expected {numeric:.6g} (finite "
                f"differences), got {x.grad:.6g}. If a value is used more than once, "
                "its _backward must run only after every value computed from it has "
                "sent its gradient (walk the topological order reversed), and add (+=)")


def _value_reuse(Value):
    for what, f, want in [("x * x", lambda x: x * x, 6.0), ("x + x", lambda x: x + x, 2.0)]:
        x = Value(3.0)
        f(x).backward()
        if abs(x.grad - want) > 1e-9:
            raise CheckFailed(f"d({what})/dx at x=3: expected {want}, got {x.grad}: each "
                              "use of x must ADD its gradient (+=), not replace it")


# ------------------------------------------------------------------ 2. Functions
def _nonzero(rng, shape):
    return away_from_zero(rng, shape, gap=0.5)


def check_2(ws, run):
    m = ws.module(2)
    op_steps(run, [
        OpSpec("mul", m.Mul.apply, normals((3, 4), (3, 4)), reference=np.multiply),
        OpSpec("div", m.Div.apply,
               lambda r: (r.standard_normal((3, 4)), _nonzero(r, (3, 4))),
               reference=np.divide),
        OpSpec("exp", m.Exp.apply, normal(3, 4), reference=np.exp),
        OpSpec("log", m.Log.apply, lambda r: (positive(r, (3, 4)),), reference=np.log),
        OpSpec("tanh", m.Tanh.apply, normal(3, 4), reference=np.tanh),
    ])

    @PROPERTY
    @given(vector(), vector(0.5, 3.0))
    def identities(x, p):
        a, b = tensor(x), tensor(np.resize(p, x.shape))
        expect_close("a * b vs b * a", m.Mul.apply(a, b), m.Mul.apply(b, a))
        expect_close("log(exp(x)) vs x", m.Log.apply(m.Exp.apply(a)), x, rtol=1e-9)
        expect_close("b / b vs 1", m.Div.apply(b, b), np.ones(b.shape))
    run.step("properties: a*b == b*a, log(exp(x)) == x, b/b == 1", run_property,
             identities)


# ------------------------------------------------------------------ 3. sum_to
@st.composite
def broadcast_pair(draw):
    """(shape, broadcast shape): shape's size-1 dims may grow, new dims may lead."""
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    grown = tuple(draw(st.integers(1, 4)) if d == 1 else d for d in shape)
    return shape, lead + grown


def _sum_to_reference(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    return g.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)


def check_3(ws, run):
    sum_to = ws.module(3).sum_to

    @PROPERTY
    @given(broadcast_pair())
    def shapes_and_values(pair):
        shape, big = pair
        g = np.random.default_rng(0).standard_normal(big)
        got = sum_to(tensor(g), shape)
        if tuple(got.shape) != shape:
            raise CheckFailed(f"sum_to(gradient of shape {big}, {shape}) returned shape "
                              f"{tuple(got.shape)}: the gradient has the broadcast shape "
                              f"{big} but the input is {shape}: sum over the broadcast "
                              "axes (leading ones, and those where the input has size 1)")
        expect_close(f"sum_to(g of shape {big}, {shape})", got, _sum_to_reference(g, shape))
    run.step("sum_to: shapes and values on broadcast pairs", run_property,
             shapes_and_values)
    for a, b in [((1, 3), (4, 3)), ((4, 1), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 3))]:
        for name, fn in [("*", lambda x, y: x * y), ("+", lambda x, y: x + y)]:
            spec = OpSpec(f"{a} {name} {b}", fn, normals(a, b))
            with swapped(reduction, "sum_to", sum_to):
                run.step(f"inside the engine: gradcheck of {a} {name} {b}",
                         check_gradients, spec)


# ------------------------------------------------------------------ 4. matmul
def check_4(ws, run):
    MatMul = ws.module(4).MatMul
    shapes = [((3, 4), (4, 2)), ((1, 5), (5, 1)), ((4, 1), (1, 3))]
    op_steps(run, [OpSpec(f"matmul {a} @ {b}", MatMul.apply, normals(a, b),
                          reference=np.matmul) for a, b in shapes])

    @PROPERTY
    @given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
    def identities(n, k, m):
        rng = np.random.default_rng(n * 16 + k * 4 + m)
        a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
        expect_close("A @ I vs A", MatMul.apply(tensor(a), tensor(np.eye(k))), a)
        expect_close("(A @ B)^T vs B^T @ A^T", values(MatMul.apply(tensor(a), tensor(b))).T,
                     MatMul.apply(tensor(b.T), tensor(a.T)))
    run.step("properties: A @ I == A, (A @ B)^T == B^T @ A^T", run_property, identities)


# ------------------------------------------------------------------ 5. softmax
def _log_softmax_reference(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


TARGET = np.array([2, 0, 4])


def _cross_entropy_reference(logits):
    return -_log_softmax_reference(logits)[np.arange(len(TARGET)), TARGET].mean()


def check_5(ws, run):
    m = ws.module(5)
    target = Tensor(TARGET)
    specs = [
        OpSpec("softmax(dim=-1)", lambda x: m.softmax(x, dim=-1), normal(3, 5),
               reference=lambda x: np.exp(_log_softmax_reference(x))),
        OpSpec("softmax(dim=0)", lambda x: m.softmax(x, dim=0), normal(3, 5),
               reference=lambda x: np.exp(_log_softmax_reference(x, 0))),
        OpSpec("log_softmax(dim=-1)", lambda x: m.log_softmax(x, dim=-1), normal(3, 5),
               reference=_log_softmax_reference),
        OpSpec("cross_entropy", lambda x: m.cross_entropy(x, target), normal(3, 5),
               reference=_cross_entropy_reference),
    ]
    op_steps(run, specs)
    for spec in specs:
        run.step(f"{spec.name} at scale 1e4: no overflow", _large_logits, spec)

    @PROPERTY
    @given(vector(-20, 20), SMALL)
    def identities(x, c):
        s = values(m.softmax(tensor(x), dim=-1))
        expect_close("sum of softmax", s.sum(), 1.0)
        expect_close("softmax(x + c) vs softmax(x)", m.softmax(tensor(x + c), dim=-1), s)
        expect_close("log_softmax vs log(softmax)", m.log_softmax(tensor(x), dim=-1),
                     _log_softmax_reference(x), rtol=1e-6, atol=1e-8)
    run.step("properties: sums to 1, shift invariance, log_softmax == log(softmax)",
             run_property, identities)


def _large_logits(spec):
    x = np.random.default_rng(0).standard_normal((3, 5)) * 1e4
    got = values(spec.fn(tensor(x)))
    if not np.isfinite(got).all():
        raise CheckFailed(f"{spec.name} of logits around 1e4 gave inf/NaN: e^x overflows "
                          "for x > 709; subtract each row's max before exp (softmax(x) "
                          "== softmax(x - max))")
    expect_close(f"{spec.name} at 1e4", got, spec.reference(x))


# ------------------------------------------------------------------ 6. backward walk
@st.composite
def random_graph(draw):
    """A small expression DAG over two leaves: a list of Tensors, the last the root."""
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    nodes = [tensor(rng.uniform(0.5, 1.5, 3)) for _ in range(2)]
    for _ in range(draw(st.integers(1, 6))):
        i, j = draw(st.integers(0, len(nodes) - 1)), draw(st.integers(0, len(nodes) - 1))
        kind = draw(st.sampled_from(["add", "mul", "tanh"]))
        a, b = nodes[i], nodes[j]
        nodes.append(a + b if kind == "add" else a * b if kind == "mul" else a.tanh())
    return nodes


def _name(node):
    return f"leaf {tuple(node.shape)}" if isinstance(node, Tensor) else node.name()


def _check_order(topological_order, root):
    order = list(topological_order([root.grad_fn]))
    expected = autograd._topological_order([root.grad_fn])
    seen = set()
    for node in order:
        if node in seen:
            raise CheckFailed(f"{_name(node)} appears more than once; each node must "
                              "appear once")
        seen.add(node)
    if seen != set(expected):
        raise CheckFailed(f"the order has {len(order)} nodes, the graph {len(expected)}: "
                          "follow parents(node) from the roots to every node, leaves too")
    position = {node: k for k, node in enumerate(order)}
    for node in order:
        for p in autograd._parents(node):
            if position[p] < position[node]:
                raise CheckFailed(
                    f"{_name(p)} comes before {_name(node)}, which uses its output: a node "
                    "was visited before all its consumers, so its gradient would be "
                    "incomplete")


def _walk_gradients(m, nodes):
    root = nodes[-1].sum()
    leaves = nodes[:2]
    expected = autograd.grad(root, leaves, retain_graph=True, allow_unused=True)
    with swapped(autograd, "_topological_order", m.topological_order), \
            swapped(autograd, "_add", m.accumulate):
        got = autograd.grad(root, leaves, allow_unused=True)
    for k, (g, e) in enumerate(zip(got, expected)):
        if e is not None:
            expect_close(f"gradient of leaf {k}", g, e,
                         hint="a node's gradient must be the SUM over every use "
                              "(accumulate adds), complete before its backward runs")


def check_6(ws, run):
    m = ws.module(6)

    @PROPERTY
    @given(random_graph())
    def order(nodes):
        _check_order(m.topological_order, nodes[-1].sum())
    run.step("topological_order on random graphs: complete, once each, consumers "
             "first", run_property, order)

    @PROPERTY
    @given(random_graph())
    def gradients(nodes):
        _walk_gradients(m, nodes)
    run.step("inside the engine: gradients of random graphs with shared nodes",
             run_property, gradients)
    spec = OpSpec("x*x + exp(x) * tanh(x*x)", lambda x: x * x + x.exp() * (x * x).tanh(),
                  normal(4))
    with swapped(autograd, "_topological_order", m.topological_order), \
            swapped(autograd, "_add", m.accumulate):
        run.step("inside the engine: gradcheck and gradgradcheck of x*x + exp(x) * "
                 "tanh(x*x)", check_gradients, spec)


# ------------------------------------------------------------------ 7. higher order
def check_7(ws, run):
    m = ws.module(7)
    specs = [OpSpec("sin", m.Sin.apply, normal(5), reference=np.sin),
             OpSpec("cos", m.Cos.apply, normal(5), reference=np.cos)]
    op_steps(run, specs)
    for spec in specs:
        run.step(f"{spec.name}: third derivatives", _third_derivative, spec)

    @PROPERTY
    @given(vector(-10, 10))
    def pythagoras(x):
        s, c = values(m.Sin.apply(tensor(x))), values(m.Cos.apply(tensor(x)))
        expect_close("sin^2 + cos^2", s * s + c * c, np.ones(x.shape))
    run.step("property: sin^2 + cos^2 == 1", run_property, pythagoras)


def _third_derivative(spec):
    def derivative(x):
        return autograd.grad(spec.fn(x).sum(), x, create_graph=True)[0]
    inputs = spec.inputs()
    if not (gradcheck(derivative, inputs, raise_exception=False)
            and gradgradcheck(derivative, inputs, raise_exception=False)):
        raise CheckFailed(f"the derivative of {spec.name}'s derivative is wrong: each "
                          "backward must use the other Function (Tensor ops), all the "
                          "way down")
