"""How fast are the spatial transforms? grid_sample (with affine_grid) in minidl vs
PyTorch (CPU), and what augmentation costs per batch.

Shapes: a batch of MNIST digits (64, 1, 28, 28), and feature maps (32, 16, 28, 28),
each warped by a random affine map near the identity. Cases:
    warp forward         affine_grid + grid_sample, bilinear, zeros padding
    warp fwd+bwd         the same, then backward to the input and to theta
    RandomAffine batch   minidl.data.RandomAffine on a batch of 32 digits (minidl only)
Prints milliseconds (best of --repeats: the least disturbed by other processes) and
PyTorch's time divided by minidl's (> 1: minidl faster). PyTorch runs in a child
process with Numba's thread count (two OpenMP runtimes in one process distort both);
its column is left out when torch is not installed.

    python benchmarks/bench_spatial.py [--repeats 30] [--threads N]
"""
from __future__ import annotations

import numpy as np

from bench_pool import best_ms, parse_bench_args, torch_in_child

SHAPES = [(64, 1, 28, 28), (32, 16, 28, 28)]


def inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    theta = (np.eye(2, 3) + 0.2 * rng.standard_normal((shape[0], 2, 3))).astype(np.float32)
    return x, theta, rng.standard_normal(shape).astype(np.float32)


def cases(lib, x, theta, g):
    """{case: function} for lib "minidl" or "torch"."""
    if lib == "minidl":
        import minidl as md
        import minidl.functional as F
        tensor, grid_sample, affine_grid = md.tensor, F.grid_sample, F.affine_grid
    else:
        import torch
        import torch.nn.functional as F
        tensor, grid_sample, affine_grid = torch.tensor, F.grid_sample, F.affine_grid
    xs, ts, gs = tensor(x, requires_grad=True), tensor(theta, requires_grad=True), \
        tensor(g)

    def forward():
        return grid_sample(xs.detach(), affine_grid(ts.detach(), x.shape, False),
                           align_corners=False)

    def forward_backward():
        xs.grad = ts.grad = None
        grid_sample(xs, affine_grid(ts, x.shape, False), align_corners=False).backward(gs)

    return {"warp forward": forward, "warp fwd+bwd": forward_backward}


def run(lib, repeats):
    """{shape: {case: ms}} for one library, in this process."""
    results = {str(s): {name: best_ms(fn, repeats)
                        for name, fn in cases(lib, *inputs(s)).items()} for s in SHAPES}
    if lib == "minidl":
        import minidl as md
        from minidl.data import RandomAffine
        augment = RandomAffine(20, translate=(0.1, 0.1), scale=(0.9, 1.1),
                               interpolation="bilinear", seed=0)
        batch = md.rand(32, 1, 28, 28, generator=md.Generator(0))
        results["(32, 1, 28, 28)"] = {"RandomAffine batch":
                                      best_ms(lambda: augment(batch), repeats)}
    return results


def main():
    args, threads = parse_bench_args(__doc__.splitlines()[0], repeats=30)
    ours = run("minidl", args.repeats)
    theirs = torch_in_child(args.repeats, threads, "bench_spatial") or {}
    print(f"affine_grid + grid_sample (bilinear), float32, {threads} threads; best of "
          f"{args.repeats} runs, ms (ratio = PyTorch / minidl, > 1: minidl faster)")
    print(f"{'shape':<18}{'case':<20}{'minidl':>9}{'torch':>9}{'ratio':>7}")
    for shape, row in ours.items():
        for case, ms in row.items():
            other = theirs.get(shape, {}).get(case)
            extra = f"{other:9.3f}{other / ms:7.2f}" if other is not None else ""
            print(f"{shape:<18}{case:<20}{ms:9.3f}{extra}")


if __name__ == "__main__":
    main()
