"""Reverse-mode automatic differentiation: Function, the graph it records, and backward.

Recording (forward):
  * An op is a subclass of `Function` with two static methods side by side:
    `forward(ctx, *arrays)` computes on plain numpy arrays, and
    `backward(ctx, *grads)` returns the gradients, written with Tensor ops.
  * `Function.apply(*inputs)` runs forward and, when gradients are needed, makes a
    graph node, a `Context`, and attaches it to the output as `grad_fn`. The node
    remembers its parents: for each input, the node that made it (or the input
    itself if it is a leaf, or None if it needs no gradient).

The backward pass (`backward(root)`), the whole algorithm:
  1. list the nodes reachable from the root in topological order (every node
     before the nodes it was computed from), with dL/d(root) = 1 waiting at the root;
  2. for each node in that order, take the gradient waiting for it (the sum of what
     every use of its output sent), and call its backward: that gives one gradient
     per input (the chain rule, done locally);
  3. fit each gradient to its input (sum away broadcast dimensions, cast the dtype);
  4. add it to what waits at the input's node. A leaf keeps its sum in `.grad`.

Because backward is itself made of Tensor ops, running it with grad mode ON
(`create_graph=True`) records a new graph: higher-order derivatives for free.
With grad mode OFF (the default) the same code costs what plain numpy costs.

Two rules keep gradients honest (tested in tests/test_faults_autograd.py):
  * Saved values are explicit. `ctx.save_for_backward` keeps only forward's inputs or
    its output; they come back from `ctx.saved_tensors` as the graph's own Tensors, so
    double backward sees their history. Anything else backward needs (a mask, an axis)
    is set on ctx by name and is a constant.
  * One release rule. After backward (unless retain_graph=True) a node frees its saved
    tensors and every value it kept on ctx except plain sizes and flags, as PyTorch
    keeps sizes. A second backward through a node that needs freed state raises
    PyTorch's error, and a saved tensor edited in place since (through any view of
    it) raises PyTorch's "modified by an inplace operation" error.

Views: when numpy makes an op's output a view of an input (reshape, transpose,
slicing, expand, ...), the output shares that input's version counter and remembers
the steps that made it (`_link_view`); the in-place ops in tensor.py use them to
record an edit of a view on its base, as PyTorch does.
"""
from __future__ import annotations

import contextlib
import sys
import traceback
import weakref

import numpy as np

# tensor.py imports this module first, so it is imported here as a (half-initialised)
# module object; _tensor.Tensor is looked up when called, by then it exists.
from . import tensor as _tensor
from .tools import trace as _trace

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


class _GradMode(set_grad_enabled):
    """no_grad/enable_grad: `with no_grad():`, `@no_grad()` and bare `@no_grad`."""
    MODE = True

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # used bare as a decorator: no_grad(func)

    def __init__(self, func=None):
        super().__init__(self.MODE)


class no_grad(_GradMode):
    """`with minidl.no_grad():` -- ops inside record no graph (evaluation, optimizer steps)."""
    MODE = False


class enable_grad(_GradMode):
    """`with minidl.enable_grad():` -- record a graph even inside a `no_grad` block."""
    MODE = True


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


def _check_forward(function, args, out):
    """Anomaly mode: the forward output of `function` must be finite."""
    bad = _nonfinite_report(out)
    if bad is not None:
        raise AnomalyError(f"detect_anomaly: {function.__name__} forward produced {bad}; "
                           f"inputs: {_describe(args)}")


def _check_backward(node, x, gx):
    """Anomaly mode: the gradient node's backward sent to input x must be finite."""
    bad = _nonfinite_report(gx._data)
    if bad is not None:
        raise AnomalyError(
            f"detect_anomaly: {node.function.__name__}.backward produced {bad} for an "
            f"input of shape {x.shape}. The op was created at:\n"
            f"{node.creation_stack or '(unknown)'}")


def _describe(args) -> str:
    parts = [f"Tensor{tuple(a.shape)} {a.dtype}" if isinstance(a, _tensor.Tensor) else repr(a)
             for a in args]
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------------------
# The graph node.
# --------------------------------------------------------------------------------------
_BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward.")

_OUTPUT = "output"  # marks the op's output among its saved tensors
_NOTHING = contextlib.nullcontext()
_ENGINE_FIELDS = frozenset({"function", "inputs", "needs_input_grad", "parents",
                            "creation_stack", "_saved", "_output", "_released",
                            "_tensor_hooks", "_saves_output"})


class Context:
    """What one op application remembers for its backward pass (PyTorch's grad_fn).

    What a Function uses:
      ctx.save_for_backward(*arrays)  forward's inputs or output, nothing else;
      ctx.saved_tensors               ... they come back as the graph's Tensors
      ctx.needs_input_grad            one bool per forward argument
      ctx.anything = value            any other value backward needs: a mask, an axis.
    After backward (without retain_graph=True) the node is released: saved tensors
    and every value set on ctx are freed (masks, im2col columns, indices), except
    plain ones that only describe sizes (ints, floats, strings, slices, dtypes, and
    tuples of them), which stay, as PyTorch keeps sizes. forward's arguments stay in
    ctx.inputs, except arrays.
    """
    _released = frozenset()  # the names freed by _release()
    _saves_output = False    # did forward save its output?
    _tensor_hooks = None     # register_hook on the (non-leaf) output: {id: hook}

    def __init__(self, function, inputs):
        self.function = function
        self.inputs = inputs  # the forward arguments
        self.needs_input_grad = tuple([
            isinstance(x, _tensor.Tensor) and x.requires_grad for x in inputs])
        self.parents = ()     # set when the node is attached to its output
        self._saved = ()
        self._output = None   # weakref to the output Tensor
        self.creation_stack = None  # filled in anomaly mode

    def name(self) -> str:
        return self.function.__name__ + "Backward"

    def __repr__(self):
        return f"<{self.name()}>"

    def __getattr__(self, name):  # (only called for attributes that are not there)
        if name in self._released:
            raise RuntimeError(f"{self.name()}: {_BACKWARD_TWICE}")
        raise AttributeError(f"{self.name()} has no attribute {name!r}")

    def save_for_backward(self, *arrays):
        """Keep some of forward's inputs and its output (the very arrays forward got or
        returns; None holds a place) for backward. Anything else raises when forward
        returns: keep it on ctx by name instead."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError(f"{self.name()}: {_BACKWARD_TWICE}")
        return tuple([self._unpack(item, version) for item, version in self._saved])

    def _unpack(self, item, version):
        if item is None:
            return None
        t = item
        if item is _OUTPUT:
            t = self._output()
            if t is None:
                raise RuntimeError(f"{self.name()}: its output, saved for backward, no "
                                   "longer exists")
        if t._version != version:
            raise RuntimeError(
                f"{self.name()}: one of the variables needed for gradient computation "
                f"has been modified by an inplace operation: a {t.dtype} tensor of shape "
                f"{t.shape}, which is {'the output' if item is _OUTPUT else 'an input'} "
                f"of {self.function.__name__}, is at version {t._version}; expected "
                f"version {version} instead. Hint: edit a .clone(), or use an "
                "out-of-place op (y = x + 1 instead of x += 1).")
        return t

    def _resolve_saved(self, args, arrays, out):
        """Map what forward saved back to its inputs and output (with their versions
        now); refuse anything else."""
        resolved = []
        for item in self._saved:
            if item is None:  # (a placeholder, as in PyTorch)
                resolved.append((None, None))
                continue
            for a, t in zip(arrays, args):
                if a is item and isinstance(t, _tensor.Tensor):
                    resolved.append((t, t._version_counter.value))
                    break
            else:
                if item is not out:
                    raise RuntimeError(
                        f"{self.function.__name__}.forward: save_for_backward got "
                        f"{_what(item)}, which is neither one of its tensor inputs nor "
                        "its output. Only those can be saved: they come back from "
                        "ctx.saved_tensors attached to the graph, so second derivatives "
                        "stay right. Keep any other value on ctx by name (ctx.mask = "
                        "...); backward then reads it as a constant.")
                resolved.append((_OUTPUT, None))  # (its version: see _set_output)
                self._saves_output = True
        self._saved = resolved

    def _attach(self, output, args, arrays, out):
        """Become output's grad_fn: check and record what forward saved (arrays and out
        are what forward got and returned), the parents, and the output."""
        self._resolve_saved(args, arrays, out)
        self.parents = tuple([(x.grad_fn or x) if needs_grad else None  # (leaf: x)
                              for x, needs_grad in zip(self.inputs, self.needs_input_grad)])
        self._set_output(output)
        output._grad_fn, output._requires_grad = self, True
        if _anomaly_enabled:
            self.creation_stack = "".join(traceback.format_stack()[:-2])

    def _set_output(self, output):
        """output holds this node's result (made here, or written in by an in-place op)."""
        self._output = weakref.ref(output)
        if self._saves_output and self._saved:
            self._saved = [(_OUTPUT, output._version) if item is _OUTPUT else (item, v)
                           for item, v in self._saved]

    def _output_tensor(self):
        """The tensor this node made, if it still exists and this is still its node."""
        out = None if self._output is None else self._output()
        return out if out is not None and out._grad_fn is self else None

    def _release(self):
        """Free what backward needed: saved tensors, every non-plain value set on ctx,
        and array arguments. A later backward that needs them raises PyTorch's error."""
        self._saved = None
        keep, fields = self.function.keep_after_backward, vars(self)
        state = [k for k in fields.keys() - _ENGINE_FIELDS
                 if not (k.startswith("_") or k in keep or _is_plain(fields[k]))]
        if state:
            for k in state:
                delattr(self, k)
            self._released = self._released | frozenset(state)
        for x in self.inputs:
            if isinstance(x, (np.ndarray, tuple)):  # array arguments: drop the arrays
                self.inputs = tuple([None if _holds_arrays(x) else x for x in self.inputs])
                break


def _is_plain(value) -> bool:
    """Sizes, axes, flags, slices, dtypes (and tuples of them): what release keeps."""
    if isinstance(value, tuple):
        return all(_is_plain(v) for v in value)
    return value is None or value is Ellipsis or isinstance(
        value, (bool, int, float, str, slice, np.generic, np.dtype))


def _holds_arrays(value) -> bool:
    if isinstance(value, tuple):
        return any(isinstance(v, np.ndarray) for v in value)
    return isinstance(value, np.ndarray)


def _what(item) -> str:
    if isinstance(item, np.ndarray):
        return f"an array of shape {item.shape} and dtype {item.dtype}"
    return f"a {type(item).__name__}"


# --------------------------------------------------------------------------------------
# Function: the base class of every differentiable op.
# --------------------------------------------------------------------------------------
class Function:
    """Subclass this to define an op: forward on numpy arrays, backward in Tensor ops.

        class Square(Function):
            @staticmethod
            def forward(ctx, x):            # x: numpy array
                ctx.save_for_backward(x)    # an input (or the output): nothing else
                return x * x
            @staticmethod
            def backward(ctx, grad):        # grad: Tensor, same shape as the output
                x, = ctx.saved_tensors      # Tensor again, attached to the graph
                return 2 * x * grad         # d/dx x^2 = 2x

        y = Square.apply(t)

    backward returns one gradient per forward argument (None for arguments that are
    not differentiable, such as axes). Gradients may have the broadcast shape; the
    engine sums them back to each input's shape. Values that are neither an input nor
    the output (a mask, an axis) go on ctx by name: `ctx.mask = x > 0`.
    """
    # ctx attributes that stay after backward although they hold arrays, because they
    # are computed from sizes alone (as PyTorch keeps sizes): e.g. ("taps",)
    keep_after_backward: tuple = ()

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run the op on args (Tensors and plain values); returns the output Tensor."""
        return cls._apply(args) if _trace.active is None else _trace.active.run_op(cls, args)

    @classmethod
    def _apply(cls, args):
        """apply() itself: forward on the arrays, checks, and the graph node."""
        arrays = _forward_arrays(args)
        ctx = Context(cls, args)
        out = _output_array(cls.forward(ctx, *arrays), arrays, ctx)
        if _anomaly_enabled:
            _check_forward(cls, args, out)
        _notify_observers(cls, args, out)  # (the test suite watches every op)
        result = _tensor.Tensor(out)
        if out.base is not None:  # numpy made a view: of one of the inputs?
            _link_view(result, cls, args)
        if _grad_enabled and any(ctx.needs_input_grad) and out.dtype.kind == "f":
            ctx._attach(result, args, arrays, out)
        return result


def _forward_arrays(args) -> list:
    """The arrays forward gets: each Tensor's own array object. Two tensors sharing
    one array object get distinct view objects, so what forward saves is unambiguous."""
    arrays = [a._data if isinstance(a, _tensor.Tensor) else a for a in args]
    if len(arrays) > 1 and len(set(map(id, arrays))) < len(arrays):  # (rare)
        owner = {}
        for i, a in enumerate(args):
            if isinstance(a, _tensor.Tensor) and owner.setdefault(id(a._data), a) is not a:
                arrays[i] = a._data.view()
    return arrays


def _output_array(raw, arrays, ctx):
    """forward's result as a fresh ndarray object (a 0-d array for numpy's scalars, a
    view when forward returned one of its input arrays)."""
    if isinstance(raw, np.ndarray):
        for a in arrays:
            if raw is a:
                return raw.view()
        return raw
    if isinstance(raw, _tensor.Tensor):
        raise TypeError(f"{ctx.function.__name__}.forward returned a Tensor; forward "
                        "computes on numpy arrays and returns a numpy array")
    out = np.asarray(raw)
    ctx._saved = tuple(out if s is raw else s for s in ctx._saved)
    return out


def _link_view(result, function, args):
    """If numpy made the output a view of a Tensor input, it is a view for autograd
    too: it shares the input's version counter (an in-place edit through either is
    seen by both), and remembers its base tensor and the steps from base to view, so
    an in-place op on the view can be recorded on the base (Tensor._inplace)."""
    out = result._data
    for i, a in enumerate(args):
        if isinstance(a, _tensor.Tensor) and np.may_share_memory(out, a._data):
            result._version_counter = a._version_counter
            result._base = a if a._base is None else a._base
            steps = () if a._base is None else a._view_steps
            if steps is not None and _grad_enabled:  # (None: made under no_grad)
                steps += ((function, args[:i] + (None,) + args[i + 1:], i),)
                result._view_of = result._base._grad_fn
            result._view_steps = steps if _grad_enabled else None
            return


# Observers of every Function.apply call: the test suite uses them to prove every op is
# covered by the op registry (tests/test_registry.py), scripts/op_table.py to list ops.
_apply_hooks: list = []


def _notify_observers(function, args, out):
    for hook in _apply_hooks:  # (usually none)
        hook(function, args, out)


# --------------------------------------------------------------------------------------
# The backward pass.
# --------------------------------------------------------------------------------------
def _run_backward(roots, root_grads, retain_graph, create_graph, targets=None,
                  capture=False):
    """The algorithm of the module docstring. targets: {node: tensor} to stop at (None:
    every leaf). capture=True returns {node: gradient} for the targets instead of
    adding to their .grad (autograd.grad)."""
    grads = {}
    for root, g in zip(roots, root_grads):
        _add(grads, _node_of(root), g)
    order, ends = _walk(list(grads), targets)
    captured = {} if capture else None
    with set_grad_enabled(create_graph), _trace.span("autograd engine", "backward"):
        for node in order:  # each node after every node that used its output
            g = grads.pop(node, None)  # (None: every path to it sent None)
            if g is None:
                continue
            g = _run_tensor_hooks(node, g)
            _deliver(node, g, targets, captured, create_graph)
            if node in ends:
                continue
            _pass_on(node, g, grads)
            if not retain_graph:
                node._release()
    return captured


def _pass_on(node, g, grads):
    """Steps 2-4: node's backward for g; each input's gradient, fitted, waits at its
    parent. (A function of its own: no gradient stays referenced by a loop variable.)"""
    for i, (parent, gx) in enumerate(zip(node.parents, _call_backward(node, g))):
        if parent is not None and gx is not None:
            _add(grads, parent, _fit_gradient(gx, node, i))


def _node_of(t):
    """Where gradients for tensor t meet: its grad_fn, or t itself for a leaf."""
    return t if t.grad_fn is None else t.grad_fn


def _add(grads, node, g):
    grads[node] = grads[node] + g if node in grads else g


def _topological_order(roots):
    """Every node (Context, or leaf Tensor) reachable from roots, each one before
    its parents: the node that made a tensor comes after every node that used it.

    Kahn's algorithm: count the uses of each node's output; a node is ready when all
    of them are done. Of the ready nodes, the one readied last goes first (depth
    first), and a leaf at once: its .grad is complete as early as possible, so its
    post-accumulate-grad hooks run while backward goes on with earlier layers (as in
    PyTorch; DistributedDataParallel starts its all-reduces there)."""
    parents = {root: _parents(root) for root in roots}
    uses, stack = {}, list(roots)
    while stack:  # (loops, not recursion: deep graphs must not hit recursion limits)
        for p in parents[stack.pop()]:
            uses[p] = uses.get(p, 0) + 1
            if p not in parents:
                parents[p] = _parents(p)
                stack.append(p)
    order, ready = [], [r for r in roots if r not in uses]
    while ready:
        node = ready.pop()
        order.append(node)
        for p in parents[node]:
            uses[p] -= 1
            if uses[p] == 0 and isinstance(p, _tensor.Tensor):
                order.append(p)  # a leaf: its gradient is complete, deliver it now
            elif uses[p] == 0:
                ready.append(p)
    return order


def _walk(roots, targets):
    """The topological order, and the nodes where backward stops: the leaves; with
    targets, the nodes with no target behind them (those are dropped, unless they
    are targets themselves: nothing needs their gradient)."""
    order = _topological_order(roots)
    if targets is None:
        return order, {node for node in order if isinstance(node, _tensor.Tensor)}
    useful, ends = set(), set()
    for node in reversed(order):  # parents first: is a target behind this node?
        behind = any(p in useful for p in _parents(node))
        if behind or node in targets:
            useful.add(node)
        if not behind:
            ends.add(node)
    return [node for node in order if node in useful], ends


def _parents(node):
    if isinstance(node, _tensor.Tensor):
        return ()
    return [p for p in node.parents if p is not None]


def _call_backward(node, g) -> tuple:
    """node's backward for output gradient g, as a tuple of one gradient per input."""
    run = node.function.backward if _trace.active is None else _trace.active.run_backward
    # (anomalies inside are this op's: _fit_gradient checks them, so pause the mode)
    with detect_anomaly(False) if _anomaly_enabled else _NOTHING:
        grads = run(node, g)  # (inside `with minidl.trace()`, the trace times it)
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != len(node.inputs):
        raise RuntimeError(
            f"{node.function.__name__}.backward returned {len(grads)} gradients but "
            f"forward took {len(node.inputs)} arguments")
    return grads


def _fit_gradient(gx, node, i):
    """The gradient node's backward returned for input i, made to fit that input: a
    Tensor of its shape (broadcast dimensions summed away, once, here) and dtype."""
    x = node.inputs[i]
    if not isinstance(gx, _tensor.Tensor):
        gx = _tensor.Tensor(np.asarray(gx, dtype=x.dtype))
    if gx.shape != x.shape:
        from .ops.reduction import sum_to  # (ops import this module: import late)
        if not _broadcasts_to(x.shape, gx.shape):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"shape {gx.shape} but expected shape compatible with {x.shape}: "
                f"{node.function.__name__}.backward must return, for input {i}, a "
                f"gradient of that input's shape {x.shape} (or of a shape it was "
                "broadcast to, which is summed back)")
        gx = sum_to(gx, x.shape)
    if gx.dtype != x.dtype:
        gx = gx.to(x.dtype)
    if _anomaly_enabled:
        _check_backward(node, x, gx)
    return gx


def _broadcasts_to(shape, target) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _run_tensor_hooks(node, g):
    """Hooks registered with Tensor.register_hook see the whole gradient of their
    tensor and may return a replacement of the same shape."""
    hooks = node._grad_hooks if isinstance(node, _tensor.Tensor) else node._tensor_hooks
    if not hooks:
        return g
    for hook in list(hooks.values()):
        new = hook(g)
        if new is not None:
            new = new if isinstance(new, _tensor.Tensor) else _tensor.Tensor(new)
            if new.shape != g.shape:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed "
                                   f"the size of value: {g.shape} -> {new.shape}")
            g = new
    return g


def _deliver(node, g, targets, captured, create_graph):
    """Hand node's total gradient to its tensor when someone asked for it: a leaf (or a
    retain_grad tensor) in plain backward, a target of backward(inputs=) or grad()."""
    if targets is not None:
        if node not in targets:
            return
        if captured is not None:
            captured[node] = g
            return
        t = targets[node]
    elif isinstance(node, _tensor.Tensor):
        t = node
    else:
        t = node._output_tensor()
        if t is None or not t._retains_grad:
            return
    engine_only = sys.getrefcount(g) == 3  # ours, our caller's, getrefcount's: no other
    t._accumulate_grad(g, create_graph, engine_only)
    if t.grad_fn is None:
        for hook in list((t._post_accumulate_hooks or {}).values()):
            hook(t)


# --------------------------------------------------------------------------------------
# The two entry points: backward() and grad().
# --------------------------------------------------------------------------------------
def _check_roots(tensors, grad_tensors, op):
    roots = list(tensors) if isinstance(tensors, (list, tuple)) else [tensors]
    if grad_tensors is None:
        grad_tensors = [None] * len(roots)
    elif not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    return roots, [_root_gradient(r, g, op) for r, g in zip(roots, grad_tensors)]


def _root_gradient(r, g, op):
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
        return _tensor.Tensor(np.ones(r.shape, dtype=r.dtype))
    if not isinstance(g, _tensor.Tensor):
        g = _tensor.Tensor(np.asarray(g, dtype=r.dtype))
    if g.shape != r.shape:
        raise RuntimeError(f"{op}: gradient of shape {g.shape} does not match the output "
                           f"shape {r.shape}")
    return g


def _targets(inputs, op) -> dict:
    """{node: tensor} for the tensors gradients are wanted for."""
    inputs = [inputs] if isinstance(inputs, _tensor.Tensor) else list(inputs)
    for t in inputs:
        if not (isinstance(t, _tensor.Tensor) and t.requires_grad):
            raise RuntimeError(f"{op}: One of the differentiated Tensors does not "
                               "require grad")
    return {_node_of(t): t for t in inputs}


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (as torch.autograd.backward);
    with inputs=[...], only into those tensors' .grad (leaves or not)."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    roots, root_grads = _check_roots(tensors, grad_tensors, "backward")
    if inputs is not None and len(_targets(inputs, "backward")) == 0:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    targets = None if inputs is None else _targets(inputs, "backward")
    _run_backward(roots, root_grads, retain_graph, create_graph, targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple, without touching any `.grad`.

    As torch.autograd.grad; with create_graph=True the results are themselves
    differentiable (e.g. for a gradient penalty).
    """
    retain_graph = create_graph if retain_graph is None else retain_graph
    inputs = [inputs] if isinstance(inputs, _tensor.Tensor) else list(inputs)
    roots, root_grads = _check_roots(outputs, grad_outputs, "grad")
    found = _run_backward(roots, root_grads, retain_graph, create_graph,
                          _targets(inputs, "grad"), capture=True)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(_node_of(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it")
        result.append(g)
    return tuple(result)
