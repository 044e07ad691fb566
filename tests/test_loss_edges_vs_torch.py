"""The losses at their numeric edges against PyTorch (values and gradients, NaN and
inf where PyTorch has them, numbers where it has numbers): every target ignored,
label smoothing with ignored targets, class weights that sum to zero, BCE at exactly
0 and 1, infinite logits, -inf rows in log_softmax, KL with zero targets. And the
SmoothL1Loss, HuberLoss and KLDivLoss layers."""
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.functional as F
from minidl import nn
from torch_oracle import assert_matches_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def both(name, *args, **kwargs):
    """A pair (minidl fn, torch fn) calling F.name / TF.name; integer arrays in args
    become tensors of the right library, float ones are made by assert_matches_torch()."""
    def make(lib, f):
        def call(*tensors):
            extra = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
            kw = {k: lib.tensor(v, dtype=lib.float64) if isinstance(v, np.ndarray) else v
                  for k, v in kwargs.items()}
            return getattr(f, name)(*tensors, *extra, **kw)
        return call
    return make(md, F), make(torch, TF)


X = np.random.default_rng(0).standard_normal((3, 4))
IGNORED = np.array([-100, -100, -100])
W = np.array([1.0, 2.0, 3.0, 4.0])
INF_LOGITS = np.array([[0, -np.inf, 1, 2], [-np.inf, 0, 0, 0], [1, 2, 3, 4.0]])
P01, T01 = np.array([0.0, 1, 0, 1, 0.5]), np.array([0.0, 1, 1, 0, 0.5])

EDGES = {
    "ce_all_ignored": (both("cross_entropy", IGNORED), X),
    "ce_all_ignored_sum": (both("cross_entropy", IGNORED, reduction="sum"), X),
    "ce_all_ignored_weighted": (both("cross_entropy", IGNORED, weight=W), X),
    "ce_all_ignored_smoothing": (both("cross_entropy", IGNORED, label_smoothing=0.1), X),
    "ce_all_ignored_smoothing_weighted": (
        both("cross_entropy", IGNORED, weight=W, label_smoothing=0.1), X),
    "ce_some_ignored_smoothing_weighted": (
        both("cross_entropy", np.array([-100, 1, 2]), weight=W, label_smoothing=0.1), X),
    "ce_some_ignored_smoothing_none": (
        both("cross_entropy", np.array([-100, 1, 2]), label_smoothing=0.2,
             reduction="none"), X),
    "ce_weights_summing_to_zero": (
        both("cross_entropy", np.array([0, 1, 1]), weight=np.array([1.0, -0.5, 3, 4])), X),
    "ce_zero_weights": (
        both("cross_entropy", np.array([0, 1, 1]), weight=np.array([0.0, 0, 3, 4])), X),
    "ce_zero_weights_smoothing": (
        both("cross_entropy", np.array([0, 1, 1]), weight=np.array([0.0, 0, 3, 4]),
             label_smoothing=0.3), X),
    "ce_minus_inf_logits": (both("cross_entropy", np.array([0, 1, 2])), INF_LOGITS),
    "ce_minus_inf_at_target": (both("cross_entropy", np.array([1, 1, 2])), INF_LOGITS),
    "ce_minus_inf_smoothing": (
        both("cross_entropy", np.array([0, 1, 2]), label_smoothing=0.1), INF_LOGITS),
    "ce_probabilities_zero_weights": (
        both("cross_entropy", weight=np.zeros(4)), X, np.full((3, 4), 0.25)),
    "nll_all_ignored": (both("nll_loss", IGNORED), X),
    "nll_all_ignored_weighted": (both("nll_loss", IGNORED, weight=W), X),
    "nll_zero_weights": (both("nll_loss", np.array([0, 1, 1]),
                              weight=np.array([0.0, 0, 3, 4])), X),
    "log_softmax_minus_inf_row": (both("log_softmax", 1),
                                  np.array([[-np.inf] * 4, [0, 1, 2, -np.inf]])),
    "softmax_minus_inf_row": (both("softmax", 1),
                              np.array([[-np.inf] * 4, [0, 1, 2, -np.inf]])),
    "log_softmax_plus_inf": (both("log_softmax", 1), np.array([[np.inf, 0, 1.0, 2]])),
    "bce_at_0_and_1": (both("binary_cross_entropy"), P01, T01),
    "bce_at_0_and_1_none": (both("binary_cross_entropy", reduction="none"), P01, T01),
    "bce_zero_weights": (both("binary_cross_entropy", weight=np.zeros(5)),
                         np.array([0.1, 0.9, 0.2, 0.7, 0.5]), T01),
    "bce_logits_infinite": (both("binary_cross_entropy_with_logits"),
                            np.array([np.inf, -np.inf, 1000, -1000.0, 0]),
                            np.array([1.0, 0, 0, 1, 0.5])),
    "bce_logits_zero_pos_weight": (
        both("binary_cross_entropy_with_logits", pos_weight=np.array([0.0, 2, 1, 1, 1])),
        np.array([1.0, -1, 1000, -1000.0, 0]), np.array([1.0, 0, 0, 1, 0.5])),
    "kl_zero_target": (both("kl_div", reduction="batchmean"),
                       np.log(np.array([[0.5, 0.5, 1e-300]])), np.array([[0.5, 0.5, 0.0]])),
    "kl_minus_inf_input_zero_target": (
        both("kl_div", reduction="sum"), np.array([[-np.inf, np.log(0.5), np.log(0.5)]]),
        np.array([[0.0, 0.5, 0.5]])),
    "kl_log_target_minus_inf": (
        both("kl_div", reduction="sum", log_target=True),
        np.array([[-1.0, np.log(0.5), np.log(0.5)]]),
        np.array([[-np.inf, np.log(0.5), np.log(0.5)]])),
    "kl_negative_target": (both("kl_div", reduction="sum"), np.array([[-1.0, -1]]),
                           np.array([[-0.5, 0.5]])),
    "mse_zero_weights": (both("mse_loss", weight=np.zeros(3)), np.array([1.0, 2, 3]),
                         np.zeros(3)),
    "huber_zero_weights": (both("huber_loss", weight=np.zeros(3)), np.array([1.0, 2, 3]),
                           np.zeros(3)),
    "l1_at_zero": (both("l1_loss"), np.array([1.0, 0, 3]), np.array([1.0, 0, 0])),
    "smooth_l1_beta_zero": (both("smooth_l1_loss", beta=0.0), np.array([1.0, 0, 3]),
                            np.array([1.0, 0, 0])),
    "smooth_l1_at_beta": (both("smooth_l1_loss"), np.array([1.0, 0, 3]), np.zeros(3)),
    "huber_at_delta": (both("huber_loss"), np.array([1.0, 0, 3]), np.zeros(3)),
    "mse_infinite": (both("mse_loss"), np.array([np.inf, 0, 3]), np.zeros(3)),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", EDGES)
def test_loss_edges_match_torch(name):
    (ours, theirs), *arrays = EDGES[name]
    # (at exactly 0 and 1 BCE's gradient is g / 1e-12; PyTorch's 1e-12 is a little off)
    assert_matches_torch(ours, theirs, *arrays, order=1, rtol=1e-8 if "bce_at" in name else 1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_all_ignored_targets_give_no_warning_and_finite_gradients(reduction):
    x = md.tensor(X, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(x, md.tensor(IGNORED), reduction=reduction,
                               label_smoothing=0.1)
        loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)


LAYERS = [
    ("SmoothL1Loss", {}), ("SmoothL1Loss", dict(beta=0.5, reduction="sum")),
    ("SmoothL1Loss", dict(beta=0.0)), ("HuberLoss", {}),
    ("HuberLoss", dict(delta=2.0, reduction="none")),
    ("KLDivLoss", dict(reduction="batchmean")),
    ("KLDivLoss", dict(reduction="sum", log_target=True)), ("KLDivLoss", {}),
]


@pytest.mark.filterwarnings("ignore:.*reduction")
@pytest.mark.parametrize("name,kw", LAYERS)
def test_loss_layers_match_torch(name, kw):
    ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(ours) == repr(theirs)
    assert not ours.state_dict() and not theirs.state_dict()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3)) * 2
    t = np.log(rng.dirichlet(np.ones(3), 4)) if name == "KLDivLoss" else \
        rng.standard_normal((4, 3))
    if name == "KLDivLoss" and not kw.get("log_target"):
        t = np.exp(t)
    assert_matches_torch(ours, theirs, x, t)


def test_loss_layers_check_their_reduction():
    with pytest.raises(ValueError, match="batchmean"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.HuberLoss(reduction="batchmean")
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.SmoothL1Loss(size_average=False).reduction == "sum"
