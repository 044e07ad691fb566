"""Registry entries for minidl/ops/elementwise.py and division.py (see registry.py).

Samplers keep to each function's domain (asin in (-1, 1), acosh > 1, log > 0) and
away from the jumps of the piecewise-constant ops (floor at integers, round at
halves, sign at 0, remainder where a / b is whole), where finite differences would
see the jump. The logical ops are listed as not differentiable.
"""
import numpy as np

import minidl as md
from registry import register, normal, positive, NOT_DIFFERENTIABLE

NOT_DIFFERENTIABLE.update({
    "floor_divide",  # its backward raises, as in PyTorch (use div(rounding_mode=))
    "isnan", "isinf", "isfinite", "isclose",
    "logical_not", "logical_and", "logical_or", "logical_xor", "any", "all",
})


def uniform(low, high, *shape):
    return lambda rng: (rng.uniform(low, high, shape),)


def off_grid(step, offset=0.0, *shape):
    """Values k * step + offset + u * step with u in [0.2, 0.8]: away from the grid
    k * step + offset where a step function jumps."""
    return lambda rng: ((rng.integers(-4, 4, shape) + rng.uniform(0.2, 0.8, shape))
                        * step + offset,)


# ---- smooth unary functions ---------------------------------------------------------
for name in ("sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "exp2", "expm1"):
    register(name, getattr(md, name), normal(2, 3))
    register(name, lambda a, n=name: getattr(a, n)(), normal(4,))
register("tan", md.tan, uniform(-1.2, 1.2, 5))
for name in ("asin", "acos", "atanh"):
    register(name, getattr(md, name), uniform(-0.9, 0.9, 2, 3))
    register(name, lambda a, n=name: getattr(a, n)(), uniform(-0.9, 0.9, 4))
register("acosh", md.acosh, uniform(1.1, 3.0, 2, 3))
register("acosh", lambda a: a.acosh(), uniform(1.1, 3.0, 4))
for name in ("log2", "log10", "rsqrt"):
    register(name, getattr(md, name), lambda r: (positive(r, (2, 3)),))
    register(name, lambda a, n=name: getattr(a, n)(), lambda r: (positive(r, (4,)),))
register("log1p", md.log1p, uniform(-0.8, 2.0, 2, 3))
register("log1p", lambda a: a.log1p(), uniform(-0.8, 2.0, 4))

# ---- piecewise constant: zero gradients ---------------------------------------------
for name in ("floor", "ceil", "trunc"):
    register(name, getattr(md, name), off_grid(1.0, 0.0, 2, 3))
    register(name, lambda a, n=name: getattr(a, n)() * a, off_grid(1.0, 0.0, 4),
             note="times a: the product rule sees the zero gradient")
register("round", md.round, off_grid(1.0, 0.5, 2, 3))
register("round", lambda a: a.round(decimals=1) * a, off_grid(0.1, 0.05, 4))
register("round", lambda a: md.round(a, decimals=-1), off_grid(10.0, 5.0, 3))
register("sign", md.sign, lambda r: (np.where(r.random((2, 3)) < 0.5, -1, 1)
                                     * r.uniform(0.2, 2, (2, 3)),))
register("sign", lambda a: a.sign() * a, normal(4,))

# ---- binary ---------------------------------------------------------------------------
register("copysign", md.copysign, lambda r: (r.standard_normal((2, 3)),
                                             r.standard_normal((3,))))
register("copysign", lambda a: a.copysign(-1.0), normal(4,))
register("atan2", md.atan2, lambda r: (r.standard_normal((2, 3)),
                                       r.uniform(0.5, 2, (2, 1))))
register("atan2", lambda a, b: a.atan2(b), lambda r: (r.standard_normal((4,)),
                                                    r.standard_normal((4,))))
register("logaddexp", md.logaddexp, lambda r: (r.standard_normal((2, 3)),
                                               r.standard_normal((3,))))
register("logaddexp", lambda a: a.logaddexp(md.tensor(40.0, dtype=md.float64)) - 40,
         normal(4,), note="one term dominates: no overflow")
register("lerp", md.lerp, lambda r: (r.standard_normal((2, 3)), r.standard_normal((2, 3)),
                                     r.uniform(0, 1, (3,))))
register("lerp", lambda a, b: a.lerp(b, 0.3), lambda r: (r.standard_normal((4,)),
                                                       r.standard_normal((2, 4))))
register("lerp", lambda a, b: md.lerp(a, b, 0.8), lambda r: (r.standard_normal((3,)),
                                                           r.standard_normal((3,))))

# ---- division ---------------------------------------------------------------------------
def quotient_off_grid(shape_a, shape_b):
    """a and b with a / b away from whole numbers (remainder and fmod jump there)."""
    def sample(rng):
        b = rng.uniform(0.5, 2.0, shape_b) * np.where(rng.random(shape_b) < 0.5, -1, 1)
        q = rng.integers(-3, 3, shape_a) + rng.uniform(0.2, 0.8, shape_a)
        return q * b, b
    return sample


register("remainder", md.remainder, quotient_off_grid((2, 3), (2, 3)))
register("remainder", lambda a, b: a % b, quotient_off_grid((2, 3), (3,)))
register("remainder", lambda a: 2.5 % a, lambda r: (r.uniform(0.7, 0.8, (4,)),))
register("fmod", md.fmod, quotient_off_grid((2, 3), (3,)))
register("fmod", lambda a: a.fmod(1.5), off_grid(1.5, 0.0, 4))
register("div", lambda a, b: md.div(a, b, rounding_mode="floor") * a,
         quotient_off_grid((2, 3), (3,)), note="rounding_mode: zero gradient")
register("div", lambda a, b: a.div(b, rounding_mode="trunc") * b,
         quotient_off_grid((4,), (4,)))
