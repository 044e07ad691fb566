"""Core ops against PyTorch (an optional oracle; skipped without torch): forward values,
shapes, dtypes and gradients for a broad sample of ops and argument conventions --
defaults, tie-breaking, boundaries and argument orders where libraries differ."""
import numpy as np
import pytest

import minidl as md

torch = pytest.importorskip("torch")


def _pair(arrays):
    ours = [md.tensor(a, dtype=md.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ours, theirs


def _outputs(out):
    return list(out) if isinstance(out, tuple) else [out]


def check(md_fn, torch_fn, *arrays, rtol=1e-10, atol=1e-12, seed=0):
    """Same forward values/shapes/dtypes, and the same gradients for a random upstream
    gradient on every float output."""
    ours, theirs = _pair(arrays)
    outs_m, outs_t = _outputs(md_fn(*ours)), _outputs(torch_fn(*theirs))
    assert len(outs_m) == len(outs_t)
    rng = np.random.default_rng(seed)
    loss_m = loss_t = 0
    for om, ot in zip(outs_m, outs_t):
        assert tuple(om.shape) == tuple(ot.shape)
        np.testing.assert_allclose(om.detach().numpy(), ot.detach().numpy(), rtol=rtol, atol=atol)
        if ot.dtype.is_floating_point:
            g = rng.standard_normal(tuple(ot.shape))
            loss_m = loss_m + (om * md.tensor(g, dtype=md.float64)).sum()
            loss_t = loss_t + (ot * torch.tensor(g)).sum()
        else:
            assert om.dtype == np.int64 and ot.dtype == torch.int64
    loss_m.backward()
    loss_t.backward()
    for m, t in zip(ours, theirs):
        expected = np.zeros(m.shape) if t.grad is None else t.grad.numpy()
        got = np.zeros(m.shape) if m.grad is None else m.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


R = np.random.default_rng(42)
X = R.standard_normal((3, 4))
X3 = R.standard_normal((2, 3, 4))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]])
TF = torch.nn.functional

CASES = {
    # arithmetic and broadcasting
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, X, X[0]),
    "sub_rscalar": (lambda a: 1.5 - a, lambda a: 1.5 - a, X),
    "mul_broadcast": (lambda a, b: a * b, lambda a, b: a * b, X3, X[:, :1]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, X, np.abs(X) + 0.5),
    "rdiv": (lambda a: 2 / a, lambda a: 2 / a, np.abs(X) + 0.5),
    "pow_tensor": (lambda a, b: a ** b, lambda a, b: a ** b, np.abs(X) + 0.1, X),
    "pow_scalar": (lambda a: a ** 3, lambda a: a ** 3, X),
    "pow_zero_exponent_at_zero": (lambda a: a ** 0, lambda a: a ** 0, np.array([0.0, 1.0])),
    "pow_square_at_zero": (lambda a: a ** 2, lambda a: a ** 2, np.array([0.0, -2.0])),
    "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, X),
    "neg": (lambda a: -a, lambda a: -a, X),
    "exp": (md.exp, torch.exp, X),
    "log": (md.log, torch.log, np.abs(X) + 0.1),
    "sqrt": (md.sqrt, torch.sqrt, np.abs(X) + 0.1),
    "abs_with_zero": (md.abs, torch.abs, np.array([-1.0, 0.0, 2.0])),
    "clamp_boundaries": (lambda a: md.clamp(a, -1.0, 1.0), lambda a: torch.clamp(a, -1.0, 1.0),
                         np.array([-2.0, -1.0, 0.0, 1.0, 2.0])),
    "clamp_min_only": (lambda a: a.clamp(min=0.0), lambda a: a.clamp(min=0.0),
                       np.array([-1.0, 0.0, 1.0])),
    "clamp_max_only": (lambda a: md.clip(a, max=0.5), lambda a: torch.clip(a, max=0.5),
                       np.array([-1.0, 0.5, 1.0])),
    "clamp_min_above_max": (lambda a: md.clamp(a, 1.0, 0.0),
                            lambda a: torch.clamp(a, 1.0, 0.0), np.array([-1.0, 0.5, 2.0])),
    "maximum_ties": (md.maximum, torch.maximum, np.array([1.0, 2.0, 3.0]),
                     np.array([1.0, 3.0, 3.0])),
    "minimum_ties_broadcast": (md.minimum, torch.minimum, np.array([[1.0, 2.0], [0.0, 5.0]]),
                               np.array([1.0, 4.0])),
    "where": (lambda a, b: md.where(md.tensor(X > 0), a, b),
              lambda a, b: torch.where(torch.tensor(X > 0), a, b), X, X[0]),
    # reductions
    "sum_dims": (lambda a: a.sum((0, 2)), lambda a: a.sum((0, 2)), X3),
    "sum_keepdim": (lambda a: a.sum(-1, keepdim=True), lambda a: a.sum(-1, keepdim=True), X3),
    "mean": (lambda a: a.mean(1), lambda a: a.mean(1), X3),
    "var_default_unbiased": (lambda a: a.var(), lambda a: a.var(), X),
    "var_dim": (lambda a: a.var(1), lambda a: a.var(1), X),
    "var_biased": (lambda a: md.var(a, 0, unbiased=False, keepdim=True),
                   lambda a: torch.var(a, 0, unbiased=False, keepdim=True), X),
    "var_positional_unbiased": (lambda a: a.var(False), lambda a: a.var(False), X),
    "var_correction": (lambda a: a.var((0, 2), correction=2),
                       lambda a: a.var((0, 2), correction=2), X3),
    "std_default": (lambda a: a.std(), lambda a: a.std(), X),
    "std_dim_keepdim": (lambda a: a.std(-1, keepdim=True), lambda a: a.std(-1, keepdim=True), X3),
    "std_biased": (lambda a: a.std(0, unbiased=False), lambda a: a.std(0, unbiased=False), X),
    "amax_ties": (lambda a: a.amax(1), lambda a: a.amax(1), TIES),
    "amin_ties": (lambda a: a.amin(0), lambda a: a.amin(0), TIES),
    "max_full_ties": (lambda a: a.max(), lambda a: a.max(), TIES),
    "min_full_ties": (lambda a: md.min(a), lambda a: torch.min(a), -TIES),
    "max_dim_ties": (lambda a: tuple(a.max(1)), lambda a: tuple(a.max(1)), TIES),
    "max_dim_keepdim": (lambda a: tuple(md.max(a, 0, keepdim=True)),
                        lambda a: tuple(torch.max(a, 0, keepdim=True)), TIES),
    "min_dim_ties": (lambda a: tuple(a.min(-1)), lambda a: tuple(a.min(-1)), TIES),
    "logsumexp": (lambda a: md.logsumexp(a, 1), lambda a: torch.logsumexp(a, 1), X * 30),
    "logsumexp_keepdim": (lambda a: a.logsumexp((0, 2), keepdim=True),
                          lambda a: a.logsumexp((0, 2), keepdim=True), X3),
    # shape ops
    "reshape_infer": (lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2), X),
    "view": (lambda a: a.view(4, 3), lambda a: a.view(4, 3), X),
    "flatten_default": (md.flatten, torch.flatten, X3),
    "flatten_start": (lambda a: a.flatten(1), lambda a: a.flatten(1), X3),
    "flatten_range": (lambda a: md.flatten(a, 0, 1), lambda a: torch.flatten(a, 0, 1), X3),
    "squeeze_all": (lambda a: a.squeeze(), lambda a: a.squeeze(), X.reshape(3, 1, 4, 1)),
    "squeeze_dim": (lambda a: a.squeeze(1), lambda a: a.squeeze(1), X.reshape(3, 1, 4, 1)),
    "squeeze_non_unit": (lambda a: a.squeeze(0), lambda a: a.squeeze(0), X.reshape(3, 1, 4, 1)),
    "unsqueeze_neg": (lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), X),
    "unsqueeze_front": (lambda a: md.unsqueeze(a, 0), lambda a: torch.unsqueeze(a, 0), X),
    "permute": (lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), X3),
    "transpose": (lambda a: a.transpose(-1, 0), lambda a: a.transpose(-1, 0), X3),
    "T": (lambda a: a.T, lambda a: a.T, X),
    "expand": (lambda a: a.expand(2, 3, -1), lambda a: a.expand(2, 3, -1), X[:1]),
    "cat": (lambda a, b: md.cat([a, b], 0), lambda a, b: torch.cat([a, b], 0), X, X[:2]),
    "cat_neg_dim": (lambda a, b: md.cat([a, b], -1), lambda a, b: torch.cat([a, b], -1),
                    X, X[:, :1]),
    "stack": (lambda a, b: md.stack([a, b]), lambda a, b: torch.stack([a, b]), X, X * 2),
    "stack_last": (lambda a, b: md.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1),
                   X, X * 2),
    "pad_last": (lambda a: md.pad(a, (1, 2)), lambda a: TF.pad(a, (1, 2)), X),
    "pad_two_dims": (lambda a: md.pad(a, (1, 0, 0, 2), value=3.0),
                     lambda a: TF.pad(a, (1, 0, 0, 2), value=3.0), X3),
    # matmul
    "matmul_dot": (lambda a, b: a @ b, lambda a, b: a @ b, X[0], X[1]),
    "matmul_vec_mat": (md.matmul, torch.matmul, X[:, 0], X),
    "matmul_mat_vec": (md.matmul, torch.matmul, X, X[0]),
    "matmul_2d": (lambda a, b: a @ b, lambda a, b: a @ b, X, X.T),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b, X3, X.T),
    "matmul_broadcast_batch": (md.matmul, torch.matmul, X3[:, None], X3.transpose(0, 2, 1)),
    "matmul_vec_batched": (md.matmul, torch.matmul, X[0, :3], X3),
    # activations
    "relu_with_zero": (md.relu, torch.relu, np.array([-1.0, 0.0, 2.0])),
    "leaky_relu_default": (md.leaky_relu, TF.leaky_relu, X),
    "leaky_relu_slope": (lambda a: md.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2), X),
    "elu_default": (md.elu, TF.elu, X),
    "elu_alpha": (lambda a: md.elu(a, alpha=0.5), lambda a: TF.elu(a, alpha=0.5), X),
    "sigmoid": (md.sigmoid, torch.sigmoid, X * 20),
    "tanh": (md.tanh, torch.tanh, X),
    "erf": (md.erf, torch.erf, X),
    "softplus_default": (md.softplus, TF.softplus, np.concatenate([X.ravel() * 15, [0.0]])),
    "softplus_beta_threshold": (lambda a: md.softplus(a, beta=2.0, threshold=1.0),
                                lambda a: TF.softplus(a, beta=2.0, threshold=1.0), X),
    "silu": (md.silu, TF.silu, X),
    "gelu_none": (md.gelu, TF.gelu, X * 2),
    "gelu_tanh": (lambda a: md.gelu(a, approximate="tanh"),
                  lambda a: TF.gelu(a, approximate="tanh"), X * 2),
    "softmax_last": (lambda a: md.softmax(a, -1), lambda a: torch.softmax(a, -1), X3),
    "softmax_dim1": (lambda a: md.softmax(a, 1), lambda a: torch.softmax(a, 1), X3),
    "log_softmax_dim0": (lambda a: md.log_softmax(a, 0), lambda a: torch.log_softmax(a, 0), X3),
    "log_softmax_large": (md.log_softmax, lambda a: torch.log_softmax(a, -1), X * 1e4),
}


@pytest.mark.parametrize("name", CASES)
def test_op_matches_torch(name):
    md_fn, torch_fn, *arrays = CASES[name]
    check(md_fn, torch_fn, *arrays)


GETITEM_INDEXES = [
    1, -1, (0, 2), slice(1, None), (slice(None), slice(None, None, 2)), (None, 1),
    (Ellipsis, 0), (1, Ellipsis, None), [0, 2, 2], (slice(None), [3, 3, 0]),
    ([0, 2], [1, 1]), (np.array([[0, 1], [2, 2]]),), X > 0, (slice(None), X[0] > 0),
]


@pytest.mark.parametrize("index", range(len(GETITEM_INDEXES)))
def test_getitem_matches_torch(index):
    i = GETITEM_INDEXES[index]
    ti = (torch.tensor(i) if isinstance(i, np.ndarray) else
          tuple(torch.tensor(j) if isinstance(j, np.ndarray) else j for j in i)
          if isinstance(i, tuple) else i)
    check(lambda a: a[i], lambda a: a[ti], X)


def test_negative_step_slices_are_refused_as_in_torch():
    with pytest.raises(ValueError, match="step"):
        torch.tensor(X)[::-1]
    with pytest.raises(ValueError, match="step"):
        md.tensor(X)[::-1, ::-2]


def test_argmax_argmin_pick_the_first_of_ties():
    t = torch.tensor(TIES)
    for dim in (0, 1):
        np.testing.assert_array_equal(md.tensor(TIES).argmax(dim).numpy(),
                                      t.argmax(dim).numpy())
        np.testing.assert_array_equal(md.tensor(TIES).argmin(dim).numpy(),
                                      t.argmin(dim).numpy())
    assert md.tensor(TIES).argmax().item() == t.argmax().item()


@pytest.mark.parametrize("make", [
    lambda lib, x, i: x * i, lambda lib, x, i: x + i, lambda lib, x, i: i / x,
    lambda lib, x, i: x * 2.5, lambda lib, x, i: 3 - x, lambda lib, x, i: x ** 2,
    lambda lib, x, i: lib.where(i > 1, x, 0.0), lambda lib, x, i: x.mean(),
    lambda lib, x, i: i.sum(), lambda lib, x, i: i / 2, lambda lib, x, i: (i > 1) * x,
])
def test_result_dtypes_match_torch(make):
    x_np, i_np = np.array([1.5, 2.5], np.float32), np.array([1, 2])
    ours = make(md, md.tensor(x_np), md.tensor(i_np))
    theirs = make(torch, torch.tensor(x_np), torch.tensor(i_np))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_max_with_dim_returns_named_values_and_indices():
    ours, theirs = md.tensor(TIES).max(dim=1), torch.tensor(TIES).max(dim=1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    values, indices = ours
    assert indices.dtype == md.int64 and values.shape == (3,)
