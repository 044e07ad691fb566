"""Module.summary(): a Keras-style table of a model's layers.

One forward pass on zeros, with a forward hook on every layer recording the shape
of what it returned. Rows are the leaf layers (and any container that owns
parameters directly); each shows the parameters that layer owns itself.
"""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor


def _shape_of(output):
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return type(output).__name__


def _table(rows, total, trainable) -> str:
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) + 4 for i in range(3)]
    width = sum(widths)

    def line(cells):
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(headers), "=" * width]
    out += [line(r) for r in rows]
    out += ["=" * width,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}"]
    return "\n".join(out)


def _run_on_zeros(model, input_shape, dtype) -> None:
    """Forward zeros of input_shape; if the model rejects that shape, try again with a
    batch dimension of 1 in front (so both (1, 28, 28) and (1, 1, 28, 28) work)."""
    with no_grad():
        try:
            model(Tensor(np.zeros(input_shape, dtype=dtype)))
        except (ValueError, RuntimeError, IndexError) as first:
            try:
                model(Tensor(np.zeros((1,) + input_shape, dtype=dtype)))
            except (ValueError, RuntimeError, IndexError):
                raise first from None


def summarize(model, input_shape, dtype=np.float32) -> str:
    """The summary table of `model` for an input of shape input_shape."""
    shapes = {}
    named = [(name, m) for name, m in model.named_modules() if name]
    shown = [(name, m) for name, m in named
             if not m._modules or any(p is not None for p in m._parameters.values())]
    if not named:  # a single layer: show the model itself
        shown = [(type(model).__name__.lower(), model)]

    def recorder(key):
        return lambda module, args, output: shapes.__setitem__(key, _shape_of(output))

    handles = [m.register_forward_hook(recorder(name)) for name, m in shown]
    modes = {id(m): m.training for m in model.modules()}
    model.eval()  # do not let BatchNorm learn from zeros, nor Dropout drop
    try:
        _run_on_zeros(model, tuple(input_shape), dtype)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.training = modes[id(m)]
    rows = []
    for name, m in shown:
        n = sum(p.numel() for p in m.parameters(recurse=False))
        rows.append((f"{name} ({type(m).__name__})", str(shapes.get(name, "--")),
                     f"{n:,}"))
    return _table(rows, model.num_parameters(),
                  model.num_parameters(trainable_only=True))
