"""Registry entries for the loss functions in minidl/ops/losses.py (see registry.py).

Integer class targets and class weights are fixed constants inside each fn; float
targets (probabilities, regression targets) are inputs too, so their gradients are
checked as well. Samplers keep away from kinks: |input - target| away from 0 for
l1, away from beta/delta for smooth_l1/huber.
"""
import numpy as np

import minidl as md
import minidl.functional as F
from registry import register, positive

T6 = md.tensor([2, 0, 3, 3, 1, 0])                 # targets for (6, 4) inputs
T6_IGNORED = md.tensor([2, -100, 3, 1, -100, 0])   # two ignored positions
T_KDIM = md.tensor(np.random.default_rng(1).integers(0, 3, (2, 2, 3)))  # (2, 3, 2, 3)
W4 = md.tensor([0.5, 2.0, 1.0, 1.5], dtype=md.float64)
W3 = md.tensor([1.5, 0.5, 1.0], dtype=md.float64)


def _probabilities(rng, shape, dim):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=dim, keepdims=True)


def _logits_and_probs(shape, dim=1):
    return lambda r: (r.standard_normal(shape), _probabilities(r, shape, dim))


def _normal(*shape):
    return lambda rng: (rng.standard_normal(shape),)


def _x_near(shape, gap):
    """(x, t) with x - t = gap(rng, shape), so the difference avoids the kinks."""
    def sample(rng):
        t = rng.standard_normal(shape)
        return t + gap(rng, shape), t
    return sample


def _away_from_zero(rng, shape):
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape)


def _away_from(threshold):
    def gap(rng, shape):  # |d| in [0.2, 0.8] * threshold or [1.25, 2.5] * threshold
        inside = rng.uniform(0.2, 0.8, shape)
        outside = rng.uniform(1.25, 2.5, shape)
        mag = np.where(rng.random(shape) < 0.5, inside, outside) * threshold
        return mag * rng.choice([-1, 1], shape)
    return gap


# ---- cross_entropy / nll_loss ---------------------------------------------------------
register("cross_entropy", lambda x: F.cross_entropy(x, T6), _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(x, T6, weight=W4, reduction="sum"),
         _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(x, T6_IGNORED, weight=W4),
         _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(x, T6, ignore_index=3,
                                                    reduction="none"), _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(
    x, T6_IGNORED, weight=W4, label_smoothing=0.3), _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(x, T6, label_smoothing=0.1,
                                                    reduction="none"), _normal(6, 4))
register("cross_entropy", lambda x: F.cross_entropy(x, T_KDIM, weight=W3,
                                                    label_smoothing=0.2),
         _normal(2, 3, 2, 3))
register("cross_entropy", lambda x: F.cross_entropy(x, md.tensor(2)), _normal(5))
register("cross_entropy", lambda x, q: F.cross_entropy(x, q), _logits_and_probs((4, 3)))
register("cross_entropy", lambda x, q: F.cross_entropy(
    x, q, weight=W3, label_smoothing=0.25, reduction="none"), _logits_and_probs((4, 3)))
register("cross_entropy", lambda x, q: F.cross_entropy(x, q, reduction="sum"),
         _logits_and_probs((2, 3, 2)))

register("nll_loss", lambda x: F.nll_loss(x, T6), _normal(6, 4))
register("nll_loss", lambda x: F.nll_loss(x, T6_IGNORED, weight=W4, reduction="sum"),
         _normal(6, 4))
register("nll_loss", lambda x: F.nll_loss(x, T_KDIM, weight=W3, reduction="none"),
         _normal(2, 3, 2, 3))

# ---- binary cross entropy -------------------------------------------------------------
_probs_pair = lambda r: (r.uniform(0.1, 0.9, (3, 4)), r.uniform(0.05, 0.95, (3, 4)))
register("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(x, t), _probs_pair)
register("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(
    x, t, weight=W4, reduction="sum"), _probs_pair)
register("binary_cross_entropy", lambda x, t: F.binary_cross_entropy(
    x, t, reduction="none"), lambda r: (r.uniform(0.1, 0.9, (5,)),
                                        r.uniform(0.05, 0.95, (5,))))

_logits_pair = lambda r: (2 * r.standard_normal((3, 4)), r.uniform(0, 1, (3, 4)))
register("binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(x, t), _logits_pair)
register("binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(
             x, t, weight=W4, pos_weight=W4 * 2, reduction="sum"), _logits_pair)
register("binary_cross_entropy_with_logits",
         lambda x, t: F.binary_cross_entropy_with_logits(
             x, t, pos_weight=md.tensor([3.0], dtype=md.float64), reduction="none"),
         _logits_pair)

# ---- regression -----------------------------------------------------------------------
register("mse_loss", lambda x, t: F.mse_loss(x, t), lambda r: (
    r.standard_normal((3, 4)), r.standard_normal((3, 4))))
register("mse_loss", lambda x, t, w: F.mse_loss(x, t, weight=w), lambda r: (
    r.standard_normal((2, 3)), r.standard_normal((2, 3)), positive(r, (2, 3))))
register("mse_loss", lambda x, t: F.mse_loss(x, t, reduction="none"), lambda r: (
    r.standard_normal((5,)), r.standard_normal((5,))))

register("l1_loss", lambda x, t: F.l1_loss(x, t), _x_near((3, 4), _away_from_zero))
register("l1_loss", lambda x, t: F.l1_loss(x, t, reduction="sum"),
         _x_near((2, 2, 2), _away_from_zero))
register("l1_loss", lambda x, t: F.l1_loss(x, t, weight=md.full((5,), 2.0,
                                                                dtype=md.float64)),
         _x_near((5,), _away_from_zero))

register("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t),
         _x_near((3, 4), _away_from(1.0)))
register("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5,
                                                          reduction="none"),
         _x_near((6,), _away_from(0.5)))
register("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, beta=0.0, reduction="sum"),
         _x_near((4,), _away_from_zero))

register("huber_loss", lambda x, t: F.huber_loss(x, t),
         _x_near((3, 4), _away_from(1.0)))
register("huber_loss", lambda x, t: F.huber_loss(x, t, delta=2.0, reduction="sum",
                                                 weight=md.tensor([1.0, 0.5, 2.0, 1.0],
                                                                  dtype=md.float64)),
         _x_near((4,), _away_from(2.0)))

# ---- kl_div ---------------------------------------------------------------------------
_log_p_and_q = lambda r: (np.log(_probabilities(r, (3, 4), 1)),
                          _probabilities(r, (3, 4), 1))
register("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"), _log_p_and_q)
register("kl_div", lambda x, t: F.kl_div(x, t, reduction="none", log_target=True),
         lambda r: (r.standard_normal((2, 3)), r.standard_normal((2, 3))))
register("kl_div", lambda x, t: F.kl_div(x, t, reduction="sum"), _log_p_and_q)
