"""Registry entries for minidl/ops/indexing.py (see registry.py): gather, scatter,
scatter_add and scatter_reduce with repeated indices (their gradients add up), and
masked_fill / masked_select. scatter_reduce's amax/amin samplers avoid ties; its
prod is checked with one zero and with two zeros sent to one place."""
import numpy as np

import minidl as md
from registry import register, normal, NOT_DIFFERENTIABLE

NOT_DIFFERENTIABLE.update({"nonzero"})

IDX = md.tensor([[0, 2, 2], [1, 1, 0]])  # repeats along dim 1, for a (2, >=3) input
IDX0 = md.tensor([[1, 0, 1, 1]])  # along dim 0 of a (2, 4) input
MASK = md.tensor(np.array([[True, False, True], [False, False, True]]))


def pair(sa, sb):
    return lambda r: (r.standard_normal(sa), r.standard_normal(sb))


def distinct(*shapes):
    """Inputs with no two values equal (amax/amin have no ties to share)."""
    def sample(rng):
        sizes = [int(np.prod(s)) for s in shapes]
        values = rng.permutation(sum(sizes)) * 0.3 + rng.uniform(0, 0.1, sum(sizes))
        parts = np.split(values, np.cumsum(sizes)[:-1])
        return tuple(p.reshape(s) for p, s in zip(parts, shapes))
    return sample


register("gather", lambda a: md.gather(a, 1, IDX), normal(2, 4))
register("gather", lambda a: a.gather(0, IDX0), normal(2, 4))
register("gather", lambda a: md.gather(a, 1, md.tensor([[3], [0]])), normal(3, 4))
register("scatter_add", lambda a, b: md.scatter_add(a, 1, IDX, b), pair((2, 4), (2, 3)))
register("scatter_add", lambda a, b: a.scatter_add(0, IDX0, b), pair((2, 4), (2, 5)))
register("scatter", lambda a, b: md.scatter(a, 1, md.tensor([[0, 2], [3, 1]]), b),
         pair((2, 4), (2, 2)))
register("scatter", lambda a: a.scatter(1, IDX, 1.5), normal(2, 4))
register("scatter", lambda a, b: md.scatter(a, 1, IDX, b), pair((2, 4), (2, 3)),
         note="repeated indices: the last write wins, each src gets g at its place")
for reduce in ("sum", "mean"):
    for include_self in (True, False):
        register("scatter_reduce", lambda a, b, r=reduce, s=include_self: md.scatter_reduce(
            a, 1, IDX, b, r, include_self=s), pair((2, 4), (2, 3)))
for reduce in ("amax", "amin"):
    for include_self in (True, False):
        register("scatter_reduce", lambda a, b, r=reduce, s=include_self: a.scatter_reduce(
            1, IDX, b, r, include_self=s), distinct((2, 4), (2, 3)))
register("scatter_reduce", lambda a, b: md.scatter_reduce(a, 1, IDX, b, "prod"),
         pair((2, 4), (2, 3)))
register("scatter_reduce", lambda a, b: a.scatter_reduce(1, IDX, b, "prod",
                                                         include_self=False),
         lambda r: (r.standard_normal((2, 4)), np.array([[0.5, 0.0, 1.2], [0.0, 2.0, 1.0]])))
register("scatter_reduce", lambda a, b: md.scatter_reduce(a, 1, IDX, b, "prod"),
         lambda r: (r.standard_normal((2, 4)), np.array([[0.5, 0.0, 0.0], [0.7, 2.0, 1.0]])),
         gradgrad=False, note="two zeros sent to one place: no second derivative, as "
                              "in PyTorch")
register("masked_fill", lambda a: md.masked_fill(a, MASK, -1.0), normal(2, 3))
register("masked_fill", lambda a, v: a.masked_fill(MASK[0], v), pair((2, 3), ()))
register("masked_select", lambda a: md.masked_select(a, MASK), normal(2, 3))
register("masked_select", lambda a: a.masked_select(MASK[1]), normal(4, 3))
