"""Data-parallel training equals single-process training: a check you can run.

    mpiexec -n 2 python examples/check_ddp.py [--steps 300] [--batch-size 32]
                                              [--seed 0] [--limit 3200] [--double]
                                              [--after-backward] [--bucket-cap-mb 0.1]

Every rank trains SeedCNN with DistributedDataParallel (Adam, lr 1e-3) for --steps
steps on the first --limit MNIST training images, each on its share of every global
batch of --batch-size (a DistributedSampler). Then rank 0 alone trains the same model
from the same initial weights on the same global batches, twice, in one process and
without DistributedDataParallel:
  in one pass       the whole global batch in one forward and backward;
  in ranks' order   the global batch as P micro-batches -- exactly the ranks' shares --
                    whose gradients are added up in rank order and divided by P
                    (gradient accumulation).
and compares the weights of all three.

What to expect, and why it is not bit for bit "in one pass". One process sums a
gradient over 32 examples in one pass; two processes each sum over 16 and add the
two sums. Floating-point addition is not associative, so the two gradients differ in
their last bits (float32: about 1e-7 relative). So:
  * the ranks agree bit for bit with "in ranks' order" (with 2 processes the
    all-reduce is one addition, the same one): the check fails if a single bit
    differs. With more processes the MPI library picks the order of the additions,
    and only the next two points hold.
  * in float64 (--double) they agree with "in one pass" to about 1e-14 of the largest
    weight even after hundreds of steps: the check fails above 1e-9.
  * in float32 they agree with "in one pass" to round-off for the first steps, and
    then drift apart -- as one process's "in ranks' order" run drifts from its own
    "in one pass" run by the same amount: training amplifies any perturbation, and
    Adam turns round-off in a near-zero gradient into a step of full size. Printed,
    not checked.
Exits with status 1 when the check fails. --after-backward averages the gradients
after backward instead of overlapped with it; --bucket-cap-mb sets the bucket size.
"""
import itertools
import sys

import numpy as np

import minidl
import minidl.distributed as dist
import minidl.functional as F
from minidl import optim
from minidl.data import MNIST, DataLoader, DistributedSampler
from minidl.nn.parallel import DistributedDataParallel
from models import SeedCNN

from flags import add_seed, fail, parser, positive_float, positive_int

FLOAT64_TOLERANCE = 1e-9  # largest |difference| / largest |weight|, vs "in one pass"


def shares(dataset, args, ranks: int, size: int):
    """Every step's batches: for each of `ranks` shares of every global batch (rank
    0..ranks-1 of `size` ranks), the (x, y) of that share -- epoch after epoch."""
    samplers = [DistributedSampler(dataset, size, r, seed=args.seed) for r in ranks]
    for epoch in itertools.count():
        for s in samplers:
            s.set_epoch(epoch)
        loaders = [DataLoader(dataset, args.batch_size // size, sampler=s)
                   for s in samplers]
        for parts in zip(*loaders):
            yield [(x.to(args.dtype), y) for x, y in parts]


def train(model, steps: int, batches, mean_over: int = 1):
    """Adam on the sum of each step's micro-batch gradients, divided by mean_over."""
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for parts in itertools.islice(batches, steps):
        optimizer.zero_grad()
        for x, y in parts:
            F.cross_entropy(model(x), y).backward()
        if mean_over > 1:
            for p in model.parameters():
                p.grad.numpy()[...] /= mean_over
        optimizer.step()
    return model


def parse_args(argv=None):
    p = parser("check_ddp.py", __doc__.splitlines()[0])
    p.add_argument("--steps", type=positive_int, default=300)
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--limit", type=positive_int, default=3200,
                   help="train on the first N images (a multiple of --batch-size)")
    p.add_argument("--double", action="store_true", help="train in float64")
    p.add_argument("--after-backward", action="store_true",
                   help="average the gradients after backward, not overlapped with it")
    p.add_argument("--bucket-cap-mb", type=positive_float, default=0.1)
    add_seed(p)
    args = p.parse_args(argv)
    if args.limit % args.batch_size:  # else the last batch of an epoch would be padded
        fail(args, f"--limit {args.limit} must be a multiple of --batch-size "
                   f"{args.batch_size}")
    args.dtype = minidl.float64 if args.double else minidl.float32
    return args


def main(argv=None):
    args = parse_args(argv)
    dist.init()
    rank, size = dist.get_rank(), dist.get_world_size()
    if args.batch_size % size:
        fail(args, f"--batch-size {args.batch_size} must divide among {size} processes")
    dataset = MNIST(train=True, limit=args.limit)
    minidl.manual_seed(args.seed)
    model = SeedCNN().to(args.dtype)
    start = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb,
                                  overlap=not args.after_backward)
    train(ddp, args.steps, shares(dataset, args, [rank], size))
    if rank != 0:
        return None

    def alone(ranks, global_size, mean_over):
        copy = SeedCNN().to(args.dtype)
        copy.load_state_dict(start)
        return train(copy, args.steps, shares(dataset, args, ranks, global_size),
                     mean_over)

    one_pass = alone([0], 1, 1)
    ranks_order = alone(range(size), size, size)
    return report(model, one_pass, ranks_order, args, size)


def largest_difference(a, b) -> float:
    """max |a - b| over all weights, relative to the largest |weight| of b."""
    diff = max(float(np.abs(p.detach().numpy() - q.detach().numpy()).max())
               for p, q in zip(a.parameters(), b.parameters()))
    return diff / max(float(np.abs(q.detach().numpy()).max()) for q in b.parameters())


def report(model, one_pass, ranks_order, args, size) -> dict:
    """Print the three comparisons; exit 1 if the check fails (module docstring)."""
    found = {"ranks vs one process in ranks' order": largest_difference(model, ranks_order),
             "ranks vs one process in one pass": largest_difference(model, one_pass),
             "one process: ranks' order vs one pass": largest_difference(ranks_order,
                                                                         one_pass)}
    dtype = "float64" if args.double else "float32"
    print(f"{args.steps} steps of batch {args.batch_size} ({dtype}) on {size} "
          f"process{'es' * (size > 1)}; largest weight difference, relative to the "
          "largest weight:")
    for what, value in found.items():
        print(f"  {what:40s} {value:.3g}")
    failures = []
    if size <= 2 and found["ranks vs one process in ranks' order"] != 0:
        failures.append("the ranks differ from the same sums in one process")
    if args.double and found["ranks vs one process in one pass"] > FLOAT64_TOLERANCE:
        failures.append(f"float64 difference above {FLOAT64_TOLERANCE:g}")
    print("check failed: " + "; ".join(failures) if failures else "check passed")
    if failures:
        sys.exit(1)
    return found


if __name__ == "__main__":
    main()
