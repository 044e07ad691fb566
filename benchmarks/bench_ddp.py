"""Data-parallel speed: SeedCNN training steps on 1 and 2 processes, all-reduce
bandwidth, and where a distributed step's time goes.

    python benchmarks/bench_ddp.py [--batches 32 64] [--steps 40] [--rounds 3]
                                   [--markdown]

Starts itself under `mpiexec -n 1` and `mpiexec -n 2`, every process on one thread
(NUMBA_NUM_THREADS=1, OpenBLAS on one thread), and measures in each:
  * the median time of a training step (zero_grad, forward, backward with the
    gradient all-reduce, Adam) of SeedCNN: with a global batch B split among the p
    processes (strong scaling; efficiency T1 / (p * Tp)) and with B per process
    (weak scaling: the global batch grows to p * B; efficiency T1 / Tp); for p = 2 with
    the all-reduce overlapped with backward and after it;
  * the all-reduce bandwidth of minidl.distributed.all_reduce and, in the same run, of
    mpi4py's own comm.Allreduce on the same buffer, for the size of SeedCNN's
    gradients (93,322 float32 = 365 KiB) and bigger buffers. algbw = bytes / time;
    busbw = algbw * 2 (p - 1) / p, the bytes each process really sends (see
    minidl/distributed/collectives.py) -- comparable across process counts;
  * ten traced steps of each mode (minidl.trace): milliseconds per step and phase,
    so the communication rows stand beside the compute ones. An all-reduce row lasts
    until the slowest rank has joined in: it counts waiting for the other process too.
Then it prints the cost model's prediction for p machines on a network. With
--rounds N it runs 1 and 2 processes in turn N times and reports the median of each
number (other programs on the machine slow 2 processes most: they need every core).

A 2-core machine shows the mechanism, not a speedup to expect: two processes on two
cores leave nothing for the operating system and other programs, and on one machine
MPI moves the gradients through shared memory with the same cores that compute.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np


SIZES = {"SeedCNN's gradients (365 KiB)": 93_322 * 4, "4 MiB": 4 * 2**20,
         "32 MiB": 32 * 2**20}
TRACED = 10  # steps in the trace of each mode
NETWORK = {"name": "10 Gbit/s Ethernet", "bytes_per_s": 1.1e9, "latency_s": 20e-6}


# ------------------------------------------------------------------ inside mpiexec
def step_ms(batch: int, mode: str, steps: int) -> tuple[float, object]:
    """Median ms of a SeedCNN training step on this rank's `batch` examples; mode is
    "plain" (no DDP), "overlap" or "after" (DDP). Also returns a trace of TRACED steps."""
    import minidl as md
    import minidl.functional as F
    from minidl.nn.parallel import DistributedDataParallel
    from models import SeedCNN
    from bench_conv import median_ms
    md.manual_seed(0)
    x, y = md.rand(batch, 1, 28, 28), md.randint(0, 10, (batch,))
    model = SeedCNN()
    opt = md.optim.Adam(model.parameters(), lr=1e-3)
    if mode != "plain":
        model = DistributedDataParallel(model, bucket_cap_mb=0.1,
                                        overlap=mode == "overlap")

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    ms = median_ms(step, steps)
    t = md.trace()
    for _ in range(TRACED):
        with t:
            step()
    return ms, t


def phases(t) -> dict:
    """ms of self time per step and phase of a trace, and the untraced rest."""
    out = {}
    for row in t.rows:
        out[row.phase] = out.get(row.phase, 0.0) + row.self_ms / TRACED
    out["untraced"] = t.total_ms / TRACED - sum(out.values())
    return {k: round(v, 3) for k, v in out.items()}


def bandwidth(nbytes: int, repeats: int) -> dict:
    """Median seconds of an all-reduce of nbytes: minidl's and mpi4py's, taking turns
    (so a slower moment of the machine hits both alike)."""
    import minidl
    import minidl.distributed as dist
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    buffer = np.zeros(nbytes // 4, np.float32)
    tensor = minidl.Tensor(buffer)
    calls = {"minidl": lambda: dist.all_reduce(tensor),
             "mpi4py": lambda: comm.Allreduce(MPI.IN_PLACE, buffer, MPI.SUM)}
    times = {name: [] for name in calls}
    for _ in range(repeats + 2):
        for name, call in calls.items():
            comm.Barrier()
            t0 = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t[2:])) for name, t in times.items()}


def worker(args):
    import minidl.distributed as dist
    dist.init()
    size = dist.get_world_size()
    results = {"size": size, "steps": {}, "phases": {}, "bandwidth": {}}
    modes = ["plain", "overlap"] if size == 1 else ["overlap", "after"]
    for batch in args.batches:
        for mode in modes:
            for scaling, per_rank in (("strong", batch // size), ("weak", batch)):
                if size == 1 and scaling == "weak":  # (the same as strong)
                    continue
                ms, t = step_ms(per_rank, mode, args.steps)
                results["steps"][f"{scaling} {batch} {mode}"] = ms
                if scaling == "strong":
                    results["phases"][f"{batch} {mode}"] = phases(t)
    if size > 1:
        for name, nbytes in SIZES.items():
            results["bandwidth"][name] = bandwidth(nbytes, args.repeats)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(results))


# ------------------------------------------------------------------ the driver
def run(p: int, args) -> dict:
    env = dict(os.environ, NUMBA_NUM_THREADS="1", MINIDL_BLAS_THREADS="1",
               OMP_NUM_THREADS="1")
    mpiexec = pathlib.Path(sys.executable).parent / "mpiexec"
    command = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(p),
               sys.executable, __file__, "--worker", "--steps", str(args.steps),
               "--repeats", str(args.repeats), "--batches", *map(str, args.batches)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def median_of(runs: list):
    """The same nested dict as each run, every number the median over the runs."""
    first = runs[0]
    if isinstance(first, dict):
        return {k: median_of([r[k] for r in runs]) for k in first}
    return float(np.median(runs)) if isinstance(first, float) else first


def table(header, rows, markdown) -> str:
    rows = [[str(c) for c in r] for r in rows]
    if markdown:
        return "\n".join("| " + " | ".join(r) + " |" for r in
                         [header, ["---"] + ["---:"] * (len(header) - 1)] + rows)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths))
                     for r in [header] + rows)


def report(one, two, args):
    md = args.markdown
    rows = []
    for batch in args.batches:
        for scaling in ("strong", "weak"):
            t1 = one["steps"][f"strong {batch} plain"]  # (one process: both scalings)
            for mode in ("overlap", "after"):
                t2 = two["steps"][f"{scaling} {batch} {mode}"]
                per = batch // 2 if scaling == "strong" else batch
                efficiency = t1 / (2 * t2) if scaling == "strong" else t1 / t2
                rows.append([f"{scaling}: global batch {batch if scaling == 'strong' else 2 * batch} ({per} per process)",
                             mode, f"{t1:.1f}", f"{t2:.1f}",
                             f"{(t1 if scaling == 'strong' else 2 * t1) / t2:.2f}",
                             f"{efficiency:.0%}"])
    print(table(["SeedCNN step", "all-reduce", "1 process ms", "2 processes ms",
                 "speedup", "efficiency"], rows, md))
    overhead = {b: one["steps"][f"strong {b} overlap"] / one["steps"][f"strong {b} plain"]
                for b in args.batches}
    print(f"\nDistributedDataParallel on one process (a world of one) costs "
          + ", ".join(f"{v - 1:+.1%} at batch {b}" for b, v in overhead.items())
          + " against the plain model.\n")
    rows = []
    for name, nbytes in SIZES.items():
        for who, seconds in two["bandwidth"][name].items():
            algbw = nbytes / seconds / 1e9
            rows.append([name, who, f"{seconds * 1e3:.3f}", f"{algbw:.2f}",
                         f"{algbw * 2 * (2 - 1) / 2:.2f}"])
    print(table(["all-reduce, 2 processes", "by", "ms", "algbw GB/s", "busbw GB/s"],
                rows, md))
    rows = [[f"batch {key.split()[0]}, {p} process{'es' * (p > 1)}", key.split()[1]]
            + [f"{ph.get(k, 0):.2f}" for k in ("forward", "backward", "communication",
                                               "optimizer", "untraced")]
            for p, run_ in ((1, one), (2, two)) for key, ph in run_["phases"].items()]
    print(f"\n{TRACED} traced steps (minidl.trace), ms of self time per step and "
          "phase:\n")
    print(table(["step", "mode", "forward", "backward", "communication", "optimizer",
                 "untraced"], rows, md))
    prediction(one, two, args)


def prediction(one, two, args):
    """The cost model for p machines: compute shrinks as 1/p (strong scaling), the
    ring all-reduce of N bytes costs 2 (p-1)/p * N / bandwidth + 2 (p-1) * latency."""
    n = SIZES["SeedCNN's gradients (365 KiB)"]
    batch = max(args.batches)
    t1 = one["steps"][f"strong {batch} plain"] / 1e3
    net = NETWORK
    rows = []
    for p in (2, 4, 8, 16):
        comm = 2 * (p - 1) / p * n / net["bytes_per_s"] + 2 * (p - 1) * net["latency_s"]
        tp = t1 / p + comm
        rows.append([p, f"{batch / p:g}", f"{tp * 1e3:.2f}", f"{comm * 1e3:.2f}",
                     f"{t1 / (p * tp):.0%}", f"{t1 / (t1 + comm):.0%}"])
    print(f"\nCost model, {net['name']} ({net['bytes_per_s'] / 1e9:g} GB/s, "
          f"{net['latency_s'] * 1e6:g} us per message), global batch {batch}, "
          f"one-process step {t1 * 1e3:.1f} ms, no overlap:\n")
    print(table(["machines p", "batch per machine", "step ms", "all-reduce ms",
                 "efficiency (strong)", f"efficiency (weak, {batch} each)"], rows,
                args.markdown))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    rounds = [(run(1, args), run(2, args)) for _ in range(args.rounds)]
    print(f"load average after: {os.getloadavg()[0]:.2f}; medians of {args.rounds} "
          f"round{'s' * (args.rounds > 1)}\n")
    report(median_of([r[0] for r in rounds]), median_of([r[1] for r in rounds]), args)


if __name__ == "__main__":
    main()
