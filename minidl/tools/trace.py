"""minidl.trace(): a small profiler that shows where the time of a training step goes.

    with minidl.trace() as t:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    print(t)        # one line per (name, phase), the most expensive first
    t.rows          # every event, in the order it started

What it records, one `Row` per event:
  * every op, i.e. every Function.apply: name "Conv2d", the shapes of its Tensor
    inputs, its output's shape and dtype, and the bytes of the output array;
  * every graph node's backward call: name "Conv2dBackward", with the shapes of the
    forward op it differentiates (its gradients have those shapes);
  * spans: named steps that library code marks with `with span("GEMM"): ...` --
    the parts of an op that matter for speed (im2col, GEMM, col2im, the pooling
    kernels), each optimizer step ("Adam.step") and the autograd engine itself;
  * each run of Python's garbage collector ("garbage collection (gen 2)"): a full
    collection can pause whatever op is running for tens of milliseconds.

Phases: "backward" for everything that runs inside a backward pass (node backward
calls, the ops they run, the engine's own work), "optimizer" inside optimizer.step(),
"forward" for everything else.

Time: events nest (Conv2dBackward runs ConvTranspose2d, which runs GEMM and col2im).
`ms` is a row's wall time *including* the rows nested inside it; `self_ms` excludes
them: ms minus the ms of the rows directly inside. Self times therefore add up: their
sum is the time covered by the outermost rows, at most the wall time of the block
(`total_ms`). The rest is Python between ops (module calls, argument checks).

Bytes: `bytes` is the size of the new array an op returned (0 when the output is a
view of one of its inputs, such as a reshape). Backward and span rows show 0: the
arrays made inside them are counted on the op rows nested in them. Scratch buffers
that ops reuse from step to step (see ops/conv.py) are not counted.

Cost: with no trace recording, Function.apply and span() check one global (`active`)
and do nothing else. While recording, each row costs a microsecond or two, which
lands in the self time of the row around it. Only the thread that opened the trace
is recorded.
"""
from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .. import tensor as _tensor  # (half-initialised here, as in autograd.py)

__all__ = ["trace", "span", "Trace", "Row"]

active = None  # the Trace recording now, or None; checked by Function.apply and span()

_IDLE = contextlib.nullcontext()  # what span() returns when nothing is recording


@dataclass
class Row:
    """One recorded event."""
    name: str                  # "Conv2d" (op), "Conv2dBackward" (node), "GEMM" (span)
    kind: str                  # "op", "backward" or "span"
    phase: str | None          # "forward", "backward" or "optimizer" (None: inherit)
    input_shapes: tuple = ()   # Tensor inputs' shapes (for a node: its forward op's)
    output_shape: tuple | None = None  # op: its output; node: the gradient it received
    dtype: str | None = None   # dtype of that output / gradient
    ms: float = 0.0            # wall time, including the rows nested inside
    self_ms: float = 0.0       # ms minus the ms of the rows directly inside
    bytes: int = 0             # op: size of the new output array (0 for a view)
    depth: int = 0             # how many rows enclose this one


def trace() -> Trace:
    """Record every op, backward call and span run inside `with minidl.trace() as t:`.

    Print `t` for a table grouped by name and phase; see `Trace.table` and `t.rows`.
    A Trace can be entered again to add more steps to the same table.
    """
    return Trace()


def span(name: str, phase: str | None = None):
    """`with span("GEMM"): ...` times the block as a row named `name` when a trace is
    recording, and does nothing otherwise. `phase` sets the phase of the row and of
    every row inside it (default: the phase of the row around it)."""
    if active is None:
        return _IDLE
    return active._span(name, phase)


class Trace:
    """The rows recorded by one or more `with` blocks, and the table they make."""

    def __init__(self):
        self.rows: list[Row] = []
        self.total_ms = 0.0  # wall time spent inside the `with` blocks
        self._open = []      # [row, ms of rows finished inside it, start]; innermost last
        self._thread = None

    # ------------------------------------------------------------------ recording
    def __enter__(self):
        global active
        if active is not None:
            raise RuntimeError("minidl.trace: another trace is already recording; "
                               "traces do not nest (end the outer one first)")
        self._thread = threading.get_ident()
        self._start = time.perf_counter()
        active = self
        gc.callbacks.append(self._collecting)
        return self

    def __exit__(self, *exc):
        global active
        gc.callbacks.remove(self._collecting)
        active = None
        self.total_ms += 1e3 * (time.perf_counter() - self._start)
        return False

    def _begin(self, row: Row):
        """Start timing `row`, nested in the rows open around it."""
        parent = self._open[-1][0] if self._open else None
        row.phase = row.phase or (parent.phase if parent else "forward")
        row.depth = len(self._open)
        self.rows.append(row)
        self._open.append([row, 0.0, time.perf_counter()])  # row, nested ms, start

    def _end(self):
        """Stop timing the innermost open row."""
        row, nested_ms, start = self._open.pop()
        row.ms = 1e3 * (time.perf_counter() - start)
        row.self_ms = row.ms - nested_ms
        if self._open:
            self._open[-1][1] += row.ms

    @contextlib.contextmanager
    def _timed(self, row: Row):
        self._begin(row)
        try:
            yield row
        finally:
            self._end()

    def _collecting(self, phase, info):
        """A gc.callbacks hook: Python's garbage collector can pause any op for tens of
        milliseconds; each collection becomes a row of its own, so that pause is not
        blamed on the op that happened to be running."""
        if not self._recording_here():
            return
        if phase == "start":
            self._begin(Row(f"garbage collection (gen {info['generation']})", "span",
                            None))
        else:
            self._end()

    def _recording_here(self) -> bool:
        return threading.get_ident() == self._thread

    def _span(self, name, phase):
        if not self._recording_here():
            return _IDLE
        return self._timed(Row(name, "span", phase))

    def run_op(self, function, args):
        """function.apply(*args), recorded as an op row (called by Function.apply)."""
        if not self._recording_here():
            return function._apply(args)
        inputs = [a for a in args if isinstance(a, _tensor.Tensor)]
        row = Row(function.__name__, "op", None, tuple(a.shape for a in inputs))
        with self._timed(row):
            out = function._apply(args)
        row.output_shape, row.dtype = out.shape, str(out.dtype)
        is_view = out._data.base is not None and any(
            np.may_share_memory(out._data, a._data) for a in inputs)
        row.bytes = 0 if is_view else out._data.nbytes
        return out

    def run_backward(self, ctx, grad):
        """ctx.function.backward(ctx, grad), recorded as a backward row (called by the
        autograd engine for each graph node)."""
        if not self._recording_here():
            return ctx.function.backward(ctx, grad)
        shapes = tuple(a.shape for a in ctx.inputs if isinstance(a, _tensor.Tensor))
        row = Row(ctx.name(), "backward", "backward", shapes, grad.shape, str(grad.dtype))
        with self._timed(row):
            return ctx.function.backward(ctx, grad)

    # ------------------------------------------------------------------ reporting
    def table(self, group_by: str = "op", markdown: bool = False, top: int | None = None
              ) -> str:
        """The rows summed per group, the largest self time first.

        group_by: "op" groups by (name, phase); "shape" also by input shapes (tells
        the layers of a network apart). markdown=True gives a Markdown table. top=N
        shows the N largest groups and sums the rest into one line.
        Columns: calls; self ms (total, % of the blocks' wall time, mean per call);
        ms including nested rows; MB of new output arrays.
        """
        keys = {"op": lambda r: (r.name, r.phase),
                "shape": lambda r: (r.name, r.phase, r.input_shapes)}
        if group_by not in keys:
            raise ValueError(f"Trace.table: group_by must be one of {sorted(keys)}, "
                             f"got {group_by!r}")
        groups = defaultdict(lambda: [0, 0.0, 0.0, 0])  # calls, self ms, ms, bytes
        for row in self.rows:
            g = groups[keys[group_by](row)]
            g[0] += 1
            g[1] += row.self_ms
            g[2] += row.ms
            g[3] += row.bytes
        ranked = sorted(groups.items(), key=lambda item: -item[1][1])
        traced_ms = sum(g[1] for g in groups.values())
        wall_ms = self.total_ms or traced_ms  # (a table made inside the block)

        def percent(ms):
            return 100 * ms / wall_ms if wall_ms else 0.0

        header = ["name", "phase"] + (["input shapes"] if group_by == "shape" else []) + [
            "calls", "self ms", "self %", "mean self ms", "incl. ms", "new MB"]
        lines = []
        for key, (calls, self_ms, ms, nbytes) in ranked[:top]:
            shapes = [" ".join(_shape(s) for s in key[2])] if group_by == "shape" else []
            lines.append([key[0], key[1]] + shapes + [
                str(calls), f"{self_ms:.3f}", f"{percent(self_ms):.1f}",
                f"{self_ms / calls:.4f}", f"{ms:.3f}", f"{nbytes / 2**20:.2f}"])
        rest = [g for _, g in ranked[len(lines):]]
        if rest:  # (their inclusive times may overlap: no sum of those)
            calls, self_ms, nbytes = (sum(g[i] for g in rest) for i in (0, 1, 3))
            lines.append([f"({len(rest)} more)", ""] + [""] * (group_by == "shape") + [
                str(calls), f"{self_ms:.3f}", f"{percent(self_ms):.1f}", "", "",
                f"{nbytes / 2**20:.2f}"])
        note = (f"self ms: time in the row itself, excluding rows nested inside it (so "
                f"the column adds up); incl. ms: including them; self %: of the wall "
                f"time.\nTraced {traced_ms:.2f} ms of {wall_ms:.2f} ms wall time "
                f"({percent(traced_ms):.0f}%); the rest is Python between ops.")
        if markdown:
            return _markdown(header, lines) + "\n\n" + note
        return _text(header, lines) + "\n" + note

    def __str__(self):
        return self.table()

    def __repr__(self):
        return f"<Trace: {len(self.rows)} rows, {self.total_ms:.2f} ms>"


# ---------------------------------------------------------------------- helpers
def _shape(shape) -> str:
    return "x".join(map(str, shape)) if shape else "()"


def _text(header, lines) -> str:
    widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]
    left = {"name", "phase", "input shapes"}

    def fmt(row):
        return "  ".join(cell.ljust(w) if name in left else cell.rjust(w)
                         for cell, w, name in zip(row, widths, header))
    return "\n".join([fmt(header), "-" * len(fmt(header))] + [fmt(r) for r in lines])


def _markdown(header, lines) -> str:
    rows = [header, ["---" if h in ("name", "phase", "input shapes") else "---:"
                     for h in header]] + lines
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
