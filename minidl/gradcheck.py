"""Check analytic gradients against finite differences (PyTorch's gradcheck semantics).

For f: inputs -> outputs, the Jacobian J[o, i] = d output[o] / d input[i] is built two
ways and compared element by element:
  * numerically, column by column, with central differences in float64:
        J[:, i] ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
  * analytically, row by row, with one backward pass per output element:
        J[o, :] = backward(grad_output = e_o)
An element passes when |analytic - numeric| <= atol + rtol * |numeric|.

gradgradcheck applies the same test to the function "inputs -> gradients", built
with create_graph=True: it checks second derivatives.

Inputs must be float64: with float32, the rounding error of f (about 1e-7 relative)
divided by eps swamps the derivative, and a correct op would be reported wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import autograd
from .tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical derivatives disagree."""


@dataclass
class _Names:
    """How a failure report names things: the check, its inputs and outputs."""
    check: str
    inputs: dict                       # input index -> "input 1"
    outputs: dict = field(default_factory=dict)  # output index -> name (default "output o")
    about: str = "Jacobian mismatch for"
    hint: str = ""


_SECOND_ORDER_HINT = (
    " First derivatives can pass gradcheck while these fail. The usual cause: a "
    "backward that computes with numpy values or constants (x.numpy(), "
    "Tensor(np.exp(...)), arrays kept on ctx) instead of Tensor ops on "
    "ctx.saved_tensors: that cuts the graph double backward differentiates.")


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _float_outputs(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _differentiable_inputs(inputs, check):
    diff = [(i, t) for i, t in enumerate(inputs)
            if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"{check}: no input has requires_grad=True, nothing to check")
    for i, t in diff:
        if t.dtype != np.float64:
            raise TypeError(
                f"{check}: input {i} is {t.dtype}; finite differences need float64 "
                "inputs (in float32, rounding errors swamp the derivative and a correct "
                "op is reported wrong). Pass x.double(), or create it with "
                "dtype=minidl.float64.")
    return diff


def _numerical_jacobians(fn, inputs, diff, eps):
    """{(out_idx, in_idx): (out_numel, in_numel) array} by central differences."""
    def evaluate():  # (grad mode stays on: gradgradcheck's fn itself calls backward)
        return [o._data.astype(np.float64).ravel()
                for o in _float_outputs(_as_tuple(fn(*inputs)))]

    n_out = [o.size for o in evaluate()]
    jac = {}
    for i, t in diff:
        cols = [np.zeros((n, t.numel())) for n in n_out]
        for k, idx in enumerate(np.ndindex(*t.shape)):
            orig = t._data[idx].copy()
            t._data[idx] = orig + eps
            plus = evaluate()
            t._data[idx] = orig - eps
            minus = evaluate()
            t._data[idx] = orig
            for o, (p, m) in enumerate(zip(plus, minus)):
                cols[o][:, k] = (p - m) / (2 * eps)
        for o in range(len(n_out)):
            jac[(o, i)] = cols[o]
    return jac


def _analytical_jacobians(fn, inputs, diff):
    outputs = _float_outputs(_as_tuple(fn(*inputs)))
    targets = [t for _, t in diff]
    jac = {}
    for o, out in enumerate(outputs):
        rows = {i: np.zeros((out.numel(), t.numel())) for i, t in diff}
        if out.requires_grad:
            for j in range(out.numel()):
                seed = np.zeros(out.numel(), dtype=out.dtype)
                seed[j] = 1
                grads = autograd.grad(out, targets, Tensor(seed.reshape(out.shape)),
                                      retain_graph=True, allow_unused=True)
                for (i, _), g in zip(diff, grads):
                    if g is not None:
                        rows[i][j] = g._data.astype(np.float64).ravel()
        for i, _ in diff:
            jac[(o, i)] = rows[i]
    return jac


def _compare(analytic, numeric, shapes, atol, rtol, names, raise_exception):
    """shapes: {input index: its shape} (for reporting the worst element)."""
    for (o, i), num in numeric.items():
        ana = analytic[(o, i)]
        err = np.abs(ana - num) - (atol + rtol * np.abs(num))
        if num.size == 0 or (err <= 0).all():
            continue
        if not raise_exception:
            return False
        j, k = np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)),
                                err.shape)
        in_index = np.unravel_index(k, shapes[i]) if shapes[i] else ()
        raise GradcheckError(
            f"{names.check}: {names.about} {names.outputs.get(o, f'output {o}')} with "
            f"respect to {names.inputs[i]} (shape {shapes[i]}); "
            f"{int((err > 0).sum())} of {err.size} elements differ. Worst: input index "
            f"{tuple(int(v) for v in in_index)}, output element {j}: analytic "
            f"{ana[j, k]:.6g} vs numerical {num[j, k]:.6g} (allowed |diff| <= "
            f"{atol + rtol * abs(num[j, k]):.3g}).{names.hint}")
    return True


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False) -> bool:
    """True if fn's backward agrees with finite differences for every input requiring
    grad; otherwise raise GradcheckError naming the worst element (or return False
    when raise_exception=False). Inputs must be float64 (float32 raises TypeError).

    fast_mode=True compares the scalar v^T J u for random u, v instead of all of J:
    one backward and two forwards per input, for large checks.
    """
    inputs = _as_tuple(inputs)
    diff = _differentiable_inputs(inputs, "gradcheck")
    names = _Names("gradcheck", {i: f"input {i}" for i, _ in diff})
    return _check(fn, inputs, diff, eps, atol, rtol, raise_exception, fast_mode, names)


def _check(fn, inputs, diff, eps, atol, rtol, raise_exception, fast_mode, names):
    if fast_mode:
        names.check += "(fast_mode)"
        return _fast_gradcheck(fn, inputs, diff, eps, atol, rtol, raise_exception, names)
    numeric = _numerical_jacobians(fn, inputs, diff, eps)
    analytic = _analytical_jacobians(fn, inputs, diff)
    return _compare(analytic, numeric, {i: t.shape for i, t in diff}, atol, rtol, names,
                    raise_exception)


def _fast_gradcheck(fn, inputs, diff, eps, atol, rtol, raise_exception, names):
    rng = np.random.default_rng(0)
    outputs = _float_outputs(_as_tuple(fn(*inputs)))
    vs = [rng.standard_normal(o.shape) for o in outputs]
    analytic, numeric = {}, {}
    for i, t in diff:
        u = rng.standard_normal(t.shape)
        orig = t._data.copy()
        values = []
        for sign in (1, -1):
            t._data[...] = orig + sign * eps * u
            outs = _float_outputs(_as_tuple(fn(*inputs)))
            values.append([o._data.astype(np.float64) for o in outs])
        t._data[...] = orig
        for o, out in enumerate(outputs):
            numeric[(o, i)] = np.array([[np.sum(vs[o] * (values[0][o] - values[1][o]))
                                         / (2 * eps)]])
            g = None
            if out.requires_grad:
                g, = autograd.grad(out, [t], Tensor(vs[o].astype(out.dtype)),
                                   retain_graph=True, allow_unused=True)
            analytic[(o, i)] = np.array([[0.0 if g is None else np.sum(g._data * u)]])
    # one number per (output, input) pair: reported as input index ()
    return _compare(analytic, numeric, {i: () for i, _ in diff}, atol, rtol, names,
                    raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast_mode=False) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> d(v . fn(inputs))/d inputs.

    grad_outputs (the v) default to random float64 tensors, seeded for repeatability.
    A failure names your input (by its position in `inputs`) and the gradient whose
    derivative is wrong.
    """
    inputs = _as_tuple(inputs)
    diff = _differentiable_inputs(inputs, "gradgradcheck")
    outputs = _float_outputs(_as_tuple(fn(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape).astype(o.dtype),
                                    requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        ins, gos = args[:n], args[n:]
        outs = _float_outputs(_as_tuple(fn(*ins)))
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        targets = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
        if not pairs:
            return tuple(Tensor(np.zeros(t.shape)) for t in targets)
        grads = autograd.grad([o for o, _ in pairs], targets, [g for _, g in pairs],
                              create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros(t.shape, dtype=t.dtype)) if g is None else g
                     for g, t in zip(grads, targets))

    all_inputs = inputs + grad_outputs
    all_diff = _differentiable_inputs(all_inputs, "gradgradcheck")
    names = _Names(
        "gradgradcheck", {i: f"input {i}" if i < n else f"grad_outputs[{i - n}] (the v "
                          "of v . fn)" for i, _ in all_diff},
        {o: f"(the gradient with respect to input {i})" for o, (i, _) in enumerate(diff)},
        about="SECOND derivatives are wrong: the derivative of", hint=_SECOND_ORDER_HINT)
    return _check(first_derivatives, all_inputs, all_diff, eps, atol, rtol,
                  raise_exception, fast_mode, names)


# --------------------------------------------------------------------------------------
# What to check: an op with a sampler of valid inputs. The test suite's op registry
# (tests/registry*.py) is a list of these, and so are the course's checks
# (minidl/course): both run gradcheck and gradgradcheck over them.
# --------------------------------------------------------------------------------------
@dataclass
class OpSpec:
    name: str                      # the public function's name, e.g. "log_softmax"
    fn: Callable                   # fn(*tensors) -> Tensor or tuple of Tensors
    sample: Callable[[np.random.Generator], tuple]  # rng -> float64 arrays
    gradgrad: bool = True          # False only with a reason in `note`
    note: str = ""
    tags: tuple = field(default_factory=tuple)
    reference: Callable | None = None  # the slow, obvious version on numpy arrays

    def inputs(self, seed=0) -> tuple:
        """The sampled inputs as float64 Tensors that require gradients."""
        rng = np.random.default_rng(seed)
        return tuple(Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
                     for a in self.sample(rng))


def normal(*shape):
    """A sampler of one standard-normal input of `shape`."""
    return lambda rng: (rng.standard_normal(shape),)


def away_from_zero(rng, shape, gap=0.1):
    """Values with |x| >= gap: safe around the kinks of relu/abs at 0."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < gap, np.sign(x + 1e-12) * gap, x) + 0.0


def positive(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)
