"""Registry entries for group_norm and instance_norm (minidl/ops/normalization.py):
with and without weight and bias, several group counts and ranks, instance_norm with
running statistics in both modes (registry.py has the format)."""
import minidl as md
import minidl.functional as F
from registry import register, normal, positive


def _normals(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


register("group_norm", lambda x: F.group_norm(x, 2), normal(2, 4, 3))
register("group_norm", lambda x, w, b: F.group_norm(x, 3, w, b), _normals((2, 6, 2, 2),
                                                                          (6,), (6,)))
register("group_norm", lambda x, w: F.group_norm(x, 1, w, eps=0.1), _normals((3, 2), (2,)))
register("group_norm", lambda x, b: F.group_norm(x, 4, bias=b), _normals((2, 4, 5), (4,)))

register("instance_norm", F.instance_norm, normal(2, 3, 4))
register("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=0.1),
         _normals((2, 2, 3, 3), (2,), (2,)))


def _with_running(x, w):
    c = x.shape[1]
    stats = md.zeros(c, dtype=md.float64), md.ones(c, dtype=md.float64)
    return F.instance_norm(x, *stats, weight=w, momentum=0.3)


register("instance_norm", _with_running, _normals((2, 3, 5), (3,)))
# eval mode: the running statistics are inputs too (and differentiable)
register("instance_norm", lambda x, m, v: F.instance_norm(x, m, v, use_input_stats=False),
         lambda rng: (rng.standard_normal((2, 2, 3)), rng.standard_normal(2),
                      positive(rng, (2,))))
