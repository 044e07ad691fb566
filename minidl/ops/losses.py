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
Two more are there for speed: nll_loss's default mean (also cross_entropy's) and
binary_cross_entropy_with_logits are one op each instead of a chain of small ones.
Signatures, defaults and edge cases follow torch.nn.functional, including the
deprecated size_average/reduce arguments.
dtypes are PyTorch's (tests/test_dtype_sweeps_vs_torch.py checks every pair): the
regression losses and kl_div compute in the dtype input and target promote to
(mse_loss(float32, float64) is float64), and refuse the pairs PyTorch refuses;
binary_cross_entropy wants one float dtype for both; the class-index losses want
int64 (or uint8) targets and a weight of the input's dtype.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function
from ..dtypes import promote_types
from ..errors import ArgumentError, DTypeError, NotImplementedForDType
from ..tensor import Tensor, ShapeError, _FLOATS, _KIND_RANK
from .arithmetic import (floats_only, unary_input, cast, log, exp, abs as _abs, clamp,
                         where, refuse_bool)
from .reduction import sum, mean
from .shape import getitem, reshape
from .activation import log_softmax, softplus, sigmoid
from ..kernels import output, scratch

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


def _same_shape(op, x, t):
    if x.shape != t.shape:
        raise ShapeError(f"{op}: target shape {t.shape} must equal input shape {x.shape}")


def _broadcast_pair(op, input, target, warn=True):
    """input and target of a regression loss, as they are (dtypes included). Shapes
    that differ are broadcast with a warning, as PyTorch does (it is usually a bug:
    (N, 1) predictions against (N,) targets give an (N, N) loss); shapes that cannot
    broadcast raise."""
    x, t = unary_input(input, op), _as_tensor(op, target, "target")
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


def _meet(op, x, t, floats=True):
    """x and t cast to the dtype they promote to (as tensors of one shape: PyTorch
    broadcasts them first). floats=True: PyTorch's kernel for the loss has no integer
    version, so a non-float result dtype raises NotImplementedForDType."""
    dtype = promote_types(x.dtype, t.dtype)
    if floats and dtype not in _FLOATS:
        raise NotImplementedForDType(
            f"{op}: not implemented for {x.dtype} input and {t.dtype} target (as in "
            "PyTorch): at least one of them must be float32 or float64")
    return cast(x, dtype), cast(t, dtype)


def _element_weight(op, weight, x):
    """The optional `weight` of mse/l1/huber: one weight per element of the input
    (any dtype: it promotes with the loss, as in PyTorch)."""
    if weight is None:
        return None
    w = _as_tensor(op, weight, "weight")
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


def _class_weight(op, weight, x, C, same_dtype=True):
    """The optional per-class `weight`: a tensor of C entries. same_dtype: it must have
    the input's dtype (class-index targets, as PyTorch's nll_loss); else any dtype,
    which promotes with the loss (class-probability targets)."""
    if weight is None:
        return None
    w = _as_tensor(op, weight, "weight")
    if w.shape != (C,):
        raise ShapeError(f"{op}: weight must have one entry per class, shape ({C},), "
                         f"got {w.shape}")
    if same_dtype and w.dtype != x.dtype:
        raise DTypeError(f"{op}: weight must have the input's dtype {x.dtype}, got "
                         f"{w.dtype} (as in PyTorch: expected scalar type ...)")
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
    allowed = _INDEX_DTYPES if x.ndim <= 2 else _INDEX_DTYPES[:1]
    if t.dtype not in allowed:
        hint = (f"; class-probability targets must have the input's shape {x.shape}"
                if t.dtype in _FLOATS else "; convert with .long()")
        raise DTypeError(f"{op}: class-index targets must be int64"
                         f"{' (or uint8)' if x.ndim <= 2 else ''} for an input of shape "
                         f"{x.shape}, as in PyTorch; got a {t.dtype} target of shape "
                         f"{t.shape}{hint}")
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


# PyTorch's nll_loss takes Long or Byte class indices (its 2-d version only Long)
_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))


def _kept_only(loss, kept):
    """loss where the target is kept, 0 where it is ignored -- 0 even where the input
    is inf or NaN there, as PyTorch never reads ignored positions."""
    return where(Tensor(kept._data > 0), loss, 0.0)


def _pick(x, classes):
    """x[n, classes[n, d1..dK], d1..dK] for every position: each target's entry, as
    one fancy-indexing op (no Python loop)."""
    return getitem(x, _target_index(classes))


def _target_index(classes) -> tuple:
    """The index of each target's entry: classes fills the class dimension and
    np.indices supplies the matching n, d1, ..., dK."""
    positions = np.indices(classes.shape, sparse=True)
    return positions[:1] + (classes,) + positions[1:]


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
    x = floats_only(input, op)
    weight = _class_weight(op, weight, x, x.shape[_class_dim(op, x)])
    classes, kept, w = _index_targets(op, target, x, weight, ignore_index)
    return _class_nll(x, classes, kept, w, weight is not None, reduction)


def _class_nll(x, classes, kept, w, weighted, reduction):
    """-x[n, y_n] weighed by w and reduced: the default ('mean' of unweighted targets)
    as one op, NllMean; the others term by term."""
    if reduction == "mean" and not weighted:
        return NllMean.apply(x, classes, kept._data > 0)
    return _reduce_classes(_kept_only(-_pick(x, classes) * w, kept), reduction, kept, w)


class NllMean(Function):
    # nll_loss's default as one op: with x log-probabilities and K the kept targets
    # (target != ignore_index), L = -sum_(n in K) x[n, y_n] / |K|  (NaN if K is empty);
    # dL/dx = -g / |K| at each (n, y_n) of K, 0 elsewhere -- linear in g, so its
    # backward (a where) is differentiable again.
    @staticmethod
    def forward(ctx, x, classes, kept):
        count = np.count_nonzero(kept)
        at = _target_index(classes)
        ctx.at_target = np.zeros(x.shape, bool)
        ctx.at_target[at] = kept
        ctx.neg_scale = -(1 / x.dtype.type(count)) if count else x.dtype.type(0)
        loss = np.where(kept, -x[at], x.dtype.type(0))
        with np.errstate(divide="ignore", invalid="ignore"):  # (no kept target: 0 / 0
            # = NaN, as PyTorch)
            return np.asarray(np.sum(loss) / x.dtype.type(count))

    @staticmethod
    def backward(ctx, g):
        return where(Tensor(ctx.at_target), g * Tensor(ctx.neg_scale), 0.0), None, None


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
    x = floats_only(input, op)
    cls = _class_dim(op, x)
    C = x.shape[cls]
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    target = _as_tensor(op, target, "target")
    probabilities = target.shape == x.shape  # (PyTorch's rule: then it is not indices)
    weight = _class_weight(op, weight, x, C, same_dtype=not probabilities)
    w_c = 1 if weight is None else reshape(weight, (C,) + (1,) * (x.ndim - cls - 1))
    logp = log_softmax(x, cls)

    if probabilities:  # the loss's dtype: input, target and weight promoted
        if target.dtype not in _FLOATS:
            raise DTypeError(f"{op}: a target of the input's shape {x.shape} holds class "
                             f"probabilities and must be float32 or float64, got "
                             f"{target.dtype} (class indices have no class dimension)")
        q = target
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / C
        return _reduce(-sum(logp * q * w_c, cls), reduction)

    classes, kept, w = _index_targets(op, target, x, weight, ignore_index)
    nll = _class_nll(logp, classes, kept, w, weight is not None, reduction)
    if not label_smoothing:
        return nll
    uniform = _reduce_classes(_kept_only(-sum(logp * w_c, cls), kept), reduction, kept, w)
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
    x, t = unary_input(input, op), _as_tensor(op, target, "target")
    _same_shape(op, x, t)
    if t.dtype != x.dtype:
        raise DTypeError(f"{op}: target and input must have one dtype (as in PyTorch), "
                         f"got {t.dtype} target for {x.dtype} input")
    floats_only(x, op)
    for name, v in (("input", x._data), ("target", t._data)):
        if not ((v >= 0) & (v <= 1)).all():
            raise ArgumentError(f"{op}: every {name} value must be a probability in "
                             f"[0, 1], got values in [{np.min(v)}, {np.max(v)}]"
                             + ("; pass logits to binary_cross_entropy_with_logits"
                                if name == "input" else ""))
    loss = BinaryCrossEntropy.apply(x, t)
    if weight is not None:  # (the loss keeps the input's dtype)
        w = cast(_as_tensor(op, weight, "weight"), x.dtype)
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
    x, t = floats_only(input, op), _as_tensor(op, target, "target")
    _same_shape(op, x, t)
    if t.dtype not in _FLOATS:  # (PyTorch: result type Float can't be cast to Long)
        raise DTypeError(f"{op}: target must be float32 or float64, got {t.dtype}")
    if pos_weight is None and x.dtype == t.dtype:  # the common case, as one op
        loss = BCEWithLogits.apply(x, t)
    else:
        neg_log_sigmoid = softplus(-x)
        if pos_weight is not None:  # (scales -log s(x) in the input's dtype)
            p = _as_tensor(op, pos_weight, "pos_weight")
            neg_log_sigmoid = cast(neg_log_sigmoid * ((p - 1) * t + 1), x.dtype)
        loss = (1 - t) * x + neg_log_sigmoid
    if weight is not None:
        loss = loss * _as_tensor(op, weight, "weight")
    return _reduce(cast(loss, t.dtype), reduction)  # (PyTorch's loss: the target's dtype)


class BCEWithLogits(Function):
    # L = (1 - t) x + softplus(-x), the formula above with p = 1, as one op;
    # dL/dx = sigmoid(x) - t,   dL/dt = -x
    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        # softplus(-x) = max(-x, 0) + log(1 + e^-|x|), computed in place in two buffers
        # (each numpy temporary of a big batch would be fresh memory: kernels/memory.py)
        # and, unlike softplus(), without its linear branch past -x > 20, where
        # log(1 + e^-|x|) < 2.1e-9 (PyTorch has no such branch either)
        log_term = scratch("bce_with_logits", x.shape, x.dtype)
        np.log1p(np.exp(np.negative(np.abs(x, out=log_term), out=log_term),
                        out=log_term), out=log_term)
        loss = np.negative(x, out=output(x.shape, x.dtype))
        np.maximum(loss, 0, out=loss)
        loss += log_term                                                # softplus(-x)
        loss += np.multiply(np.subtract(1, t, out=log_term), x, out=log_term)  # + (1-t) x
        return loss

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = (sigmoid(x) - t) * g if ctx.needs_input_grad[0] else None
        gt = -x * g if ctx.needs_input_grad[1] else None
        return gx, gt


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
    d = _difference(op, x, t, floats=w is None)
    return _reduce(d * d if w is None else d * d * w, reduction, w)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
            weight=None):
    """Mean absolute error. Differing shapes broadcast with a warning (as PyTorch).
    With `weight` (input's shape), 'mean' is sum(w |x - t|) / sum(w). Integer
    tensors work with reduction='none' or 'sum', as in PyTorch."""
    # L = |x - t|;   dL/dx = sign(x - t) (0 where x == t) = -dL/dt
    op = "l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    x, t = _broadcast_pair(op, input, target)
    w = _element_weight(op, weight, x)
    d = _abs(_difference(op, x, t, floats=False))
    return _reduce(d if w is None else d * w, reduction, w)


def _difference(op, x, t, floats):
    """x - t in the dtype the two promote to (floats: refuse integers, as PyTorch's
    fused loss kernels do; bool is refused by the subtraction)."""
    if not floats:
        for v in (x, t):
            refuse_bool(v, op, "subtraction with a bool tensor is not supported (as in "
                               "PyTorch)")
    x, t = _meet(op, x, t, floats)
    return x - t


class Huber(Function):
    # L = 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = x - t:
    # quadratic near 0, linear far away, matching at |d| = delta.
    # dL/dx = clamp(d, -delta, delta) = -dL/dt  (+-delta for an infinite d, NaN for a
    # NaN, as PyTorch's; and clamp's own derivative gives the second one)
    @staticmethod
    def forward(ctx, x, t, delta):
        ctx.delta = delta
        ctx.save_for_backward(x, t)
        d = x - t
        a = np.abs(d)
        with np.errstate(invalid="ignore"):  # (inf - inf: NaN, as PyTorch)
            return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(
                d.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gd = g * clamp(x - t, -ctx.delta, ctx.delta)
        return gd, -gd, None


def _huber(x, t, delta):
    return Huber.apply(x, t, delta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: squared error for |x - t| < delta, linear beyond. Differing shapes
    broadcast with a warning. With `weight` (input's shape), 'mean' is the plain
    mean of w * loss (unlike mse_loss/l1_loss -- PyTorch's choice). The loss has the
    input's dtype (PyTorch's kernel writes into a tensor like the input)."""
    op = "huber_loss"
    reduction = _reduction(op, reduction)
    if not delta > 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    x, t = _broadcast_pair(op, input, target)
    w = _element_weight(op, weight, x)
    common = promote_types(x.dtype, t.dtype)
    if _KIND_RANK[common.kind] > _KIND_RANK[x.dtype.kind]:
        raise DTypeError(f"{op}: result type {common} can't be cast to the input's "
                         f"dtype {x.dtype} (as in PyTorch)")
    loss = cast(_huber(*_meet(op, x, t), delta), x.dtype)
    return _reduce(loss if w is None else loss * w, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    """Smooth L1: 0.5 (x - t)^2 / beta for |x - t| < beta, |x - t| - 0.5 beta beyond
    -- Huber loss with delta = beta, divided by beta; beta = 0 gives l1_loss."""
    op = "smooth_l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"{op}: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    x, t = _broadcast_pair(op, input, target)
    return _reduce(_huber(*_meet(op, x, t), beta) / beta, reduction)


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
    if x.dtype not in _FLOATS or t.dtype not in _FLOATS:
        raise DTypeError(f"{op}: integral inputs are not supported (as in PyTorch), got "
                         f"{x.dtype} input and {t.dtype} target")
    x, t = _meet(op, x, t)
    loss = exp(t) * (t - x) if log_target else XLogX.apply(t) - t * x
    if reduction == "batchmean":  # sum / batch size (of a 0-d input: the sum)
        if x.ndim == 0:
            return sum(loss)
        return sum(loss) / x.shape[0] if x.shape[0] else _reduce(loss, "mean")  # (NaN)
    return _reduce(loss, reduction)
