"""Module hooks: what happens around `module(x)` besides forward, and what uses it.

  RemovableHandle      returned by every register_*_hook (it lives in minidl/handle.py)
  gather_gradients     one graph node that sees the gradients of several tensors at once
  BackwardHookCall     one call of a module with full backward hooks (PyTorch's rules)
  capture_activations  record what chosen layers output (and the gradient that reaches
                       each output in backward) with hooks that are removed afterwards

Why gather? A module's full backward hook wants *all* its input gradients together,
after backward has gone through the whole module, and may replace them before they
flow on. The engine runs one node per tensor, so the inputs a, b get stand-ins:

    j  = Join(a, b)       a dummy 0-d zero that depends on a and b
    a' = Split(j, a)      a itself (a view); the module computes with a' and b'
    b' = Split(j, b)

Backward reaches a' and b' first (in either order): each Split parks its gradient
and passes a zero to j. Only then does it reach j, whose backward hands both
gradients to the hook and sends them (or the hook's replacements) on to a and b.
"""
from __future__ import annotations

import contextlib
import warnings
from collections import OrderedDict

import numpy as np

from ..autograd import Function
from ..handle import RemovableHandle  # noqa: F401  (nn.hooks.RemovableHandle, as torch's)
from ..tensor import Tensor


# --------------------------------------------------------------------------------------
# Seeing several gradients at once.
# --------------------------------------------------------------------------------------
class Gathering:
    """The meeting point of one gather_gradients call: a slot per tensor, filled by
    the Split nodes in backward and emptied by the Join node."""

    def __init__(self, n: int, callback):
        self.grads = [None] * n
        self.callback = callback

    def release(self) -> tuple:
        grads, self.grads = tuple(self.grads), [None] * len(self.grads)
        replaced = self.callback(grads)
        return grads if replaced is None else tuple(replaced)


class Join(Function):
    """Forward: a dummy 0-d zero that depends on every gathered tensor. Backward
    comes after every Split (they all use its output), so all slots are filled: the
    callback sees them and the (possibly replaced) gradients go on to the tensors."""

    @staticmethod
    def forward(ctx, gathering, *xs):
        return np.zeros((), dtype=xs[0].dtype)

    @staticmethod
    def backward(ctx, _):
        gathering = ctx.inputs[0]  # (an argument: it stays after backward, like hooks)
        return (None,) + gathering.release()


class Split(Function):
    """Forward: tensor x unchanged (a view). Backward: park x's gradient in its slot
    and send a zero to the Join node (so that backward visits it); nothing goes to x
    directly -- Join sends it."""

    @staticmethod
    def forward(ctx, join, x, gathering, index):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        gathering, index = ctx.inputs[2:]  # (arguments: they stay after backward)
        gathering.grads[index] = g
        return Tensor(np.zeros((), dtype=g.dtype)), None, None, None


def gather_gradients(tensors, callback) -> list:
    """Stand-ins for `tensors` (all requiring grad): use them instead of the originals.

    In backward, once the gradients w.r.t. all stand-ins are known, callback(grads)
    is called once with their tuple (None where no gradient came); it may return a
    tuple of replacements. The gradients then flow on to the original tensors."""
    gathering = Gathering(len(tensors), callback)
    join = Join.apply(gathering, *tensors)
    return [Split.apply(join, t, gathering, i) for i, t in enumerate(tensors)]


# --------------------------------------------------------------------------------------
# Full backward hooks, as PyTorch runs them.
# --------------------------------------------------------------------------------------
class BackwardHookCall:
    """One call of a module that has full backward (pre-)hooks.

    Module.__call__ passes the positional arguments through setup_inputs and the
    result through setup_output. In backward, then:
      1. the output's gradients arrive: grad_output, one entry per output (None for
         one that is not a Tensor or got no gradient). Backward pre-hooks
         hook(module, grad_output) may replace it.
      2. the inputs' gradients arrive: grad_input, one entry per positional argument
         (None for one that is not a Tensor; zeros for a Tensor that does not require
         grad or that the output does not depend on). Then each
         hook(module, grad_input, grad_output) runs and may return a replacement
         grad_input (only the entries of inputs requiring grad are used).
    If no input requires grad, step 2 never comes: the hooks run in step 1, with
    grad_input all None. The hooks run once per backward pass through the module.
    """

    def __init__(self, module):
        self.module = module
        self.n_inputs = 0
        self.tensor_inputs = []  # (position, shape, dtype) of each Tensor input
        self.grad_positions = []  # positions of the inputs that require grad
        self.n_outputs = 0
        self.output_positions = []
        self.grad_output = None  # set in step 1, used and cleared in step 2

    def setup_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        self.tensor_inputs = [(i, a.shape, a.dtype) for i, a in enumerate(args)
                              if isinstance(a, Tensor)]
        self.grad_positions = [i for i, a in enumerate(args)
                               if isinstance(a, Tensor) and a.requires_grad]
        if not self.grad_positions:
            return args
        wrapped = gather_gradients([args[i] for i in self.grad_positions],
                                   self.on_grad_input)
        return _put(args, self.grad_positions, wrapped)

    def setup_output(self, output):
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(f"{self._name()}: full backward hooks fire only for modules "
                          f"returning a Tensor or a tuple, got {type(output).__name__}")
            return output
        outputs = output if isinstance(output, tuple) else (output,)
        self.n_outputs = len(outputs)
        self.output_positions = [i for i, o in enumerate(outputs)
                                 if isinstance(o, Tensor) and o.requires_grad]
        if not self.output_positions:
            return output
        wrapped = gather_gradients([outputs[i] for i in self.output_positions],
                                   self.on_grad_output)
        outputs = _put(outputs, self.output_positions, wrapped)
        return outputs if isinstance(output, tuple) else outputs[0]

    def on_grad_output(self, grads):
        grad_output = _pack(self.output_positions, grads, self.n_outputs)
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = self._checked(result, grad_output, "grad_output")
        if self.grad_positions:
            self.grad_output = grad_output
        else:  # no input gradient will come: run the hooks now
            for hook in list(self.module._backward_hooks.values()):
                result = hook(self.module, (None,) * self.n_inputs, grad_output)
                if result is not None and any(g is not None for g in result):
                    raise RuntimeError(
                        f"{self._name()}: a backward hook of a module where no input "
                        "requires grad must return None (or None for every gradient)")
        return tuple(grad_output[i] for i in self.output_positions)

    def on_grad_input(self, grads):
        if self.grad_output is None:  # this gradient did not come through our output
            return None               # (e.g. double backward): pass it on unchanged
        got = {i: g for i, g in zip(self.grad_positions, grads) if g is not None}
        grad_input = _pack([i for i, _, _ in self.tensor_inputs],
                           [got[i] if i in got else Tensor(np.zeros(shape, dtype))
                            for i, shape, dtype in self.tensor_inputs], self.n_inputs)
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = self._checked(result, grad_input, "grad_input")
        self.grad_output = None
        return tuple(grad_input[i] for i in self.grad_positions)

    def _checked(self, new, old, what) -> tuple:
        """A hook's replacement for `old`: as many entries, each of the same shape."""
        new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        if len(new) != len(old):
            raise RuntimeError(f"{self._name()}: backward hook returned an invalid "
                               f"number of {what}, got {len(new)}, but expected "
                               f"{len(old)}")
        for n, o in zip(new, old):
            if n is not None and o is not None and tuple(np.shape(n)) != o.shape:
                raise RuntimeError(f"{self._name()}: backward hook returned a {what} of "
                                   f"shape {tuple(np.shape(n))}, expected {o.shape}")
        return new

    def _name(self) -> str:
        return type(self.module).__name__


def _put(items, positions, values) -> tuple:
    """items with items[p] replaced by the matching value, for each p in positions."""
    items = list(items)
    for p, v in zip(positions, values):
        items[p] = v
    return tuple(items)


def _pack(positions, values, n) -> tuple:
    """A tuple of n Nones, with values put at positions."""
    return _put((None,) * n, positions, values)


# --------------------------------------------------------------------------------------
# capture_activations.
# --------------------------------------------------------------------------------------
class Captured(OrderedDict):
    """{layer name: what the layer returned, as a numpy array}, in the order the
    layers ran. `.grads` is {layer name: gradient of what backward started from
    (the loss) w.r.t. that output}, filled when backward runs (grads=True)."""

    def __init__(self):
        super().__init__()
        self.grads = OrderedDict()


@contextlib.contextmanager
def capture_activations(model, layers=None, grads=False):
    """Record the outputs of some layers of `model` while the `with` block runs.

        with minidl.no_grad(), capture_activations(model, ["features.1"]) as acts:
            model(image)
        acts["features.1"]             # numpy array: that layer's output

        with capture_activations(model, grads=True) as acts:
            F.cross_entropy(model(x), y).backward()
        acts["0"], acts.grads["0"]     # layer "0"'s output and d loss / d output

    layers: names as in model.named_modules() ("features.1", "classifier.3"), or None
    for every leaf layer (a module without children). A layer called more than once
    keeps the last output it returned (and the last gradient backward brought it).
    grads=True also puts a full backward hook on each layer.
    The hooks are removed when the block ends, even if it raises.
    """
    if layers is None:
        layers = [name for name, m in model.named_modules() if not m._modules]
    captured = Captured()
    handles = []
    try:
        for name in layers:
            layer = model.get_submodule(name)
            handles.append(layer.register_forward_hook(_keep_output(captured, name)))
            if grads:
                handles.append(layer.register_full_backward_hook(
                    _keep_grad_output(captured.grads, name)))
        yield captured
    finally:
        for handle in handles:
            handle.remove()
    # backward met the layers last to first: list the gradients in forward order
    ordered = [(name, captured.grads[name]) for name in captured
               if name in captured.grads]
    captured.grads.clear()
    captured.grads.update(ordered)


def _keep_output(captured, name):
    def hook(module, args, output):
        if not isinstance(output, Tensor):
            raise TypeError(f"capture_activations: layer '{name}' "
                            f"({type(module).__name__}) returned a "
                            f"{type(output).__name__}, expected a Tensor")
        captured[name] = output.detach().numpy().copy()
    return hook


def _keep_grad_output(grads, name):
    def hook(module, grad_input, grad_output):
        if grad_output[0] is not None:
            grads[name] = grad_output[0].detach().numpy().copy()
    return hook
