"""Every registered op passes gradcheck and gradgradcheck in float64, and every public
differentiable op is in the registry."""
import importlib
import pkgutil

import numpy as np
import pytest

import minidl
from minidl import autograd
from registry import REGISTRY, NOT_DIFFERENTIABLE

IDS = [f"{i}-{spec.name}" for i, spec in enumerate(REGISTRY)]


def _inputs(spec, seed=0):
    return spec.inputs(seed)


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_gradcheck(spec):
    assert minidl.gradcheck(spec.fn, _inputs(spec))


@pytest.mark.parametrize("spec", REGISTRY, ids=IDS)
def test_gradgradcheck(spec):
    if not spec.gradgrad:
        pytest.skip(spec.note)
    assert minidl.gradgradcheck(spec.fn, _inputs(spec))


def _all_function_classes():
    for mod in pkgutil.walk_packages(minidl.__path__, "minidl."):
        importlib.import_module(mod.name)
    seen, todo = set(), list(minidl.Function.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen and cls.__module__.startswith("minidl."):
            seen.add(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _first_and_second_backward(spec):
    """Run forward, backward with create_graph, and backward of that backward."""
    inputs = _inputs(spec)
    outs = spec.fn(*inputs)
    outs = [o for o in (outs if isinstance(outs, tuple) else (outs,)) if o.requires_grad]
    seeds = [minidl.randn(o.shape, dtype=o.dtype) for o in outs]
    grads = autograd.grad(outs, inputs, seeds, create_graph=True, allow_unused=True)
    grads = [g for g in grads if g is not None and g.requires_grad]
    if grads and spec.gradgrad:
        total = sum((g * minidl.randn(g.shape, dtype=g.dtype)).sum() for g in grads)
        autograd.grad(total, inputs, allow_unused=True)


def test_every_function_class_is_exercised_by_the_registry():
    used = set()
    autograd._apply_hooks.append(lambda cls, args, out: used.add(cls))
    try:
        for spec in REGISTRY:
            _first_and_second_backward(spec)
    finally:
        autograd._apply_hooks.pop()
    missing = sorted(c.__module__ + "." + c.__name__ for c in _all_function_classes()
                     if c not in used)
    assert not missing, f"Functions not covered by tests/registry*.py: {missing}"


def test_every_public_differentiable_name_is_registered():
    import minidl.functional as F
    names = {spec.name for spec in REGISTRY}
    missing = sorted(n for n in F.__all__ if n not in names and n not in NOT_DIFFERENTIABLE)
    assert not missing, f"public ops missing from the registry: {missing}"
