"""Where does a training step spend its time? minidl.trace() of one step.

For each batch size: build the workload of benchmarks/workloads.py (by default the
SeedCNN with Adam, at batch 32 and 64), run a few warm-up steps (numba compilation,
scratch buffers, Adam's state), then trace one step -- zero_grad, forward, loss,
backward, optimizer -- and print the table grouped by op and phase, the largest self
time first.

    python benchmarks/trace_step.py [--workload seed_cnn|dcgan|wgan_gp|vae]
                                    [--batches 32 64] [--steps 1] [--group-by op]
                                    [--top N] [--markdown]

--markdown prints Markdown tables (for the README); --top N keeps the N largest lines
and sums the rest into one. A single step on a busy machine is noisy; --steps N
traces N steps into one table (mean self ms is then per call over all of them).
"""
from __future__ import annotations

import argparse

import minidl as md
from minidl.trace import Trace

import workloads

WARMUP_STEPS = 3


def traced_steps(name: str, batch: int, steps: int) -> Trace:
    step = workloads.make("minidl", name, batch)
    for _ in range(WARMUP_STEPS):
        step()
    t = md.trace()
    for _ in range(steps):
        with t:
            step()
    return t


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=list(workloads.DEFAULT_BATCH),
                        default="seed_cnn")
    parser.add_argument("--batches", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--group-by", choices=["op", "shape"], default="op")
    parser.add_argument("--top", type=int, default=None)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    md.manual_seed(args.seed)
    batches = args.batches or ([32, 64] if args.workload == "seed_cnn"
                               else [workloads.DEFAULT_BATCH[args.workload]])
    for batch in batches:
        t = traced_steps(args.workload, batch, args.steps)
        steps = f"{args.steps} steps" if args.steps > 1 else "one step"
        title = f"{args.workload} training step, batch {batch} ({steps}, float32, Adam)"
        if args.markdown:
            print(f"**{title}**\n\n{t.table(args.group_by, True, args.top)}\n")
        else:
            print(f"{title}\n{t.table(args.group_by, False, args.top)}\n")


if __name__ == "__main__":
    main()
