"""Registry entries for norms, F.linear, clamp with tensor bounds, PyTorch's indexing
order and the axis= alias (see registry.py for the format).

Samplers keep norms away from their kinks: p = 1 and p < 1 away from x = 0, the inf
norms without ties in |x|, matrix 1/inf norms without ties between row/column sums.
"""
import math

import numpy as np

import minidl as md
import minidl.functional as F
from registry import register, normal, away_from_zero
from registry_core import distinct, away_from


def signed_distinct(rng, shape):
    """Distinct |x| (gaps of 0.3), random signs: no ties for the inf norms."""
    return distinct(rng, shape) * rng.choice([-1.0, 1.0], size=shape)


def on_grid(offset, *shapes):
    """Arrays on a grid of step 0.3 shifted by offset (plus jitter < 0.01): arrays with
    offsets 0, 0.1, 0.2 never come within 0.09 of each other (no ties for clamp)."""
    def sample(rng):
        out = []
        for i, shape in enumerate(shapes):
            n = int(np.prod(shape))
            grid = rng.permutation(n) * 0.3 + offset[i] + rng.uniform(0, 0.01, n) - 1
            out.append(grid.reshape(shape))
        return tuple(out)
    return sample


# ---- vector norms: torch.norm, Tensor.norm, linalg.vector_norm, linalg.norm ---------------
register("norm", md.norm, normal(2, 3))
register("norm", lambda a: a.norm(dim=1), normal(3, 4))
register("norm", lambda a: a.norm(p=3, dim=(0, 2), keepdim=True), normal(2, 3, 2))
register("norm", lambda a: a.norm(1, axis=0), lambda r: (away_from_zero(r, (3, 2)),))
register("norm", lambda a: md.norm(a, math.inf, 1),
         lambda r: (signed_distinct(r, (2, 4)),))
register("vector_norm", md.linalg.vector_norm, normal(2, 3))
register("vector_norm", lambda a: md.linalg.vector_norm(a, 1.5, -1),
         lambda r: (away_from_zero(r, (2, 4)),))
register("vector_norm", lambda a: md.linalg.vector_norm(a, 0.5, 0, keepdim=True),
         lambda r: (away_from_zero(r, (3, 2)),))
register("vector_norm", lambda a: md.linalg.vector_norm(a, -2, 1),
         lambda r: (away_from_zero(r, (2, 3)),))
register("vector_norm", lambda a: md.linalg.vector_norm(a, -math.inf, (0, 1)),
         lambda r: (signed_distinct(r, (2, 3)),))
register("vector_norm", lambda a: md.linalg.vector_norm(a, 0, 1) + a.sum(), normal(2, 3),
         note="the 0-'norm' counts non-zeros: its gradient is 0")
register("vector_norm", lambda a: md.linalg.vector_norm(a, 4, dtype=md.float64), normal(5,))
register("linalg.norm", md.linalg.norm, normal(2, 3))
register("linalg.norm", lambda a: md.linalg.norm(a, 3, dim=0), normal(3, 2))
register("linalg.norm", lambda a: md.linalg.norm(a, "fro", dim=(1, 2)), normal(2, 3, 2))
register("linalg.norm", lambda a: md.linalg.norm(a, math.inf),
         lambda r: (signed_distinct(r, (3, 3)),))
register("matrix_norm", md.linalg.matrix_norm, normal(2, 3))
for order in (1, -1, math.inf, -math.inf):
    register("matrix_norm", lambda a, o=order: md.linalg.matrix_norm(a, o),
             lambda r: (signed_distinct(r, (3, 4)),))
register("matrix_norm", lambda a: md.linalg.matrix_norm(a, 1, dim=(0, 2), keepdim=True),
         lambda r: (signed_distinct(r, (3, 2, 4)),))
# (svdvals' backward is written in ops that are differentiable again: U and V are
# functions of A, SingularVectors; random matrices have distinct singular values)
for order in ("nuc", 2, -2):
    register("matrix_norm", lambda a, o=order: md.linalg.matrix_norm(a, o), normal(3, 2))
register("matrix_norm", lambda a: md.linalg.matrix_norm(a, "nuc", (2, 0), keepdim=True),
         normal(2, 3, 4))
register("svdvals", md.linalg.svdvals, normal(2, 3, 4))
register("svdvals", md.linalg.svdvals, normal(3, 3))
register("svdvals", md.linalg.svdvals, normal(4, 2))
register("norm", lambda a: a.norm("nuc"), normal(2, 3))

# ---- F.linear -------------------------------------------------------------------------
register("linear", F.linear, lambda r: (r.standard_normal((4, 3)),
                                        r.standard_normal((2, 3)),
                                        r.standard_normal((2,))))
register("linear", F.linear, lambda r: (r.standard_normal((2, 5, 3)),
                                        r.standard_normal((4, 3))))
register("linear", F.linear, lambda r: (r.standard_normal((3,)), r.standard_normal((3,)),
                                        r.standard_normal(())))

# ---- clamp with tensor bounds (each bound gets the gradient where it is the output) -----
register("clamp", lambda a, lo, hi: md.clamp(a, lo, hi),
         on_grid((0, 0.1, 0.2), (2, 3), (3,), (2, 1)))
register("clamp", lambda a, lo: a.clamp(min=lo), on_grid((0, 0.1), (2, 3), (2, 3)))
register("clamp", lambda a, hi: md.clamp(a, max=hi), on_grid((0, 0.1), (3, 2), (2,)))
register("clamp", lambda a, hi: md.clamp(a, -0.45, hi), on_grid((0, 0.1), (2, 3), (3,)),
         note="hi below min in places: there hi is the output and gets the gradient")

# ---- indexing in PyTorch's order (integers first) and axis= aliases -------------------
register("getitem", lambda a: a[1, :, [0, 2, 2]], normal(2, 3, 4))
register("getitem", lambda a: a[:, 0, 1:3, [1, 0]], normal(2, 3, 4, 2))
register("sum", lambda a: a.sum(axis=1, keepdims=True), normal(2, 3))
register("amin", lambda a: md.amin(a, axis=0), lambda r: (distinct(r, (3, 2)),))
