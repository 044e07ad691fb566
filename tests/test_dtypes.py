"""dtypes against PyTorch: type promotion (tensor / 0-d tensor / Python number, in every
binary op, where, clamp, cat/stack), integer and bool reductions, bitwise ops, and the
dtypes the creation functions infer."""
import itertools
import math

import numpy as np
import pytest

import minidl as md

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]
SCALARS = [True, 3, 2.5]


def ours(dtype_name, kind):
    """A minidl operand of dtype and kind ('dim': shape (2,), '0d': shape ())."""
    data = np.array([1, 1] if kind == "dim" else 1).astype(dtype_name)
    return md.tensor(data)


def theirs(dtype_name, kind):
    return torch.from_numpy(ours(dtype_name, kind).numpy().copy())


def torch_dtype_name(t):
    return str(t.dtype).removeprefix("torch.")


# every pairing of a dimensioned tensor with a dimensioned tensor, a 0-d tensor or a
# Python number -- and 0-d with 0-d, and 0-d with a number
OPERANDS = ([(d, "dim") for d in DTYPES] + [(d, "0d") for d in DTYPES] +
            [(s, "scalar") for s in SCALARS])
PAIRS = [(a, b) for a, b in itertools.product(OPERANDS, repeat=2)
         if not (a[1] == "scalar" and b[1] == "scalar")]


def make(operand, side):
    value, kind = operand
    if kind == "scalar":
        return value, value
    return ours(value, kind), theirs(value, kind)


@pytest.mark.parametrize("a, b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_result_type_matches_torch(a, b):
    (ma, ta), (mb, tb) = make(a, 0), make(b, 1)
    expected = torch_dtype_name(torch.empty(0, dtype=torch.result_type(ta, tb)))
    assert str(md.result_type(ma, mb)) == expected
    assert str((ma + mb).dtype) == expected  # and the op really computes in it
    assert str((ma * mb).dtype) == expected


BINARY_OPS = {
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
    "maximum": (md.maximum, torch.maximum),
    "minimum": (md.minimum, torch.minimum),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
    "where": (lambda a, b: md.where(md.tensor([True, False]), a, b),
              lambda a, b: torch.where(torch.tensor([True, False]), a, b)),
    "clamp": (lambda a, b: md.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b)),
}


def _outcome(fn, a, b):
    try:
        out = fn(a, b)
    except Exception as e:  # noqa: BLE001  (the class is what we compare)
        return type(e)
    return str(out.dtype).removeprefix("torch."), np.asarray(out.numpy() if hasattr(
        out, "numpy") else out, dtype=np.float64)


@pytest.mark.parametrize("op", BINARY_OPS)
def test_every_binary_op_promotes_like_torch(op):
    """Each binary op: same result dtype and values as torch for every operand pair
    (tensor/0-d/number of every dtype), or an error where torch raises one."""
    md_fn, torch_fn = BINARY_OPS[op]
    checked = 0
    for a, b in PAIRS:
        if op in ("maximum", "minimum") and "scalar" in (a[1], b[1]):
            continue  # torch.maximum takes tensors only
        if op == "clamp" and a[1] == "scalar":
            continue
        if op == "pow" and a[0] == "bool" and b[0] is True:
            continue  # torch's bool ** True takes its exponent == 1 shortcut (a copy)
        (ma, ta), (mb, tb) = make(a, 0), make(b, 1)
        expected = _outcome(torch_fn, ta, tb)
        got = _outcome(md_fn, ma, mb)
        if isinstance(expected, type):  # torch raised: so must we, the same class
            assert isinstance(got, type) and issubclass(got, expected), \
                (op, a, b, expected, got)
            continue
        assert not isinstance(got, type), (op, a, b, got)
        assert got[0] == expected[0], (op, a, b)
        np.testing.assert_allclose(got[1], expected[1], err_msg=f"{op} {a} {b}")
        checked += 1
    assert checked > 200


@pytest.mark.parametrize("first, second", itertools.combinations(DTYPES, 2))
def test_cat_and_stack_promote_like_binary_ops(first, second):
    for join in ("cat", "stack"):
        for kind in ("dim", "0d") if join == "stack" else ("dim",):
            m = getattr(md, join)([ours(first, kind), ours(second, kind)])
            t = getattr(torch, join)([theirs(first, kind), theirs(second, kind)])
            assert str(m.dtype) == torch_dtype_name(t), (join, kind)
            np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_cat_promotion_is_differentiable_back_to_each_dtype():
    a = md.ones(2, dtype=md.float32, requires_grad=True)
    b = md.ones(3, dtype=md.float64, requires_grad=True)
    out = md.cat([a, b, md.tensor([1, 2])])
    assert out.dtype == np.float64
    (out * md.arange(7)).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(b.grad.numpy(), [2, 3, 4])


def test_zero_dim_tensors_do_not_widen_a_dimensioned_tensor():
    x = md.ones(3, dtype=md.float32)
    assert (x + md.tensor(1.0, dtype=md.float64)).dtype == np.float32
    assert (md.ones(3, dtype=md.int32) + md.tensor(7)).dtype == np.int32
    assert (md.ones(3, dtype=md.int32) + md.tensor(7.0, dtype=md.float64)).dtype == \
        np.float64  # a higher category does count
    assert (md.tensor(1.0) + md.tensor(2.0, dtype=md.float64)).dtype == np.float64
    # the 0-d float64 gets its gradient back in float64
    s = md.tensor(2.0, dtype=md.float64, requires_grad=True)
    (md.ones(3, requires_grad=True) * s).sum().backward()
    assert s.grad.dtype == np.float64 and s.grad.item() == 3


def test_bool_tensors_promote_as_in_torch():
    b = md.tensor([True, False])
    assert (b + 1).dtype == np.int64 and (b + 1).tolist() == [2, 1]
    assert (b / 2).tolist() == [0.5, 0.0] and (b / 2).dtype == np.float32
    assert (b * 2.5).dtype == np.float32
    assert (b + b).tolist() == [True, False] and (b + b).dtype == np.bool_
    with pytest.raises(RuntimeError, match="sub"):
        b - b
    with pytest.raises(RuntimeError, match="neg"):
        -b


def test_integer_true_division_and_negative_powers():
    i = md.tensor([1, 2, 3], dtype=md.int32)
    assert (i / 2).dtype == np.float32 and (i / 2).tolist() == [0.5, 1.0, 1.5]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]) ** -1
    base, exp = [2, 0, -1, 1, -2, 1], [-1, -1, -3, -5, -2, 0]
    np.testing.assert_array_equal(
        (md.tensor(base) ** md.tensor(exp)).numpy(),
        (torch.tensor(base) ** torch.tensor(exp)).numpy())


# ------------------------------------------------------------------ integer reductions
@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_of_integer_and_bool_tensors_match_torch(dtype):
    data = {"bool": [True, False, True], "uint8": [0, 128, 255, 7],
            "int8": [0, -128, 127], "int16": [-2**15, 5, 2**15 - 1],
            "int32": [0, -2**31, 2**31 - 1], "int64": [-2**63, 0, 2**63 - 1],
            "float32": [1.5, -2.0, 3.0], "float64": [1.5, -2.0, 3.0]}[dtype]
    arr = np.array(data).astype(dtype)
    m, t = md.tensor(arr), torch.from_numpy(arr.copy())
    for name in ("max", "min", "amax", "amin", "sum"):
        got, expected = getattr(m, name)(), getattr(t, name)()
        assert str(got.dtype) == torch_dtype_name(expected), name
        assert got.item() == expected.item(), name
    got, expected = m.reshape(1, -1).min(1), t.reshape(1, -1).min(1)
    assert got.values.tolist() == expected.values.tolist()
    assert got.indices.tolist() == expected.indices.tolist()
    for name in ("mean", "var", "std", "argmax"):
        try:
            expected = getattr(t, name)()
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(m, name)()
        else:
            np.testing.assert_allclose(getattr(m, name)().item(), expected.item(),
                                       rtol=1e-6)


# ------------------------------------------------------------------ bitwise ops
BITWISE = {
    "&": (lambda a, b: a & b), "|": (lambda a, b: a | b), "^": (lambda a, b: a ^ b),
    "<<": (lambda a, b: a << b), ">>": (lambda a, b: a >> b),
}
BIT_VALUES = {"bool": [True, False, True], "uint8": [3, 200, 255], "int8": [-7, 5, 100],
              "int16": [-300, 12, 1], "int32": [-2**31, 5, 12345],
              "int64": [-5, 2**40, 3], "float32": [1.0, 2.0, 3.0]}


@pytest.mark.parametrize("op", BITWISE)
@pytest.mark.parametrize("dtype", BIT_VALUES)
def test_bitwise_operators_match_torch(op, dtype):
    fn = BITWISE[op]
    arr = np.array(BIT_VALUES[dtype]).astype(dtype)
    shifts = np.array([1, 2, 3]).astype(dtype) if op in "<<>>" else arr[::-1].copy()
    cases = [(md.tensor(arr), md.tensor(shifts), torch.tensor(arr),
              torch.tensor(shifts)),
             (md.tensor(arr), 2, torch.tensor(arr), 2),   # with a Python int
             (3, md.tensor(shifts), 3, torch.tensor(shifts))]  # reflected
    for ma, mb, ta, tb in cases:
        try:
            expected = fn(ta, tb)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                fn(ma, mb)
            continue
        got = fn(ma, mb)
        assert str(got.dtype) == torch_dtype_name(expected), (op, dtype)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", BIT_VALUES)
def test_bitwise_not_and_methods_match_torch(dtype):
    arr = np.array(BIT_VALUES[dtype]).astype(dtype)
    m, t = md.tensor(arr), torch.tensor(arr)
    for name in ("__invert__", "bitwise_not"):
        try:
            expected = getattr(t, name)()
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                getattr(m, name)()
            continue
        got = getattr(m, name)()
        assert str(got.dtype) == torch_dtype_name(expected)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        if dtype == "float32":
            with pytest.raises(NotImplementedError):
                getattr(m, name)(m)
            continue
        np.testing.assert_array_equal(getattr(m, name)(m).numpy(),
                                      getattr(t, name)(t).numpy())
        np.testing.assert_array_equal(getattr(md, name)(m, 1).numpy(),
                                      getattr(torch, name)(t, 1).numpy())


def test_int_and_on_int32_is_bitwise_not_logical():
    t = md.tensor([1, 2, 6], dtype=md.int32)
    assert (t & t).tolist() == [1, 2, 6] and (t & t).dtype == np.int32
    assert (t & 4).tolist() == [0, 0, 4]


# ------------------------------------------------------------------ creation dtypes
CREATION = [
    ("tensor(1)", lambda m: m.tensor(1)),
    ("tensor(1.5)", lambda m: m.tensor(1.5)),
    ("tensor(True)", lambda m: m.tensor(True)),
    ("tensor([1, 2.0])", lambda m: m.tensor([1, 2.0])),
    ("tensor([True, 2])", lambda m: m.tensor([True, 2])),
    ("tensor([])", lambda m: m.tensor([])),
    ("tensor([[1, 2], [3, 4]])", lambda m: m.tensor([[1, 2], [3, 4]])),
    ("tensor(np.float64)", lambda m: m.tensor(np.float64(1.5))),
    ("tensor([np.float64])", lambda m: m.tensor([np.float64(1.5), 2.0])),
    ("tensor([np.int32])", lambda m: m.tensor([np.int32(1)])),
    ("tensor(float64 array)", lambda m: m.tensor(np.ones(2))),
    ("tensor(int32 array)", lambda m: m.tensor(np.ones(2, np.int32))),
    ("tensor(uint8 array)", lambda m: m.tensor(np.ones(2, np.uint8))),
    ("tensor(1, dtype=float64)", lambda m: m.tensor(1, dtype=m.float64)),
    ("full(4)", lambda m: m.full((2, 2), 4)),
    ("full(4.0)", lambda m: m.full((2,), 4.0)),
    ("full(True)", lambda m: m.full((2,), True)),
    ("full(tensor(4))", lambda m: m.full((2,), m.tensor(4))),
    ("full(4, dtype=float32)", lambda m: m.full((2,), 4, dtype=m.float32)),
    ("arange(5)", lambda m: m.arange(5)),
    ("arange(0, 1, 0.1)", lambda m: m.arange(0, 1, 0.1)),
    ("arange(1.0, 4)", lambda m: m.arange(1.0, 4)),
    ("arange(2, 9, 3)", lambda m: m.arange(2, 9, 3)),
    ("arange(-1, 1, 0.25)", lambda m: m.arange(-1, 1, 0.25)),
    ("arange(tensor(4))", lambda m: m.arange(m.tensor(4))),
    ("arange(np.int32(3))", lambda m: m.arange(np.int32(3))),
    ("arange(5, dtype=float64)", lambda m: m.arange(5, dtype=m.float64)),
    ("zeros(2)", lambda m: m.zeros(2)),
    ("zeros(2, dtype=None)", lambda m: m.zeros(2, dtype=None)),
    ("ones((2, 3), dtype=int64)", lambda m: m.ones((2, 3), dtype=m.int64)),
    ("empty(2)", lambda m: m.empty(2).zero_()),
    ("eye(2)", lambda m: m.eye(2)),
    ("linspace(0, 10, 5)", lambda m: m.linspace(0, 10, 5)),
    ("zeros_like(int32)", lambda m: m.zeros_like(m.ones(2, dtype=m.int32))),
    ("full_like(int, 2.7)", lambda m: m.full_like(m.tensor([1, 2]), 2.7)),
    ("ones_like(dtype=float64)", lambda m: m.ones_like(m.tensor([1, 2]),
                                                       dtype=m.float64)),
    ("randint(0, 3, (4,))", lambda m: m.randint(0, 3, (4,)) * 0),
    ("randperm(3)", lambda m: m.randperm(3).sort()[0] if m is torch else
     m.tensor(np.sort(m.randperm(3).numpy()))),
]


@pytest.mark.parametrize("name, make", CREATION, ids=[c[0] for c in CREATION])
def test_creation_infers_dtypes_like_torch(name, make):
    got, expected = make(md), make(torch)
    assert str(got.dtype) == torch_dtype_name(expected), name
    assert got.shape == tuple(expected.shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_creation_takes_a_device():
    assert md.zeros(2, device="cpu").device == md.device("cpu")
    assert md.arange(3, device=md.device("cpu")).tolist() == [0, 1, 2]
    assert md.tensor([1.0], device="cpu:0").dtype == np.float32
    with pytest.raises(RuntimeError, match="CPU only"):
        md.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        md.ones(2).to("cuda:0")
    assert math.isclose(md.ones(2).to("cpu", md.float64).sum().item(), 2.0)


def test_device_object_behaves_like_torch_device():
    for spec in (("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda", 1)):
        ours_d, theirs_d = md.device(*spec), torch.device(*spec)
        assert repr(ours_d) == repr(theirs_d) and str(ours_d) == str(theirs_d)
        assert ours_d.type == theirs_d.type and ours_d.index == theirs_d.index
    assert md.device("cpu") == md.device("cpu") != md.device("cpu", 0)
    assert (md.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert hash(md.device("cpu")) == hash(md.device(md.device("cpu")))
    assert md.ones(1).device == md.device("cpu") and str(md.ones(1).device) == "cpu"
    with pytest.raises(RuntimeError):
        md.device("gpu")
