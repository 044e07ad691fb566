"""Registry entries for minidl/ops/movement.py (see registry.py): flip, roll, split,
chunk, tril/triu, diagonal/diag, Tensor.repeat, repeat_interleave, Tensor.unfold
(overlapping windows), unflatten and meshgrid."""
import minidl as md
from registry import register, normal

register("flip", lambda a: md.flip(a, (0, 1)), normal(2, 3))
register("flip", lambda a: a.flip(-1), normal(2, 3, 2))
register("roll", lambda a: md.roll(a, 1), normal(2, 3))
register("roll", lambda a: a.roll((1, -2), (0, 1)), normal(3, 4))
register("split", lambda a: md.split(a, 2, 1), normal(2, 5))
register("split", lambda a: a.split([1, 3], 0)[1] * 2, normal(4, 2))
register("chunk", lambda a: md.chunk(a, 3), normal(5, 2))
register("chunk", lambda a: a.chunk(2, -1), normal(2, 3))
register("tril", md.tril, normal(3, 4))
register("tril", lambda a: a.tril(-1), normal(2, 3, 3))
register("triu", lambda a: md.triu(a, 1), normal(4, 3))
register("triu", lambda a: a.triu(), normal(3, 3))
register("diagonal", md.diagonal, normal(3, 4))
register("diagonal", lambda a: a.diagonal(1, 0, 2), normal(3, 2, 4))
register("diagonal", lambda a: md.diagonal(a, -1, -1, -2), normal(2, 3, 3))
register("diag", md.diag, normal(3,))
register("diag", lambda a: a.diag(-1), normal(3,))
register("diag", lambda a: md.diag(a, 1), normal(3, 4))
register("Tensor.repeat", lambda a: a.repeat(2, 3), normal(2, 2))
register("Tensor.repeat", lambda a: a.repeat(2, 1, 2), normal(3,))
register("repeat_interleave", lambda a: md.repeat_interleave(a, 2), normal(2, 2))
register("repeat_interleave", lambda a: a.repeat_interleave(md.tensor([1, 0, 3]), 0),
         normal(3, 2))
register("Tensor.unfold", lambda a: a.unfold(0, 3, 2), normal(7,))
register("Tensor.unfold", lambda a: a.unfold(1, 2, 1), normal(2, 4, 2))
register("unflatten", lambda a: md.unflatten(a, 1, (2, -1)), normal(3, 4))
register("unflatten", lambda a: a.unflatten(0, (1, 2)), normal(2, 3))
register("meshgrid", lambda a, b: md.meshgrid(a, b, indexing="ij"),
         lambda r: (r.standard_normal((2,)), r.standard_normal((3,))))
register("meshgrid", lambda a, b, c: md.meshgrid([a, b, c], indexing="xy"),
         lambda r: tuple(r.standard_normal((n,)) for n in (2, 3, 2)))
