"""Old code against new code in one process, taking turns: the way to measure a change
on a noisy machine (two processes, or two runs, differ by more than most changes).

    times = alternate({"before": (step, lambda: patched(module, f=old_f)),
                       "after": (step, None)}, rounds=15, repeats=10)

Each variant is a step function and a switch: None, or a function returning a context
manager that switches the code (e.g. monkeypatches a function, `patched`) for the
length of the block. Round after round, each variant runs `repeats` steps; the result
is the median step time (ms) of each variant over all its rounds, so slow spells of
the machine fall on every variant alike.
"""
from __future__ import annotations

import contextlib

from baseline import median_ms, step_times


def alternate(variants: dict, rounds: int = 15, repeats: int = 10) -> dict:
    """{name: median ms of its step} for variants {name: (step, switch or None)}, over
    `rounds` turns of `repeats` steps each."""
    times = {name: [] for name in variants}
    for name, (step, switch) in variants.items():  # warm-up: compile, fill buffers
        with switch() if switch else contextlib.nullcontext():
            step_times(step, 0, warmup=3)
    for _ in range(rounds):
        for name, (step, switch) in variants.items():
            with switch() if switch else contextlib.nullcontext():
                times[name] += step_times(step, repeats, warmup=1)
    return {name: median_ms(t) for name, t in times.items()}


@contextlib.contextmanager
def patched(obj, **attributes):
    """Set obj's attributes for the block, then put the old values back (read from
    __dict__ where they are found there, so a staticmethod stays one)."""
    old = {name: vars(obj).get(name, getattr(obj, name)) for name in attributes}
    for name, value in attributes.items():
        setattr(obj, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(obj, name, value)


def report(title: str, times: dict) -> str:
    """One line: each variant's median ms, and the change from the first one."""
    first = next(iter(times.values()))
    parts = [f"{name} {ms:.2f}" + ("" if ms == first else f" ({ms / first - 1:+.1%})")
             for name, ms in times.items()]
    return f"{title}: " + ", ".join(parts)
