"""The op registry: every differentiable op of minidl with a sampler of valid inputs.

One entry = register(name, fn, sample) makes an OpSpec (minidl/gradcheck.py, shared
with the course in minidl/course/):
  * fn(*tensors) -> Tensor (or tuple of Tensors): the op under test, with any
    non-tensor arguments (dims, strides, ...) fixed inside fn;
  * sample(rng) -> tuple of float64 numpy arrays: valid inputs, kept away from kinks
    (relu at 0, abs at 0, ties of max) and inside the domain (log, sqrt need x > 0).
Every input becomes a float64 Tensor with requires_grad=True.

test_registry.py runs gradcheck and gradgradcheck over all of it, and fails when a
public differentiable op (a Function subclass, or a name in minidl.functional) is not
exercised by some entry -- adding an op without its check is impossible.
"""
from __future__ import annotations

from minidl.gradcheck import OpSpec, normal, away_from_zero, positive  # noqa: F401

REGISTRY: list[OpSpec] = []


def register(name, fn, sample, **kw):
    REGISTRY.append(OpSpec(name, fn, sample, **kw))


# Public names in minidl.functional that are not differentiable ops (no gradient
# flows through them by design). Anything else public must appear in the registry.
NOT_DIFFERENTIABLE = {"argmax", "argmin", "eq", "ne", "lt", "le", "gt", "ge",
                      "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                      "bitwise_left_shift", "bitwise_right_shift", "one_hot"}


# ---- property tests ------------------------------------------------------------------
# A hypothesis test names the ops it checks with @covers(...) above its @given; the op
# table (docs/ops.md, made by scripts/op_table.py) lists them. op -> ["test_x.py::name"]
PROPERTY_TESTS: dict[str, list[str]] = {}


def covers(*names):
    """Decorator: `@covers("conv2d", "conv_transpose2d")` on a hypothesis test."""
    def declare(test):
        if not hasattr(test, "hypothesis"):
            raise TypeError(f"@covers{names} on {test.__name__}: only hypothesis tests "
                            "can be declared; put @covers above @given")
        unknown = [n for n in names
                   if n not in NOT_DIFFERENTIABLE and all(s.name != n for s in REGISTRY)]
        if unknown:
            raise ValueError(f"@covers on {test.__name__}: {unknown} are not ops in the "
                             "registry")
        where = f"{test.__module__}.py::{test.__name__}"
        for n in names:
            if where not in PROPERTY_TESTS.setdefault(n, []):
                PROPERTY_TESTS[n].append(where)
        return test
    return declare


# ---- entries -------------------------------------------------------------------------
# Each area of the library registers its ops in its own file tests/registry_<area>.py
# (registry_core.py for minidl/ops, registry_losses.py, registry_conv.py, ...), all
# loaded here into the one REGISTRY list.
def _load_all():
    import importlib
    import pathlib
    for path in sorted(pathlib.Path(__file__).parent.glob("registry_*.py")):
        importlib.import_module(path.stem)


_load_all()
