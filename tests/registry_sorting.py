"""Registry entries for minidl/ops/sorting.py and einsum.py (see registry.py).

The sorting samplers draw distinct values: at a tie the order of equal values is
a choice that finite differences cannot check (test_sorting_vs_torch.py compares
those choices with PyTorch's).
einsum is checked on matrix products, traces, diagonals, broadcasting and "...".
"""
import numpy as np

import minidl as md
from registry import register, normal, NOT_DIFFERENTIABLE

NOT_DIFFERENTIABLE.update({"argsort"})


def distinct(*shape):
    def sample(rng):
        n = int(np.prod(shape))
        return ((rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, n)).reshape(shape),)
    return sample


register("sort", lambda a: md.sort(a).values, distinct(2, 4))
register("sort", lambda a: a.sort(0, descending=True)[0], distinct(3, 2))
register("sort", lambda a: md.sort(a, stable=True, dim=-1).values, distinct(5,))
register("sort", lambda a: md.sort(a).values, distinct(20,),
         note="more than 16 elements: the introsort path")
register("topk", lambda a: md.topk(a, 2).values, distinct(2, 5))
register("topk", lambda a: a.topk(3, 0, largest=False, sorted=False)[0], distinct(4, 2))
register("topk", lambda a: md.topk(a, 1, -1).values, distinct(70,),
         note="k * 64 <= n: the partial-sort path")
register("kthvalue", lambda a: md.kthvalue(a, 2).values, distinct(2, 4))
register("kthvalue", lambda a: a.kthvalue(3, 0, keepdim=True)[0], distinct(5, 2))
register("median", md.median, distinct(2, 3))
register("median", lambda a: a.median(), distinct(5,))
register("median", lambda a: md.median(a, 1).values, distinct(3, 4))
register("median", lambda a: a.median(0, keepdim=True)[0], distinct(5, 2))

register("einsum", lambda a, b: md.einsum("ij,jk->ik", a, b),
         lambda r: (r.standard_normal((2, 3)), r.standard_normal((3, 4))))
register("einsum", lambda a, b: md.einsum("bij,bkj", a, b),
         lambda r: (r.standard_normal((2, 2, 3)), r.standard_normal((2, 4, 3))))
register("einsum", lambda a: md.einsum("ii", a), normal(3, 3))
register("einsum", lambda a: md.einsum("iij->ji", a), normal(3, 3, 2))
register("einsum", lambda a, b: md.einsum("i,j->ij", a, b),
         lambda r: (r.standard_normal((2,)), r.standard_normal((3,))))
register("einsum", lambda a, b, c: md.einsum("ij,jk,kl->il", [a, b, c]),
         lambda r: (r.standard_normal((2, 3)), r.standard_normal((3, 2)),
                    r.standard_normal((2, 2))))
register("einsum", lambda a, b: md.einsum("...ij,...j->...i", a, b),
         lambda r: (r.standard_normal((2, 2, 3)), r.standard_normal((3,))))
register("einsum", lambda a, b: md.einsum("ij,kj->", a, b),
         lambda r: (r.standard_normal((2, 1)), r.standard_normal((3, 4))),
         note="a dimension of size 1 broadcasts")
