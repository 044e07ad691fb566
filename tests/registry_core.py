"""Registry entries for the core ops in minidl/ops (see registry.py for the format).

Grouped as the ops are: arithmetic, reductions, shape ops, matmul, activations.
Every op gets several entries (broadcasting, dims, keepdim, argument variants);
samplers keep inputs away from kinks (abs, relu, clamp bounds, ties of max).
"""
import numpy as np

import minidl as md
from registry import register, normal, away_from_zero, positive


# ---- samplers for awkward domains ---------------------------------------------------
def away_from(rng, shape, points, gap=0.15, scale=2.0):
    """Uniform values in [-scale, scale] that keep |x - p| >= gap for every kink p."""
    x = rng.uniform(-scale, scale, shape)
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.where(x >= p, gap, -gap), x)
    return x


def distinct(rng, shape):
    """Values with no ties (gaps of 0.3): max/min are differentiable there."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, n)).reshape(shape)


def pair(sa, sb, low=None):
    """Sampler for a binary op: normals, or values in [low, low + 1.5] for the second
    operand (e.g. a divisor kept away from zero)."""
    def sample(rng):
        b = rng.standard_normal(sb) if low is None else rng.uniform(low, low + 1.5, sb)
        return rng.standard_normal(sa), b
    return sample


def gapped_pair(sa, sb):
    """Two operands whose values differ by >= 0.1 for every pair (no ties for max/min):
    a sits on a grid of step 0.3, b on the same grid shifted by 0.15."""
    def grid(rng, shape, shift):
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.3 + shift + rng.uniform(0, 0.05, n) - 1).reshape(shape)
    return lambda rng: (grid(rng, sa, 0.0), grid(rng, sb, 0.15))


MASK = np.random.default_rng(1).random((2, 3)) > 0.5  # a fixed condition for where


# ---- arithmetic: + - * / and broadcasting --------------------------------------------
SHAPE_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 2)),
               ((2, 1, 3), (4, 1))]
for sa, sb in SHAPE_PAIRS:
    register("add", lambda a, b: a + b, pair(sa, sb))
    register("sub", lambda a, b: a - b, pair(sa, sb))
    register("mul", lambda a, b: a * b, pair(sa, sb))
    register("div", lambda a, b: a / b, pair(sa, sb, low=0.5))
    register("maximum", md.maximum, gapped_pair(sa, sb))
    register("minimum", md.minimum, gapped_pair(sa, sb))
register("add", lambda a: md.add(a, 2.5), normal(2, 3))
register("add", lambda a: 1 + a, normal(3,))
register("sub", lambda a: 1.5 - a, normal(2, 2))
register("add", lambda a, b: md.add(a, b, alpha=-2.5), pair((2, 3), (3,)))  # (Scale)
register("sub", lambda a, b: b.sub(a, alpha=0.5), pair((3,), (2, 3)))
register("mul", lambda a: md.mul(3, a), normal(4,))
register("div", lambda a: 2 / a, lambda r: (positive(r, (2, 3)),))
register("div", lambda a: md.div(a, 4), normal(3,))
register("neg", md.neg, normal(2, 3))
register("neg", lambda a: -a, normal(4,))

# pow: tensor exponents, scalar exponents (including 0), scalar bases
register("pow", lambda a, b: a ** b, lambda r: (positive(r, (2, 3)),
                                                 r.standard_normal((2, 3))))
register("pow", md.pow, lambda r: (positive(r, (2, 3)), r.standard_normal((3,))))
register("pow", lambda a: a ** 2, normal(2, 3))
register("pow", lambda a: a ** 3, normal(5,))
register("pow", lambda a: a ** 0.5, lambda r: (positive(r, (2, 3)),))
register("pow", lambda a: md.pow(a, -1.5), lambda r: (positive(r, (4,)),))
register("pow", lambda a: a ** 0, normal(3,))
register("pow", lambda b: 2.0 ** b, normal(2, 3))
register("pow", lambda b: md.pow(3, b), normal(4,))

# unary math
register("exp", md.exp, normal(2, 3))
register("exp", lambda a: a.exp(), normal(4,))
register("log", md.log, lambda r: (positive(r, (2, 3)),))
register("sqrt", md.sqrt, lambda r: (positive(r, (2, 3)),))
register("abs", md.abs, lambda r: (away_from_zero(r, (2, 3)),))
register("abs", lambda a: abs(a), lambda r: (away_from_zero(r, (4,)),))
register("clamp", lambda a: md.clamp(a, min=-0.5), lambda r: (away_from(r, (3, 4), [-0.5]),))
register("clamp", lambda a: md.clamp(a, max=0.3), lambda r: (away_from(r, (3, 4), [0.3]),))
register("clamp", lambda a: a.clamp(-1.0, 1.0), lambda r: (away_from(r, (3, 4), [-1, 1]),))
register("clip", lambda a: md.clip(a, -0.5, 0.5), lambda r: (away_from(r, (2, 5), [-.5, .5]),))
register("where", lambda a, b: md.where(md.tensor(MASK), a, b), pair((2, 3), (2, 3)))
register("where", lambda a, b: md.where(md.tensor(MASK), a, b),
         lambda r: (r.standard_normal((3,)), r.standard_normal((2, 1))))
register("where", lambda a: md.where(md.tensor(MASK), a, 0.0), normal(2, 3))
register("where", lambda b: md.where(md.tensor(MASK[0]), 1.0, b), normal(2, 3))
register("clone", md.clone, normal(2, 3))
register("clone", lambda a: a.clone() * a, normal(3,))
# float64 -> float32 -> float64: small inputs, so that float32 rounding stays far below
# the finite-difference tolerance
register("cast", lambda a: md.cast(md.cast(a, md.float32), md.float64),
         lambda r: (r.uniform(-0.01, 0.01, (2, 3)),), gradgrad=False,
         note="the float32 round trip makes second differences too coarse to check")

# ---- reductions ------------------------------------------------------------------------
register("sum", md.sum, normal(2, 3))
register("sum", lambda a: a.sum(1), normal(2, 3))
register("sum", lambda a: a.sum(dim=(0, 2), keepdim=True), normal(2, 3, 2))
register("sum", lambda a: md.sum(a, -1, keepdim=True), normal(3, 2))
register("sum", lambda a: a.sum(), normal())
register("sum_to", lambda a: md.sum_to(a, (1, 3)), normal(2, 3))
register("sum_to", lambda a: md.sum_to(a, (2, 1)), normal(4, 2, 3))
register("expand", lambda a: md.expand(a, 2, 3), normal(1, 3))
register("expand", lambda a: a.expand(4, -1, 2), normal(3, 1))
register("expand", lambda a: md.expand(a, (2, 3)), normal())
register("mean", md.mean, normal(2, 3))
register("mean", lambda a: a.mean(0), normal(2, 3))
register("mean", lambda a: a.mean((0, -1), keepdim=True), normal(2, 2, 3))
register("amax", md.amax, lambda r: (distinct(r, (2, 3)),))
register("amax", lambda a: md.amax(a, 1, keepdim=True), lambda r: (distinct(r, (3, 4)),))
register("amax", lambda a: a.amax((0, 2)), lambda r: (distinct(r, (2, 2, 3)),))
register("amin", md.amin, lambda r: (distinct(r, (2, 3)),))
register("amin", lambda a: a.amin(0), lambda r: (distinct(r, (3, 4)),))
register("max", md.max, lambda r: (distinct(r, (2, 3)),))
register("max", lambda a: a.max(1).values, lambda r: (distinct(r, (3, 4)),))
register("max", lambda a: md.max(a, 0, keepdim=True)[0], lambda r: (distinct(r, (3, 2)),))
register("max", lambda a: a.max(-1).values, lambda r: (distinct(r, (2, 2, 3)),))
register("min", lambda a: a.min(), lambda r: (distinct(r, (2, 3)),))
register("min", lambda a: md.min(a, 1).values, lambda r: (distinct(r, (3, 4)),))
register("min", lambda a: a.min(0, keepdim=True).values, lambda r: (distinct(r, (3, 2)),))
register("var", md.var, normal(2, 3))
register("var", lambda a: a.var(1), normal(2, 4))
register("var", lambda a: md.var(a, 0, unbiased=False, keepdim=True), normal(3, 2))
register("var", lambda a: a.var((0, 2), correction=2), normal(2, 2, 3))
register("std", md.std, normal(2, 3))
register("std", lambda a: a.std(0, keepdim=True), normal(3, 2))
register("std", lambda a: md.std(a, -1, unbiased=False), normal(2, 4))
register("std", lambda a: a.std(1, correction=0), normal(3, 3))
register("logsumexp", lambda a: md.logsumexp(a, 1), normal(2, 3))
register("logsumexp", lambda a: a.logsumexp((0, 1), keepdim=True), normal(2, 3))
register("logsumexp", lambda a: md.logsumexp(a * 50, -1) / 50, normal(2, 3),
         note="large logits: the stable shift must keep it finite")

# ---- shape ops -------------------------------------------------------------------------
register("reshape", lambda a: a.reshape(3, 2), normal(2, 3))
register("reshape", lambda a: md.reshape(a, (-1,)), normal(2, 3))
register("reshape", lambda a: a.reshape(2, 1, -1) * a.reshape(2, 3, 1), normal(2, 3))
register("view", lambda a: a.view(6), normal(2, 3))
register("view", lambda a: md.view(a, 3, -1), normal(2, 3))
register("flatten", md.flatten, normal(2, 3, 2))
register("flatten", lambda a: a.flatten(1), normal(2, 3, 2))
register("flatten", lambda a: md.flatten(a, 0, 1), normal(2, 3, 2))
register("squeeze", md.squeeze, normal(2, 1, 3, 1))
register("squeeze", lambda a: a.squeeze(1), normal(2, 1, 3, 1))
register("squeeze", lambda a: md.squeeze(a, -1), normal(2, 1, 3, 1))
register("unsqueeze", lambda a: a.unsqueeze(0), normal(2, 3))
register("unsqueeze", lambda a: md.unsqueeze(a, -1), normal(2, 3))
register("permute", lambda a: a.permute(2, 0, 1), normal(2, 3, 2))
register("permute", lambda a: md.permute(a, (1, 0)), normal(2, 3))
register("permute", lambda a: a.T, normal(2, 3))
register("transpose", lambda a: a.transpose(0, 1), normal(2, 3))
register("transpose", lambda a: md.transpose(a, -1, 0), normal(2, 3, 2))

INDEXES = [
    1, -1, (0, 1), slice(1, None), (slice(None), slice(None, None, 2)),
    (slice(None, None, 2), 1), (None, 0), (Ellipsis, 1), (1, Ellipsis, None),
    np.array([0, 2, 2, 0]), (slice(None), [1, 1, 0]), ([0, 2], [1, 1]),
    np.array([[True, False, True], [False, True, True], [True, True, False]]),
    np.array([True, False, True]), (np.array([2, 2]), slice(0, 2)),
]
for index in INDEXES:
    register("getitem", lambda a, i=index: a[i], normal(3, 3))
register("getitem", lambda a: md.getitem(a, (0, md.tensor([1, 1, 2]))), normal(2, 3))

register("cat", lambda a, b: md.cat([a, b]), lambda r: (r.standard_normal((2, 3)),
                                                        r.standard_normal((1, 3))))
register("cat", lambda a, b, c: md.cat((a, b, c), dim=-1),
         lambda r: tuple(r.standard_normal((2, n)) for n in (1, 3, 2)))
register("cat", lambda a: md.cat([a, a * 2], 1), normal(2, 2))
register("concatenate", lambda a, b: md.concatenate([a, b], 0),
         lambda r: (r.standard_normal((2,)), r.standard_normal((3,))))
register("stack", lambda a, b: md.stack([a, b]), pair((2, 3), (2, 3)))
register("stack", lambda a, b, c: md.stack([a, b, c], dim=-1),
         lambda r: tuple(r.standard_normal((2, 2)) for _ in range(3)))
register("stack", lambda a, b: md.stack([a, b], 1), pair((3,), (3,)))
register("pad", lambda a: md.pad(a, (1, 2)), normal(2, 3))
register("pad", lambda a: md.pad(a, (1, 0, 0, 2), value=1.5), normal(2, 3))
register("pad", lambda a: md.pad(a, (0, 1, 1, 1, 2, 0)), normal(1, 2, 2))

# ---- matmul ----------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 2)), ((3,), (2, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)),
                 ((2, 2, 3), (3,))]
for sa, sb in MATMUL_SHAPES:
    register("matmul", lambda a, b: a @ b, pair(sa, sb))
register("matmul", md.matmul, pair((2, 3), (3, 2)))
register("matmul", lambda a: a @ a.T, normal(2, 3))

# ---- activations -----------------------------------------------------------------------
register("relu", md.relu, lambda r: (away_from_zero(r, (3, 4)),))
register("relu", lambda a: a.relu(), lambda r: (away_from_zero(r, (5,)),))
register("leaky_relu", md.leaky_relu, lambda r: (away_from_zero(r, (3, 4)),))
register("leaky_relu", lambda a: md.leaky_relu(a, negative_slope=0.2),
         lambda r: (away_from_zero(r, (2, 3)),))
register("elu", md.elu, lambda r: (away_from_zero(r, (3, 4)),))
register("elu", lambda a: md.elu(a, alpha=0.5), lambda r: (away_from_zero(r, (2, 3)),))
register("sigmoid", md.sigmoid, normal(3, 4))
register("sigmoid", lambda a: (a * 10).sigmoid(), normal(5,))
register("tanh", md.tanh, normal(3, 4))
register("erf", md.erf, normal(3, 4))
register("softplus", md.softplus, normal(3, 4))
register("softplus", lambda a: md.softplus(a, beta=2.0, threshold=1.0),
         lambda r: (away_from(r, (3, 4), [0.5]),),
         note="some elements past beta*x > threshold, where it is linear")
register("softplus", lambda a: md.softplus(a * 30), normal(2, 3))
register("silu", md.silu, normal(3, 4))
register("gelu", md.gelu, normal(3, 4))
register("gelu", lambda a: md.gelu(a, approximate="tanh"), normal(3, 4))
register("softmax", lambda a: md.softmax(a, -1), normal(2, 4))
register("softmax", lambda a: md.softmax(a, dim=0), normal(3, 2))
register("softmax", lambda a: a.softmax(1), normal(2, 3, 2))
register("log_softmax", lambda a: md.log_softmax(a, -1), normal(2, 4))
register("log_softmax", lambda a: md.log_softmax(a, 0), normal(3, 2))
register("log_softmax", lambda a: a.log_softmax(-2), normal(2, 3, 2))
register("log_softmax", lambda a: md.log_softmax(a * 100, 1), normal(2, 3),
         note="large logits")
