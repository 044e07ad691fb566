import sys, time, numpy as np
import workloads, minidl as md
from minidl.kernels import gemm
name, batch, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
md.manual_seed(0)
step = workloads.make("minidl", name, batch)
for _ in range(5): step()
VARIANTS = {"old": lambda: setattr(gemm, "PARALLEL_MIN_OUTPUT", 0),
            "new": lambda: setattr(gemm, "PARALLEL_MIN_OUTPUT", 1024)}
ts = {v: [] for v in VARIANTS}
for r in range(rounds):
    for v, setup in VARIANTS.items():
        setup(); step()
        t0 = time.perf_counter()
        for _ in range(10): step()
        ts[v].append((time.perf_counter() - t0) / 10 * 1e3)
print(name, batch, {v: f"median {np.median(x):.2f} min {np.min(x):.2f}" for v, x in ts.items()})
