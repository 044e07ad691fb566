"""Registry entries for the activations added to minidl/ops/activation.py: selu, celu,
the hard family (hardtanh, relu6, hardsigmoid, hardswish), logsigmoid, mish, softsign,
softmin and normalize (registry.py has the format). Samplers keep clear of the kinks:
0 for selu/celu, the clip points of the hard family."""

import minidl.functional as F
from registry import register, normal, away_from_zero
from registry_core import away_from
from registry_inplace import edited


def clear_of(points, shape, scale=4.0):
    """A sampler of values in [-scale, scale] at least 0.15 from every point."""
    return lambda rng: (away_from(rng, shape, points, scale=scale),)


register("selu", F.selu, lambda r: (away_from_zero(r, (3, 4)),))
register("celu", F.celu, lambda r: (away_from_zero(r, (3, 4)),))
register("celu", lambda a: F.celu(a, alpha=0.5), lambda r: (away_from_zero(r, (2, 3)),))
register("hardtanh", F.hardtanh, clear_of([-1, 1], (3, 4), scale=2))
register("hardtanh", lambda a: F.hardtanh(a, -0.5, 2.0), clear_of([-0.5, 2], (3, 4)))
register("relu6", F.relu6, clear_of([0, 6], (3, 4), scale=8))
register("hardsigmoid", F.hardsigmoid, clear_of([-3, 3], (3, 4), scale=5))
register("hardswish", F.hardswish, clear_of([-3, 3], (3, 4), scale=5))
register("logsigmoid", F.logsigmoid, normal(3, 4))
register("logsigmoid", lambda a: F.logsigmoid(a * 30), normal(2, 3), note="large |x|")
register("mish", F.mish, normal(3, 4))
register("mish", lambda a: F.mish(a * 10), normal(2, 3), note="large |x|")
register("softsign", F.softsign, lambda r: (away_from_zero(r, (3, 4)),))
register("softmin", lambda a: F.softmin(a, dim=1), normal(2, 4))
register("softmin", lambda a: F.softmin(a, 0), normal(3, 2))
register("normalize", F.normalize, normal(3, 4))
register("normalize", lambda a: F.normalize(a, p=1, dim=0),
         lambda r: (away_from_zero(r, (3, 2)),))
register("normalize", lambda a: F.normalize(a, p=3.0, dim=-1), normal(2, 2, 3))
register("normalize", lambda a: F.normalize(a, p=float("inf"), dim=(0, 1)),
         lambda r: (r.permutation(12).reshape(3, 4) * 0.1 + 0.05,), note="p=inf, no ties")
register("threshold", lambda a: F.threshold(a, 0.5, -2.0), clear_of([0.5], (3, 4)))

# inplace=True on a tensor inside the graph: the edit is recorded (Tensor._inplace),
# also through a view (the base gets the edited region)
register("relu", edited(lambda y: F.relu(y, inplace=True)),
         lambda r: (away_from_zero(r, (3, 4)),))
register("threshold", edited(lambda y: F.threshold(y[1:], 0.5, 3.0, inplace=True)),
         clear_of([0.5], (3, 4)))
register("silu", edited(lambda y: F.silu(y, inplace=True)), normal(2, 3))
register("elu", edited(lambda y: F.elu(y.T, 0.5, inplace=True)),
         lambda r: (away_from_zero(r, (2, 3)),))
register("hardtanh", edited(lambda y: F.hardtanh(y[:, 0], -0.5, 2.0, inplace=True)),
         clear_of([-0.5, 2], (3, 4)))
register("mish", edited(lambda y: F.mish(y, inplace=True)), normal(2, 3))
