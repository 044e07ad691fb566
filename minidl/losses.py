"""Loss functions: how far predictions are from targets, as one number to minimize.

Classification: cross_entropy (logits against class indices or class probabilities),
nll_loss (log-probabilities against class indices), binary_cross_entropy
(probabilities) and binary_cross_entropy_with_logits (logits). Regression: mse_loss,
l1_loss, smooth_l1_loss, huber_loss. Distributions: kl_div.

Every loss first computes one value per element (or per sample) and then applies its
`reduction`: 'none' keeps them all, 'sum' adds them up, 'mean' averages them. The
losses are built from differentiable Tensor ops, so autograd derives them (twice) by
itself. Three small Functions give PyTorch's gradients at the edges: binary cross
entropy (finite at probabilities of exactly 0 and 1), the mean over the targets that
are not ignored (zero gradients when all are), and kl_div's t log t (0 at t = 0).
Signatures, defaults and edge cases follow torch.nn.functional, including the
deprecated size_average/reduce arguments.
The target is cast to the input's dtype, so float32 models stay float32.
"""
from __future__ import annotations

import warnings

import numpy as np

from .autograd import Function
from .errors import ArgumentError, DTypeError
from .tensor import Tensor, ShapeError, _FLOATS
from .ops.arithmetic import float_input, cast, log, exp, abs as _abs, clamp, where
from .ops.reduction import sum, mean
from .ops.shape import getitem, reshape
from .ops.activation import log_softmax, softplus

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "kl_div"]

_REDUCTIONS = ("mean", "sum", "none")


# ------------------------------------------------------------------ shared helpers
def _reduction(op, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    """Check `reduction`; the deprecated size_average/reduce override it (as PyTorch)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(f"{op}: size_average and reduce are deprecated, use "
                      f"reduction='{reduction}' instead", UserWarning, stacklevel=3)
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of "
                         f"{', '.join(repr(r) for r in allowed)}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction, weights=None):
    """'none' keeps each loss, 'sum' adds them up, 'mean' averages them -- as the
    weighted average sum(loss) / sum(weights) when the losses carry weights. The mean
    of no losses at all is NaN, as in PyTorch."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return sum(loss)
    if weights is not None:
        with np.errstate(divide="ignore", invalid="ignore"):  # (0/0 is PyTorch's NaN)
            return sum(loss) / sum(weights)
    if loss.numel() == 0:
        return MeanOverKept.apply(loss, np.ones(loss.shape, bool), 0)
    return mean(loss)


class MeanOverKept(Function):
    # y = sum(loss) / total, where total (a constant) is the summed weight of the
    # kept positions;  dy/dloss_i = 1 / total where kept, 0 at ignored positions.
    # PyTorch never divides for ignored positions: when every target is ignored the
    # loss is 0 / 0 = NaN, but its gradient is all zeros.
    @staticmethod
    def forward(ctx, loss, kept, total):
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.scale = np.where(kept, 1 / loss.dtype.type(total), 0).astype(loss.dtype)
            return np.asarray(np.sum(loss) / loss.dtype.type(total))

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.scale), None, None


def _reduce_classes(loss, reduction, kept, w):
    """_reduce for class-index targets: 'mean' is sum(loss) / sum(w) over the kept
    (not ignored) positions, with PyTorch's gradient when nothing is kept."""
    if reduction != "mean":
        return _reduce(loss, reduction)
    return MeanOverKept.apply(loss, kept._data > 0, np.sum(w._data))


def _as_tensor(op, x, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return Tensor(x)
    raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")


def _target_like(op, target, x):
    """The target as a tensor of the input's (float) dtype."""
    return cast(_as_tensor(op, target, "target"), x.dtype)


def _same_shape(op, x, t):
    if x.shape != t.shape:
        raise ShapeError(f"{op}: target shape {t.shape} must equal input shape {x.shape}")


def _broadcast_pair(op, input, target, warn=True):
    """input and target of a regression loss. Shapes that differ are broadcast with
    a warning, as PyTorch does (it is usually a bug: (N, 1) predictions against (N,)
    targets give an (N, N) loss); shapes that cannot broadcast raise."""
    x = float_input(input, op)
    t = _target_like(op, target, x)
    if x.shape != t.shape:
        try:
            np.broadcast_shapes(x.shape, t.shape)
        except ValueError:
            raise ShapeError(f"{op}: input shape {x.shape} and target shape {t.shape} "
                             "differ and cannot broadcast") from None
        if warn:
            warnings.warn(f"{op}: target shape {t.shape} differs from input shape "
                          f"{x.shape}; they are broadcast together, which is likely a "
                          "bug. Please ensure they have the same shape.", UserWarning,
                          stacklevel=3)
    return x, t


def _element_weight(op, weight, x):
    """The optional `weight` of mse/l1/huber: one weight per element of the input."""
    if weight is None:
        return None
    w = _target_like(op, weight, x)
    if w.shape != x.shape:
        raise ShapeError(f"{op}: weight must have the input's shape {x.shape}, got "
                         f"{w.shape}")
    return w


# ------------------------------------------------------------------ class-index targets
def _class_dim(op, x) -> int:
    """Classes sit on dim 1 of (N, C, d1, ..., dK) inputs, on dim 0 of a (C,) input."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: input must be (C,), (N, C) or (N, C, d1, ..., dK), "
                         "got a 0-d tensor")
    return 0 if x.ndim == 1 else 1


def _class_weight(op, weight, x, C):
    """The optional per-class `weight`: a tensor of C entries, cast to x's dtype."""
    if weight is None:
        return None
    w = _target_like(op, weight, x)
    if w.shape != (C,):
        raise ShapeError(f"{op}: weight must have one entry per class, shape ({C},), "
                         f"got {w.shape}")
    return w


def _index_targets(op, target, x, weight, ignore_index):
    """Check integer class targets against input x and weigh each position.

    Returns (classes, kept, w): classes as a numpy int array (ignored positions set to
    class 0, so they index safely), kept = 1.0 where target != ignore_index else 0.0,
    and w = each position's weight: weight[target] (1 without weight), 0 if ignored.
    """
    cls = _class_dim(op, x)
    C = x.shape[cls]
    want = x.shape[:cls] + x.shape[cls + 1:]
    t = _as_tensor(op, target, "target")._data
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold integer class indices, got dtype "
                        f"{t.dtype} (shape {t.shape}) for input of shape {x.shape}")
    if t.shape != want:
        raise ShapeError(f"{op}: class-index target must have shape {want} for input "
                         f"of shape {x.shape}, got {t.shape}")
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"{op}: target value {t[bad].flat[0]} is out of bounds; class "
                         f"indices must lie in [0, {C}) for C={C} classes (or equal "
                         f"ignore_index={ignore_index})")
    classes = np.where(keep, t, 0).astype(np.int64)
    kept = Tensor(keep.astype(x.dtype))
    w = kept if weight is None else getitem(weight, classes) * kept
    return classes, kept, w


def _pick(x, classes):
    """x[n, classes[n, d1..dK], d1..dK] for every position: each target's entry.

    One fancy-indexing op (no Python loop): classes fills the class dimension and
    np.indices supplies the matching n, d1, ..., dK."""
    positions = np.indices(classes.shape, sparse=True)
    return getitem(x, positions[:1] + (classes,) + positions[1:])


# ------------------------------------------------------------------ classification
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100,
             reduce=None, reduction="mean"):
    """Negative log-likelihood of the target classes, given log-probabilities.

    input (C,), (N, C) or (N, C, d1, ..., dK) log-probabilities; target of integer
    class indices, shape (), (N,) or (N, d1, ..., dK). 'mean' divides by the summed
    weights of the non-ignored targets (their count without `weight`).
    """
    # L_n = -weight[y_n] * input[n, y_n]   (0 where y_n == ignore_index)
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = float_input(input, op)
    weight = _class_weight(op, weight, x, x.shape[_class_dim(op, x)])
    classes, kept, w = _index_targets(op, target, x, weight, ignore_index)
    return _reduce_classes(-_pick(x, classes) * w, reduction, kept, w)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between softmax(input) and the target classes, from logits.

    input: logits (C,), (N, C) or (N, C, d1, ..., dK). target: either integer class
    indices of shape (), (N,) or (N, d1, ..., dK) -- the usual case -- or float class
    probabilities of the input's shape (then ignore_index does not apply and 'mean'
    divides by the number of positions N*d1*...*dK). label_smoothing = eps mixes
    the target with the uniform distribution: (1 - eps) * target + eps / C.
    """
    # L_n = -sum_c weight_c q_nc log softmax(x_n)_c,  q_n the target distribution.
    # For a class index y_n this is (1 - eps) * nll + eps / C * (-sum_c w_c log p_nc),
    # and 'mean' divides each part by sum_n weight[y_n] over non-ignored n (as PyTorch).
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = float_input(input, op)
    cls = _class_dim(op, x)
    C = x.shape[cls]
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    weight = _class_weight(op, weight, x, C)
    w_c = 1 if weight is None else reshape(weight, (C,) + (1,) * (x.ndim - cls - 1))
    logp = log_softmax(x, cls)
    target = _as_tensor(op, target, "target")

    if target.dtype in _FLOATS:  # class probabilities
        if target.shape != x.shape:
            raise ShapeError(f"{op}: float targets are class probabilities and must "
                             f"have the input's shape {x.shape}, got {target.shape}; "
                             "class-index targets must be integers")
        q = cast(target, x.dtype)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / C
        return _reduce(-sum(logp * q * w_c, cls), reduction)

    classes, kept, w = _index_targets(op, target, x, weight, ignore_index)
    nll = _reduce_classes(-_pick(logp, classes) * w, reduction, kept, w)
    if not label_smoothing:
        return nll
    uniform = _reduce_classes(-sum(logp * w_c, cls) * kept, reduction, kept, w)
    return nll * (1 - label_smoothing) + uniform * (label_smoothing / C)


class BinaryCrossEntropy(Function):
    # L = -(t log x + (1 - t) log(1 - x)), each log clamped at -100 (as PyTorch)
    # dL/dx = (x - t) / (x (1 - x)), denominator clamped at 1e-12: finite at x = 0, 1
    # dL/dt = log(1 - x) - log(x)
    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / clamp(x * (1 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * (log(1 - x) - log(x))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities `input` (in [0, 1]) against `target`
    (same shape, in [0, 1]). `weight` broadcasts to the input's shape. For logits,
    use binary_cross_entropy_with_logits: it is stable where sigmoid saturates."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = float_input(input, op)
    t = _target_like(op, target, x)
    _same_shape(op, x, t)
    for name, v in (("input", x._data), ("target", t._data)):
        if not ((v >= 0) & (v <= 1)).all():
            raise ArgumentError(f"{op}: every {name} value must be a probability in "
                             f"[0, 1], got values in [{np.min(v)}, {np.max(v)}]"
                             + ("; pass logits to binary_cross_entropy_with_logits"
                                if name == "input" else ""))
    loss = BinaryCrossEntropy.apply(x, t)
    if weight is not None:
        w = _target_like(op, weight, x)
        try:
            if np.broadcast_shapes(w.shape, x.shape) != x.shape:
                raise ValueError
        except ValueError:
            raise ShapeError(f"{op}: weight of shape {w.shape} does not broadcast to "
                             f"the input's shape {x.shape}") from None
        loss = loss * w
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy of sigmoid(input) against `target` (same shape), computed
    from the logits without ever forming sigmoid, so it is exact for huge |logits|.
    pos_weight p (broadcast against the target, e.g. one per class) scales the loss
    of positive targets; weight scales every element."""
    # With log(1 - s(x)) = log s(x) - x and -log s(x) = softplus(-x)
    #                    = max(-x, 0) + log(1 + e^-|x|)  (never overflows):
    # L = -(p t log s(x) + (1 - t) log(1 - s(x)))
    #   = (1 - t) x + (1 + (p - 1) t) softplus(-x),
    # and without pos_weight (p = 1): max(x, 0) - t x + log(1 + e^-|x|).
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    x = float_input(input, op)
    t = _target_like(op, target, x)
    _same_shape(op, x, t)
    neg_log_sigmoid = softplus(-x)
    if pos_weight is not None:
        p = _target_like(op, pos_weight, x)
        neg_log_sigmoid = neg_log_sigmoid * ((p - 1) * t + 1)
    loss = (1 - t) * x + neg_log_sigmoid
    if weight is not None:
        loss = loss * _target_like(op, weight, x)
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ regression
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean",
             weight=None):
    """Mean squared error. Differing shapes broadcast with a warning (as PyTorch).
    With `weight` (input's shape), 'mean' is sum(w (x - t)^2) / sum(w)."""
    # L = (x - t)^2;   dL/dx = 2 (x - t) = -dL/dt
    op = "mse_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _broadcast_pair(op, input, target)
    w = _element_weight(op, weight, x)
    d = x - t
    return _reduce(d * d if w is None else d * d * w, reduction, w)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
            weight=None):
    """Mean absolute error. Differing shapes broadcast with a warning (as PyTorch).
    With `weight` (input's shape), 'mean' is sum(w |x - t|) / sum(w)."""
    # L = |x - t|;   dL/dx = sign(x - t) (0 where x == t) = -dL/dt
    op = "l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _broadcast_pair(op, input, target)
    w = _element_weight(op, weight, x)
    d = _abs(x - t)
    return _reduce(d if w is None else d * w, reduction, w)


def _huber(x, t, delta):
    # L = 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = x - t:
    # quadratic near 0, linear (gradient +-delta) far away, matching at |d| = delta
    d = x - t
    a = _abs(d)
    return where(Tensor(a._data < delta), d * d * 0.5, (a - 0.5 * delta) * delta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: squared error for |x - t| < delta, linear beyond. Differing shapes
    broadcast with a warning. With `weight` (input's shape), 'mean' is the plain
    mean of w * loss (unlike mse_loss/l1_loss -- PyTorch's choice)."""
    op = "huber_loss"
    reduction = _reduction(op, reduction)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    x, t = _broadcast_pair(op, input, target)
    w = _element_weight(op, weight, x)
    loss = _huber(x, t, delta)
    return _reduce(loss if w is None else loss * w, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """Smooth L1: 0.5 (x - t)^2 / beta for |x - t| < beta, |x - t| - 0.5 beta beyond
    -- Huber loss with delta = beta, divided by beta; beta = 0 gives l1_loss."""
    op = "smooth_l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{op}: beta must be >= 0, got {beta}")
    x, t = _broadcast_pair(op, input, target)
    loss = _abs(x - t) if beta == 0 else _huber(x, t, beta) / beta
    return _reduce(loss, reduction)


# ------------------------------------------------------------------ distributions
class XLogX(Function):
    # y = x log x, with 0 log 0 = 0;  dy/dx = log x + 1, computed as PyTorch's
    # xlogy(x, x) does: [log x where x != 0, else 0] + x / x, which is NaN at x = 0
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x == 0, 0, x * np.log(x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        nonzero = Tensor(x._data != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (where(nonzero, log(where(nonzero, x, 1.0)), 0.0) + x / x)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False):
    """Kullback-Leibler divergence KL(target || input), input given as log-probabilities
    (and the target too when log_target=True).

    reduction='batchmean' (sum / batch size) is the true KL divergence per sample;
    'mean' divides by the number of *elements*, so PyTorch warns about it, and so do we.
    """
    # L = t log t - t x, with 0 log 0 = 0 (PyTorch's xlogy);   with log_target:
    # L = e^t (t - x)
    op = "kl_div"
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn(f"{op}: reduction='mean' divides by the number of elements, not "
                      "the batch size; use reduction='batchmean' for the true KL "
                      "divergence", UserWarning, stacklevel=2)
    reduction = _reduction(op, reduction, size_average, reduce,
                           allowed=("mean", "batchmean", "sum", "none"))
    x, t = _broadcast_pair(op, input, target, warn=False)
    loss = exp(t) * (t - x) if log_target else XLogX.apply(t) - t * x
    if reduction == "batchmean":  # sum / batch size (of a 0-d input: the sum)
        if x.ndim == 0:
            return sum(loss)
        return sum(loss) / x.shape[0] if x.shape[0] else _reduce(loss, "mean")  # (NaN)
    return _reduce(loss, reduction)
