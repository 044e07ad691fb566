"""PyTorch as the baseline, run the way its users run it: in a process of its own,
with torch imported first and left in its default configuration (its own thread
count and OpenMP settings), so nothing minidl does in the benchmark's process can
speed it up or slow it down.

    with TorchBaseline() as torch_side:          # None-safe: .available is False
        times = torch_side.step_times("seed_cnn", batch=32, repeats=20)

`TorchBaseline(threads=1)` sets torch.set_num_threads(1) in the child instead: not how
users run it, but on a machine busy with other processes it shows how much of
PyTorch's time is its thread pool waiting for a core.

The child is this file run as a script (`python baseline.py --serve`): it reads one
JSON request per line on stdin and answers one JSON line on stdout. Between requests
it sleeps in that read, so the two processes never compute at the same time, and a
benchmark can interleave minidl and PyTorch rounds to share out the machine's noise.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np


def step_times(step, repeats: int, warmup: int = 3) -> list:
    """Wall times (s) of `repeats` calls of step(), after `warmup` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def median_ms(times) -> float:
    return 1e3 * float(np.median(times))


class TorchBaseline:
    """A child process that times the PyTorch side of benchmarks/workloads.py."""

    def __init__(self, threads: int | None = None):
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(threads or 0)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.process.stdout.readline() or "{}")
        self.available = hello.get("torch") is not None
        self.version, self.threads = hello.get("torch"), hello.get("threads")

    def step_times(self, name: str, batch: int, repeats: int) -> list:
        request = {"name": name, "batch": batch, "repeats": repeats}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["times"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait()
        return False


def serve(threads: int):
    try:
        import torch  # first, before anything else can touch the environment
    except ImportError:
        print(json.dumps({"torch": None}), flush=True)
        return
    if threads:
        torch.set_num_threads(threads)
    import workloads
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}),
          flush=True)
    steps = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["name"], request["batch"])
        if key not in steps:
            steps[key] = workloads.make("torch", *key)
        times = step_times(steps[key], request["repeats"])
        print(json.dumps({"times": times}), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(int(sys.argv[2]))
