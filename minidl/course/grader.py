"""The checker's machinery: where a student's exercises live, how a check reports.

A check is a list of steps (`run.step("gradcheck", ...)`). A step passes silently
or raises CheckFailed with a message that teaches: which input, which element,
expected vs got, the likely mistake. The same steps run against three kinds of
workspace: the student's folder (course/), the blank templates (they must fail) and
minidl's own code (the reference solutions, they must pass) -- the course's tests in
tests/test_course.py run the last two, and planted mistakes.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import pathlib
import types

import numpy as np

from .. import autograd
from ..gradcheck import GradcheckError, OpSpec, gradcheck, gradgradcheck
from ..tensor import Tensor
from ..tools.fileio import atomic_path

TEMPLATES = pathlib.Path(__file__).parent / "exercises"


class CheckFailed(AssertionError):
    """One step of a check found a wrong result (the message says what and where)."""


def stem(n: int) -> str:
    """Exercise n's file name without .py, e.g. 'ex03_sum_to'."""
    found = sorted(TEMPLATES.glob(f"ex{n:02d}_*.py"))
    if not found:
        raise ValueError(f"there is no exercise {n}")
    return found[0].stem


# --------------------------------------------------------------------------------------
# Workspaces: where exercise n's code comes from.
# --------------------------------------------------------------------------------------
class Workspace:
    """A folder of exercise files (a student's copy of the templates). Exercise n
    counts as done when it passed its check and its file has not changed since."""

    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self._modules = {}

    def path(self, n):
        return self.folder / f"{stem(n)}.py"

    def module(self, n) -> types.ModuleType:
        if n not in self._modules:
            path = self.path(n)
            if not path.exists():
                raise CheckFailed(f"{path} does not exist: run `python -m minidl.course "
                                  "init` to copy the exercises there")
            spec = importlib.util.spec_from_file_location(f"course_{stem(n)}", path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception as e:  # a syntax error, a bad import: say where
                raise CheckFailed(f"{path} does not load: {type(e).__name__}: {e}") from e
            self._modules[n] = module
        return self._modules[n]

    def _ledger_path(self) -> pathlib.Path:
        return self.folder / ".passed.json"

    def ledger(self) -> dict:
        """{exercise number (str): sha256 of its file when it last passed}."""
        path = self._ledger_path()
        return json.loads(path.read_text()) if path.exists() else {}

    def _digest(self, n):
        return hashlib.sha256(self.path(n).read_bytes()).hexdigest()

    def done(self, n) -> bool:
        return self.path(n).exists() and self.ledger().get(str(n)) == self._digest(n)

    def record(self, n, passed: bool):
        ledger = self.ledger()
        if passed:
            ledger[str(n)] = self._digest(n)
        else:
            ledger.pop(str(n), None)
        with atomic_path(self._ledger_path()) as tmp:
            pathlib.Path(tmp).write_text(json.dumps(ledger, indent=1))

    def piece(self, n, name, own):
        """Exercise n's `name` if that exercise is done, else minidl's `own`: an
        exercise never depends on one after it, nor on an unfinished one before."""
        return getattr(self.module(n), name) if self.done(n) else own


class Solutions(Workspace):
    """minidl's own code behind each exercise's names (minidl/course/solutions.py),
    with optional replacements {n: {name: object}} (the planted mistakes in tests)."""

    def __init__(self, replace=None):
        super().__init__(TEMPLATES)
        self.replace = replace or {}

    def module(self, n):
        from . import solutions
        return types.SimpleNamespace(**{**vars(solutions.module(n)),
                                        **self.replace.get(n, {})})

    def done(self, n):
        return True

    def record(self, n, passed):
        pass


class Blank(Workspace):
    """The templates as shipped: every body raises NotImplementedError."""

    def __init__(self):
        super().__init__(TEMPLATES)

    def done(self, n):
        return False

    def record(self, n, passed):
        pass


_current: list[Workspace] = []


@contextlib.contextmanager
def using(workspace):
    """Make `workspace` the one minidl.course.pieces reads earlier exercises from."""
    _current.append(workspace)
    try:
        yield workspace
    finally:
        _current.pop()


def current() -> Workspace:
    return _current[-1] if _current else Workspace("course")


@contextlib.contextmanager
def swapped(owner, name, new):
    """Put `new` in place of owner.name for the duration (minidl's engine pieces)."""
    old = getattr(owner, name)
    setattr(owner, name, new)
    try:
        yield
    finally:
        setattr(owner, name, old)


# --------------------------------------------------------------------------------------
# Reporting one step.
# --------------------------------------------------------------------------------------
class Run:
    """The steps of one exercise's check, printed as they pass."""

    def __init__(self, n, say=print):
        self.n, self.say, self.passed = n, say, []

    def step(self, label, fn, *args):
        try:
            fn(*args)
        except CheckFailed as e:
            raise CheckFailed(f"{label}: {e}") from None
        except NotImplementedError as e:
            where = _student_frame(e)
            raise CheckFailed(f"{label}: not written yet -- {where} raises "
                              "NotImplementedError; fill in its body") from None
        except Exception as e:  # (a crash in the student's code is a failed step)
            raise CheckFailed(f"{label}: {_student_frame(e)} raised "
                              f"{type(e).__name__}: {e}") from None
        self.passed.append(label)
        self.say(f"  ok  {label}")


def _student_frame(error) -> str:
    tb, where = error.__traceback__, "a function"
    while tb is not None:
        code = tb.tb_frame.f_code
        if "exercises" in code.co_filename or "/course" in code.co_filename:
            where = (f"{getattr(code, 'co_qualname', code.co_name)} "
                     f"({pathlib.Path(code.co_filename).name})")
        tb = tb.tb_next
    return where


def values(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)


def expect_close(what, got, expected, rtol=1e-6, atol=1e-9, hint=""):
    """got vs expected element by element; the first differing element is reported."""
    got, expected = values(got), values(expected)
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: expected shape {expected.shape}, got "
                          f"{got.shape}. {hint}".rstrip())
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise CheckFailed(f"{what}: at element {i} expected {expected[i]:.6g}, got "
                          f"{got[i]:.6g} ({int(bad.sum())} of {bad.size} elements "
                          f"differ). {hint}".rstrip())


def check_forward(spec: OpSpec, hint=""):
    """spec.fn on sampled inputs against spec.reference on the same numpy arrays."""
    inputs = spec.inputs()
    expect_close(f"{spec.name} forward", spec.fn(*inputs),
                 spec.reference(*(values(t) for t in inputs)), hint=hint)


def check_gradients(spec: OpSpec, inputs=None):
    """The registry's checks: gradcheck, then gradgradcheck, with the likely mistake
    named when they fail. inputs: the Tensors to check at (default: sampled)."""
    inputs = spec.inputs() if inputs is None else inputs
    try:
        gradcheck(spec.fn, inputs)
    except GradcheckError as e:
        raise CheckFailed(f"{spec.name}: the backward is wrong. "
                          f"{likely_mistake(spec.fn, inputs)}\n      gradcheck: {e}")
    if spec.gradgrad:
        try:
            gradgradcheck(spec.fn, inputs)
        except GradcheckError as e:
            raise CheckFailed(f"{spec.name}: the first derivatives are right but the "
                              f"second are wrong.\n      gradgradcheck: {e}")


def likely_mistake(fn, inputs, eps=1e-6) -> str:
    """Compare one vector-Jacobian product v^T J with finite differences and name the
    usual pattern of a wrong one: a sign, a constant factor, zeros."""
    out = fn(*inputs)
    if not out.requires_grad:
        return ("The output has no graph back to the inputs (no grad_fn): it was "
                "computed from constants, under no_grad, or on numpy arrays.")
    v = Tensor(np.random.default_rng(1).standard_normal(out.shape))
    analytic = autograd.grad(out, inputs, v, allow_unused=True)
    for k, (x, ga) in enumerate(zip(inputs, analytic)):
        numeric = np.zeros(x.shape)
        for i in np.ndindex(*x.shape):
            old = x._data[i]
            x._data[i] = old + eps
            up = float((fn(*inputs)._data * v._data).sum())
            x._data[i] = old - eps
            down = float((fn(*inputs)._data * v._data).sum())
            x._data[i] = old
            numeric[i] = (up - down) / (2 * eps)
        ga = np.zeros(x.shape) if ga is None else ga.numpy()
        if np.allclose(ga, numeric, rtol=1e-3, atol=1e-5):
            continue
        return f"Input {k}: " + _pattern(ga, numeric)
    return ""


def _pattern(got, expected) -> str:
    if np.allclose(got, -expected, rtol=1e-3, atol=1e-5):
        return "the gradient has the wrong sign everywhere (a sign error)."
    if not got.any():
        return "the gradient is zero: backward sends nothing to this input."
    ratio = got[np.abs(expected) > 1e-6] / expected[np.abs(expected) > 1e-6]
    if ratio.size and np.allclose(ratio, ratio[0], rtol=1e-3):
        return f"the gradient is {ratio[0]:.4g} times the right one (a constant factor)."
    return "the gradient differs from finite differences (see the worst element below)."


def run_property(test):
    """Run a hypothesis test; its failure names the example hypothesis found."""
    try:
        test()
    except AssertionError as e:
        notes = " ".join(getattr(e, "__notes__", [])).split("Explanation:")[0].strip()
        raise CheckFailed(f"{e}" + (f"  [{notes}]" if notes else "")) from None
