"""Reverse-mode automatic differentiation: Function, the graph it records, and backward.

How it works, in four sentences:
  * An op is a subclass of `Function` with two static methods side by side:
    `forward(ctx, *arrays)` computes on plain numpy arrays, and
    `backward(ctx, *grads)` returns the gradients, written with Tensor ops.
  * `Function.apply(*inputs)` runs forward and, when gradients are needed,
    attaches a `Context` (the graph node) to the output tensor as `grad_fn`.
  * `backward(root)` sorts the graph topologically and calls each node's
    backward in reverse order, summing gradients that meet at a tensor.
  * Because backward is itself made of Tensor ops, running it with grad mode ON
    (`create_graph=True`) records a new graph: higher-order derivatives for free.
    With grad mode OFF (the default) the same code costs what plain numpy costs.

Broadcasting is undone here, once: after an op's backward, each gradient is
summed down to its input's shape (`sum_to`), so no op has to repeat that logic.
"""
from __future__ import annotations

import contextlib
import traceback
import weakref

import numpy as np

# tensor.py imports this module first, so it is imported here as a (half-initialised)
# module object; _tensor.Tensor is looked up when called, by then it exists.
from . import tensor as _tensor
from . import trace as _trace

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "AnomalyError",
    "backward", "grad",
]

# --------------------------------------------------------------------------------------
# Grad mode and anomaly mode: two process-wide switches, each used as a context manager.
# --------------------------------------------------------------------------------------
_grad_enabled = True
_anomaly_enabled = False


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off inside a `with` block (or a decorated function)."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)

    def __enter__(self):
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False


class no_grad(set_grad_enabled):
    """`with minidl.no_grad():` -- ops inside record no graph (evaluation, optimizer steps)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """`with minidl.enable_grad():` -- record a graph even inside a `no_grad` block."""

    def __init__(self):
        super().__init__(True)


def is_anomaly_enabled() -> bool:
    return _anomaly_enabled


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward output or backward gradient holds NaN or inf.

    The error names the op, its input shapes, and (for backward) where in your forward
    code that op was created. It costs one `isfinite` scan per op, so use it to debug.
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        global _anomaly_enabled
        self.prev = _anomaly_enabled
        _anomaly_enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _anomaly_enabled
        _anomaly_enabled = self.prev
        return False


class AnomalyError(FloatingPointError, RuntimeError):
    """NaN or inf found by detect_anomaly (a RuntimeError, as in PyTorch)."""


def _nonfinite_report(array) -> str | None:
    if not np.issubdtype(array.dtype, np.floating) or np.isfinite(array).all():
        return None
    n_nan, n_inf = int(np.isnan(array).sum()), int(np.isinf(array).sum())
    return f"{n_nan} NaN and {n_inf} inf values in an array of shape {array.shape}"


# --------------------------------------------------------------------------------------
# The graph node.
# --------------------------------------------------------------------------------------
class Context:
    """What one op application remembers for its backward pass (PyTorch calls it grad_fn).

    Attributes a Function uses:
      ctx.save_for_backward(*arrays_or_tensors) / ctx.saved_tensors
      ctx.needs_input_grad  -- tuple of bools, one per forward argument
      any other attribute you set in forward (shapes, axes, ...), e.g. ctx.axis = 1
    """

    def __init__(self, function, inputs):
        self.function = function
        self.inputs = inputs  # the forward arguments; Tensors are graph edges
        self.needs_input_grad = tuple(
            getattr(x, "requires_grad", False) for x in inputs)
        self._saved = ()
        self._saved_versions = ()
        self._output = None  # weakref to the output Tensor, set by apply()
        self._freed = False
        self.creation_stack = None  # filled in anomaly mode

    def name(self) -> str:
        return self.function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def save_for_backward(self, *items):
        """Keep arrays (or Tensors) for backward.

        An array that *is* one of forward's inputs (or its output) comes back from
        `saved_tensors` as that very Tensor, still attached to the graph: this is what
        makes `create_graph=True` give correct second derivatives. Any other array comes
        back as a constant Tensor.
        """
        self._saved = items

    @property
    def saved_tensors(self):

        if self._freed:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time, but "
                "its saved arrays were already freed. Call .backward(retain_graph=True) "
                "the first time if you need to backward twice.")
        out = []
        for item, version in zip(self._saved, self._saved_versions):
            t = self._as_graph_tensor(item)
            if t._version != version:
                raise RuntimeError(
                    f"{self.name()}: a tensor of shape {t.shape} that this op saved for "
                    f"backward was modified in place (version {version} -> {t._version}) "
                    "after the forward pass, so its gradient would be wrong. Use an "
                    "out-of-place op (y = x + 1 instead of x += 1), or .clone() first.")
            out.append(t)
        return tuple(out)

    def _as_graph_tensor(self, item):

        if isinstance(item, _tensor.Tensor):
            return item
        for x in self.inputs:
            if isinstance(x, _tensor.Tensor) and x._data is item:
                return x
        output = self._output() if self._output is not None else None
        if output is not None and output._data is item:
            return output
        return _tensor.Tensor(item)

    def _record_versions(self):
        """Remember each saved tensor's version, to catch later in-place edits."""
        versions = []
        for item in self._saved:
            versions.append(self._as_graph_tensor(item)._version)
        self._saved_versions = tuple(versions)

    def _release(self):
        self._saved = ()
        self._saved_versions = ()
        self._freed = True


# --------------------------------------------------------------------------------------
# Function: the base class of every differentiable op.
# --------------------------------------------------------------------------------------
class Function:
    """Subclass this to define an op: forward on numpy arrays, backward in Tensor ops.

        class Square(Function):
            @staticmethod
            def forward(ctx, x):            # x: numpy array
                ctx.save_for_backward(x)
                return x * x
            @staticmethod
            def backward(ctx, grad):        # grad: Tensor, same shape as the output
                x, = ctx.saved_tensors      # Tensor again
                return 2 * x * grad         # d/dx x^2 = 2x

        y = Square.apply(t)

    backward returns one gradient per forward argument (None for arguments that are
    not differentiable, such as axes). Gradients may have the broadcast shape; the
    engine sums them back to each input's shape.
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run the op on args (Tensors and plain values); returns the output Tensor."""
        if _trace.active is not None:  # inside `with minidl.trace()`: time this op
            return _trace.active.run_op(cls, args)
        return cls._apply(args)

    @classmethod
    def _apply(cls, args):
        """apply() itself: forward on the arrays, checks, and the graph node."""
        arrays = [a._data if isinstance(a, _tensor.Tensor) else a for a in args]
        ctx = Context(cls, args)
        raw = cls.forward(ctx, *arrays)
        out = raw if isinstance(raw, np.ndarray) else np.asarray(raw)
        if out is not raw:  # numpy returned a scalar (0-d result): if forward saved it,
            ctx._saved = tuple(out if s is raw else s for s in ctx._saved)  # save ours
        if _anomaly_enabled:
            bad = _nonfinite_report(out)
            if bad is not None:
                raise AnomalyError(
                    f"detect_anomaly: {cls.__name__} forward produced {bad}; inputs: "
                    f"{_describe(args)}")
        for hook in _apply_hooks:
            hook(cls, args, out)
        result = _tensor.Tensor(out)
        if _grad_enabled and any(ctx.needs_input_grad) and out.dtype.kind == "f":
            result.requires_grad = True
            result.grad_fn = ctx
            ctx._output = weakref.ref(result)
            ctx._record_versions()
            if _anomaly_enabled:
                ctx.creation_stack = "".join(traceback.format_stack()[:-1])
        return result


# Observers of every Function.apply call (used by the test suite to prove that every op
# is covered by the op registry, and by tracing tools).
_apply_hooks: list = []


def _describe(args) -> str:

    parts = [f"Tensor{tuple(a.shape)} {a.dtype}" if isinstance(a, _tensor.Tensor) else repr(a)
             for a in args]
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------------------
# The backward pass.
# --------------------------------------------------------------------------------------
def _topological_order(roots):
    """Nodes (Tensors with a grad_fn) reachable from roots, outputs before inputs."""

    order, expanded = [], set()
    stack = [(root, False) for root in roots if root.grad_fn is not None]
    while stack:  # iterative post-order DFS: deep graphs must not hit recursion limits
        node, children_done = stack.pop()
        if children_done:
            order.append(node)  # after every node it feeds into was expanded
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        for x in node.grad_fn.inputs:
            if isinstance(x, _tensor.Tensor) and x.grad_fn is not None and id(x) not in expanded:
                stack.append((x, False))
    order.reverse()
    return order


def _run_backward(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate gradients from roots. Returns {id(tensor): grad} for the tensors in
    `inputs` (when given), else accumulates into the `.grad` of every leaf reached."""
    from .ops.reduction import sum_to  # (ops import this module: import late)

    grads = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    wanted = None if inputs is None else {id(t) for t in inputs}
    results = {}

    def deliver(t, g):
        """A gradient reached tensor t: keep it for t's own node, or store it."""
        if wanted is not None:
            if id(t) in wanted:
                results[id(t)] = results[id(t)] + g if id(t) in results else g
            return
        if t.grad_fn is None or t._retains_grad:
            t._accumulate_grad(g, create_graph)

    with set_grad_enabled(create_graph), _trace.span("autograd engine", "backward"):
        for r in roots:
            if r.grad_fn is None:
                deliver(r, grads.pop(id(r)))
        for node in _topological_order(roots):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            deliver(node, g)
            ctx = node.grad_fn
            # (anomaly checks pause inside: the results are checked below, as this op's)
            with detect_anomaly(False):
                if _trace.active is None:
                    in_grads = ctx.function.backward(ctx, g)
                else:  # inside `with minidl.trace()`: time this node's backward
                    in_grads = _trace.active.run_backward(ctx, g)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) != len(ctx.inputs):
                raise RuntimeError(
                    f"{ctx.function.__name__}.backward returned {len(in_grads)} gradients "
                    f"but forward took {len(ctx.inputs)} arguments")
            for x, gx in zip(ctx.inputs, in_grads):
                if gx is None or not (isinstance(x, _tensor.Tensor) and x.requires_grad):
                    continue
                if not isinstance(gx, _tensor.Tensor):
                    gx = _tensor.Tensor(np.asarray(gx, dtype=x.dtype))
                if gx.shape != x.shape:
                    gx = sum_to(gx, x.shape)  # undo broadcasting, once, here
                if gx.dtype != x.dtype:
                    gx = gx.to(x.dtype)
                if _anomaly_enabled:
                    bad = _nonfinite_report(gx._data)
                    if bad is not None:
                        raise AnomalyError(
                            f"detect_anomaly: {ctx.function.__name__}.backward produced "
                            f"{bad} for an input of shape {x.shape}. The op was created "
                            f"at:\n{ctx.creation_stack or '(unknown)'}")
                if x.grad_fn is None:
                    deliver(x, gx)
                else:
                    grads[id(x)] = grads[id(x)] + gx if id(x) in grads else gx
            if not retain_graph:
                ctx._release()
    return results


def _check_roots(tensors, grad_tensors, op):

    roots = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(roots)
    elif not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    root_grads = []
    for r, g in zip(roots, grad_tensors):
        if not r.requires_grad:
            raise RuntimeError(
                f"{op}: element of shape {r.shape} does not require grad and has no "
                "grad_fn (was it computed under no_grad, or from tensors without "
                "requires_grad=True?)")
        if g is None:
            if r.numel() != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, got "
                    f"shape {r.shape}; pass a gradient of that shape")
            g = _tensor.Tensor(np.ones(r.shape, dtype=r.dtype))
        elif not isinstance(g, _tensor.Tensor):
            g = _tensor.Tensor(np.asarray(g, dtype=r.dtype))
        if g.shape != r.shape:
            raise RuntimeError(
                f"{op}: gradient of shape {g.shape} does not match the output shape "
                f"{r.shape}")
        root_grads.append(g)
    return roots, root_grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (as torch.autograd.backward)."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots, root_grads = _check_roots(tensors, grad_tensors, "backward")
    _run_backward(roots, root_grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any `.grad`.

    As torch.autograd.grad; with create_graph=True the results are themselves
    differentiable (e.g. for a gradient penalty).
    """
    retain_graph = create_graph if retain_graph is None else retain_graph
    single = not isinstance(inputs, (list, tuple))
    inputs = [inputs] if single else list(inputs)
    roots, root_grads = _check_roots(outputs, grad_outputs, "grad")
    found = _run_backward(roots, root_grads, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)

