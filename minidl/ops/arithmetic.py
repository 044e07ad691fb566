"""Elementwise arithmetic: + - * / ** neg, exp log sqrt abs, clamp, maximum/minimum,
where; comparisons and bitwise ops (not differentiable); casts.

Every binary op first brings both operands to one dtype by PyTorch's promotion rules
(minidl/dtypes.py), then broadcasts like numpy. Its backward returns gradients of the
*broadcast* shape; the engine (autograd.py) sums them back to each input's shape.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..dtypes import FLOATS, result_type, is_scalar
from ..errors import ArgumentError, DTypeError, NotImplementedForDType
from ..kernels.memory import OUTPUT_MIN_BYTES, output
from ..tensor import Tensor, ShapeError, _as_array, float32


# ------------------------------------------------------------------ operand handling
def lift(a, b, op: str, to_float: bool = False):
    """Make Tensors of both operands, in the dtype PyTorch's promotion rules give
    (dtypes.result_type: float32 + 0-d float64 stays float32, int + 2.5 is float32).
    to_float: ops that compute in floating point (true division, atan2, ...) cast
    integer and bool operands straight to float32, as PyTorch does (not first to
    their common integer dtype, where an int16 -1 would wrap around in uint8).

    Also checks that the shapes broadcast, so errors name the op and both shapes.
    """
    a, b, dtype = promote(a, b, op)
    if to_float and dtype not in FLOATS:
        dtype = np.dtype(float32)
    a, b = to_dtype(a, dtype), to_dtype(b, dtype)
    check_broadcast(op, a.shape, b.shape)
    return a, b


def lift_arrays(a, b, op: str):
    """lift() for ops without a gradient: the two promoted numpy arrays."""
    a, b, dtype = promote(a, b, op)
    a, b = (x._data.astype(dtype, copy=False) if isinstance(x, Tensor)
            else _number_array(x, dtype) for x in (a, b))
    check_broadcast(op, a.shape, b.shape)
    return a, b


def promote(a, b, op: str):
    """The operands (arrays made Tensors) and the dtype they meet in."""
    if isinstance(a, Tensor):
        dtype = _quick_result_type(a, b)
    elif isinstance(b, Tensor):
        dtype = _quick_result_type(b, a)
    else:
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} "
                        f"and {type(b).__name__}")
    if dtype is not None:
        return a, b, dtype
    a, b = operand(a, op), operand(b, op)
    return a, b, result_type(a, b)


def _quick_result_type(t: Tensor, other):
    """The common cases of result_type, fast: the same dtype, or a Python number of
    t's category (or lower). None when the full rules are needed."""
    kind = other.__class__
    if kind is Tensor:
        return t.dtype if other.dtype == t.dtype else None
    if kind is float:
        return t.dtype if t.dtype.kind == "f" else None
    if kind is int:
        return t.dtype if t.dtype.kind in "fiu" else None
    return None


def operand(x, op: str):
    """A Tensor or a number as it is; arrays and lists become Tensors."""
    if isinstance(x, Tensor) or is_scalar(x):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return Tensor(_as_array(x))
    raise TypeError(f"{op}: expected a Tensor, array or number, got {type(x).__name__}")


def to_dtype(x, dtype) -> Tensor:
    """A Tensor cast (differentiably) to dtype, or a number made a 0-d Tensor of it."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else cast(x, dtype)
    return Tensor(_number_array(x, dtype))


def _number_array(x, dtype) -> np.ndarray:
    try:
        return np.array(x, dtype=dtype)
    except OverflowError:  # e.g. -1 for uint8: wraps around, as in PyTorch
        return np.array(x).astype(dtype)


def scalar_in_dtype(number, dtype, op: str, what: str = "value"):
    """A Python number in a tensor's dtype, as PyTorch converts one (fill_, masked_fill,
    threshold): truncated toward 0 for integer dtypes (a negative int wraps around in
    an unsigned one), and refused when it does not fit."""
    dtype = np.dtype(dtype)
    if dtype != np.bool_ and not _fits(number, dtype):
        raise ArgumentError(f"{op}: {what} {number} cannot be converted to type {dtype} "
                            "without overflow")
    return np.array(number).astype(dtype)[()]


def _fits(number, dtype) -> bool:
    finite = bool(np.isfinite(number))
    if dtype.kind == "f":  # (inf and NaN are floats too)
        largest = float(np.finfo(dtype).max)
        return not finite or -largest <= number <= largest
    info = np.iinfo(dtype)
    if isinstance(number, (bool, int, np.integer)) and dtype.kind == "u":
        return -int(info.max) <= number <= int(info.max)
    return finite and info.min <= number <= info.max


def check_broadcast(op: str, *shapes):
    if len({s for s in shapes if s}) <= 1:
        return  # equal shapes (0-d ones aside): nothing to check
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {' and '.join(map(str, shapes))}"
                         "; trailing dimensions must be equal or 1") from None


def unary_input(x, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x


def float_input(x, op: str) -> Tensor:
    """Ops like exp/log need floats: integer and bool tensors become float32."""
    x = unary_input(x, op)
    return x if x.dtype in FLOATS else cast(x, float32)


def floats_only(x, op: str, error=NotImplementedForDType) -> Tensor:
    """The input of an op PyTorch defines on float tensors only (float32, float64);
    any other dtype raises `error`: NotImplementedForDType where PyTorch has no kernel
    for it ("not implemented for 'Long'", a NotImplementedError), DTypeError where it
    checks the dtype first (mean, var, the norms: a plain RuntimeError)."""
    x = unary_input(x, op)
    if x.dtype not in FLOATS:
        raise error(f"{op}: not implemented for {x.dtype} tensors (as in PyTorch); "
                    "convert with .float() first")
    return x


def dtype_argument(x: Tensor, dtype, op: str) -> Tensor:
    """x cast for an op's dtype= argument (sum, prod, cumsum, cumprod). As in PyTorch,
    a non-float dtype for a tensor that requires grad raises: autograd has no integer
    gradients (cast first, outside the graph, if integers are wanted)."""
    dtype = np.dtype(dtype)
    if dtype not in FLOATS and x.requires_grad and is_grad_enabled():
        raise DTypeError(f"{op}: Autograd not support dtype: {dtype} (the input requires "
                         f"grad); use dtype=float32/float64, or {op} x.detach()")
    return cast(x, dtype)


def refuse_bool(x: Tensor, op: str, advice: str, error=DTypeError):
    """PyTorch refuses - (negation, subtraction), abs and ** on bool tensors."""
    if x.dtype == np.bool_:
        raise error(f"{op}: not supported for bool tensors; {advice}")


# ------------------------------------------------------------------ + - * /
def big_output(a, b=None):
    """Where an elementwise op on array a (or on arrays a and b, of one dtype) writes a
    big result: an array recycled from the output bin (kernels/memory.py; a fresh one
    would be page-faulted in), for numpy's out=. None for small results and mixed
    dtypes: numpy allocates those itself."""
    b = a if b is None else b
    if a.dtype != b.dtype or max(a.nbytes, b.nbytes) < OUTPUT_MIN_BYTES:
        return None
    return output(a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape),
                  a.dtype)


class Add(Function):
    # d(a+b)/da = 1, d(a+b)/db = 1
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b, out=big_output(a, b))

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    # d(a-b)/da = 1, d(a-b)/db = -1
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b, out=big_output(a, b))

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    # d(a*b)/da = b, d(a*b)/db = a
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b, out=big_output(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    # d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b  (PyTorch's form: b*b could overflow)
    @staticmethod
    def forward(ctx, a, b):  # (saves what PyTorch saves: a only when b needs a gradient)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * ((a / b) / b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a, out=big_output(a))

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    # d(a^b)/da = b a^(b-1), taken as 0 wherever b == 0 (a^0 = 1 even at a = 0 or inf);
    # d(a^b)/db = a^b log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's conventions:
    # at a = 0, b < 0 it is -inf, the limit as a -> +0)
    @staticmethod
    def forward(ctx, a, b, number):
        ctx.number = number  # the exponent was a Python number (not a tensor)
        if a.dtype.kind != "f":
            out = _integer_power(a, b)
        elif number and b == 0.5:  # PyTorch computes these two as sqrt and 1 / sqrt,
            out = np.sqrt(a)       # which differ from pow at -0 and -inf
        elif number and b == -0.5:
            out = 1 / np.sqrt(a)
        else:
            out = np.power(a, b)
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            b_zero = b == 0
            power = Pow.apply(where(b_zero, 1.0, a), b - 1, ctx.number)
            ga = where(b_zero, 0.0, g * b * power)
        if ctx.needs_input_grad[1]:
            flat = (a == 0) & (b >= 0)
            gb = where(flat, 0.0, g * out * log(where(flat, 1.0, a)))
        return ga, gb, None


def _integer_power(a, b):
    """a ** b for integer arrays, as PyTorch: a negative power of an integer is
    1 / a^|b| truncated toward zero -- 1 for a = 1, +-1 for a = -1, else 0."""
    negative = b < 0
    if not np.any(negative):
        return np.power(a, b)
    out = np.power(a, np.where(negative, 0, b).astype(b.dtype))
    odd = np.abs(b) % 2 == 1
    truncated = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, truncated, out).astype(out.dtype)


class Scale(Function):
    # y = alpha x, alpha a number kept on ctx (no saved tensor: a second backward
    # works, as after PyTorch's add(a, b, alpha=...));  dy/dx = alpha
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x * _number_array(alpha, x.dtype)

    @staticmethod
    def backward(ctx, g):
        return Scale.apply(g, ctx.alpha), None


def add(a, b, *, alpha=1):
    """a + alpha * b (as torch.add)."""
    a, b = lift(a, b, "add")
    return Add.apply(a, b if alpha == 1 else _scaled(b, alpha, "add"))


def sub(a, b, *, alpha=1):
    """a - alpha * b (as torch.sub)."""
    if any(isinstance(x, (bool, np.bool_)) or getattr(x, "dtype", None) == np.bool_
           for x in (a, b)):  # PyTorch refuses a bool on either side
        raise DTypeError("sub: subtraction with a bool tensor is not supported; for "
                         "masks use ^ (logical xor) or ~ (logical not)")
    a, b = lift(a, b, "sub")
    return Sub.apply(a, b if alpha == 1 else _scaled(b, alpha, "sub"))


def _scaled(b, alpha, op):
    """alpha * b for add/sub, with PyTorch's checks of alpha."""
    if not is_scalar(alpha):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if b.dtype.kind != "f" and isinstance(alpha, (float, np.floating)):
        raise ArgumentError(f"{op}: for integral input tensors, argument alpha must not "
                            f"be a floating point number, got alpha={alpha}")
    if isinstance(alpha, (bool, np.bool_)) and b.dtype != np.bool_:
        raise ArgumentError(f"{op}: a bool alpha is only supported for bool results, "
                            f"got alpha={alpha} for {b.dtype} tensors")
    return Scale.apply(b, alpha)


def mul(a, b):
    return Mul.apply(*lift(a, b, "mul"))


def div(a, b, *, rounding_mode=None):
    """True division a / b: integers and bools give float32 (as PyTorch's a / b);
    rounding_mode="floor" or "trunc" rounds the quotient (ops/division.py)."""
    if rounding_mode is not None:
        from .division import div_rounded  # (division.py builds on this file)
        return div_rounded(a, b, rounding_mode)
    return Div.apply(*lift(a, b, "div", to_float=True))


def neg(a):
    a = unary_input(a, "neg")
    refuse_bool(a, "neg", "to invert a mask use ~ or bitwise_not")
    return Neg.apply(a)


def pow(a, exponent):
    if (isinstance(a, Tensor) and a.dtype.kind in "iub" and
            isinstance(exponent, (numbers.Integral, np.integer)) and exponent < 0):
        raise DTypeError(f"pow: integers to negative integer powers are not allowed "
                         f"(a {a.dtype} tensor ** {exponent}); use a float tensor")
    a, b = lift(a, exponent, "pow")
    if a.dtype == np.bool_ and is_scalar(exponent) and exponent in (0, 1):
        # (PyTorch answers x ** 0 and x ** 1 before looking for a kernel: bool works)
        return Tensor(np.ones(a.shape, bool) if exponent == 0 else a._data.copy())
    refuse_bool(a, "pow", "convert the tensor to an integer or float dtype first",
                NotImplementedForDType)
    return Pow.apply(a, b, is_scalar(exponent))


# ------------------------------------------------------------------ unary math
class Exp(Function):
    # d/dx e^x = e^x  (the output itself)
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x, out=big_output(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * out


class Log(Function):
    # d/dx log x = 1/x
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    # d/dx sqrt(x) = 1 / (2 sqrt(x))
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    # d/dx |x| = sign(x)   (0 at x == 0, and at NaN, as PyTorch)
    @staticmethod
    def forward(ctx, x):
        ctx.sign = sign_of(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        return g * Tensor(ctx.sign)


def sign_of(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1, and 0 at NaN (as torch.sign): the slope of |x| in backward passes."""
    sign = np.sign(x)
    return np.where(np.isnan(x), 0, sign).astype(x.dtype) if x.dtype.kind == "f" else sign


def exp(x):
    return Exp.apply(float_input(x, "exp"))


def log(x):
    return Log.apply(float_input(x, "log"))


def sqrt(x):
    return Sqrt.apply(float_input(x, "sqrt"))


def abs(x):  # noqa: A001  (PyTorch's name)
    x = unary_input(x, "abs")
    refuse_bool(x, "abs", "a mask is its own absolute value", NotImplementedForDType)
    return Abs.apply(x)


# ------------------------------------------------------------------ clamp
class Clamp(Function):
    # out = min(max(x, lo), hi). The gradient goes to x where lo <= x <= hi, to lo where
    # x < lo (and lo < hi), to hi where x > hi (or hi < lo: then hi is the output)
    @staticmethod
    def forward(ctx, x, lo, hi):
        out, ctx.x_wins, ctx.lo_wins, ctx.hi_wins = x, True, None, None
        if lo is not None:
            out = np.maximum(out, lo)
            ctx.x_wins = ctx.x_wins & (x >= lo)
            ctx.lo_wins = (x < lo) if hi is None else (x < lo) & (lo < hi)
        if hi is not None:
            out = np.minimum(out, hi)
            ctx.x_wins = ctx.x_wins & (x <= hi)
            ctx.hi_wins = (x > hi) if lo is None else (x > hi) | (hi < lo)
        return out

    @staticmethod
    def backward(ctx, g):
        masks = (ctx.x_wins, ctx.lo_wins, ctx.hi_wins)
        return tuple(where(Tensor(mask), g, 0.0) if need else None
                     for mask, need in zip(masks, ctx.needs_input_grad))


def clamp(x, min=None, max=None):  # noqa: A002
    """Limit values to [min, max], as torch.clamp: either bound may be None, a number
    or a tensor (which broadcasts with x and gets its share of the gradient)."""
    x = unary_input(x, "clamp")
    if min is None and max is None:
        raise ArgumentError("clamp: at least one of min and max must be given")
    given = [operand(v, "clamp") for v in (x, min, max) if v is not None]
    dtype = result_type(*given)
    lo, hi = (None if v is None else to_dtype(operand(v, "clamp"), dtype)
              for v in (min, max))
    check_broadcast("clamp", *[t.shape for t in (x, lo, hi) if t is not None])
    x = cast(x, dtype)
    if any(is_scalar(v) for v in (min, max)):  # (PyTorch has no bool kernel for these)
        refuse_bool(x, "clamp", "bound a mask with bool tensors or use where",
                    NotImplementedForDType)
    return Clamp.apply(x, lo, hi)


clip = clamp


# ------------------------------------------------------------------ maximum/minimum/where
class Maximum(Function):
    # the gradient goes to the larger input, half to each on a tie, and -- as in
    # PyTorch -- all of it to both where a NaN is involved (NaN is neither < nor >)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shares = _shares(a_loses=a < b, b_loses=a > b, tie=a == b, dtype=a.dtype)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        share_a, share_b = ctx.shares
        return g * Tensor(share_a), g * Tensor(share_b)


class Minimum(Maximum):
    # the same, for the smaller input (backward is Maximum's)
    @staticmethod
    def forward(ctx, a, b):
        ctx.shares = _shares(a_loses=a > b, b_loses=a < b, tie=a == b, dtype=a.dtype)
        return np.minimum(a, b)


def _shares(a_loses, b_loses, tie, dtype):
    """Each input's share of the gradient: 0 where it lost, 0.5 on a tie, else 1."""
    def share(loses):
        return np.where(tie, 0.5, np.where(loses, 0.0, 1.0)).astype(dtype, copy=False)
    return share(a_loses), share(b_loses)


class Where(Function):
    # out = x where cond else y:  dx = g where cond, dy = g where not cond
    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        cond = Tensor(ctx.cond)
        zero = Tensor(np.zeros((), dtype=g.dtype))
        return None, where(cond, g, zero), where(cond, zero, g)


def maximum(a, b):
    return Maximum.apply(*lift(a, b, "maximum"))


def minimum(a, b):
    return Minimum.apply(*lift(a, b, "minimum"))


def where(condition, x=None, y=None):
    """Pick x where condition is True, else y (all three broadcast together).
    where(condition) alone is nonzero(condition, as_tuple=True)."""
    if x is None and y is None:
        from .indexing import nonzero  # (indexing.py builds on this file)
        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise DTypeError(f"where: condition must be a bool tensor, got dtype "
                         f"{cond.dtype}; compare first (e.g. x > 0)")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(_as_array(x))
    x, y = lift(x, y, "where")
    check_broadcast("where", cond.shape, x.shape, y.shape)
    return Where.apply(cond, x, y)


# ------------------------------------------------------------------ comparisons
# Not differentiable: they give bool tensors. Both sides are promoted first (as for +),
# so an int tensor == 1.5 compares as floats, float32 == 0.1 in float32.
def eq(a, b):
    return Tensor(np.equal(*lift_arrays(a, b, "eq")))


def ne(a, b):
    return Tensor(np.not_equal(*lift_arrays(a, b, "ne")))


def lt(a, b):
    return Tensor(np.less(*lift_arrays(a, b, "lt")))


def le(a, b):
    return Tensor(np.less_equal(*lift_arrays(a, b, "le")))


def gt(a, b):
    return Tensor(np.greater(*lift_arrays(a, b, "gt")))


def ge(a, b):
    return Tensor(np.greater_equal(*lift_arrays(a, b, "ge")))


# ------------------------------------------------------------------ bitwise ops
# & | ^ ~ << >> work bit by bit on integer tensors (keeping the promoted integer dtype)
# and are the logical and/or/xor/not on bool tensors; PyTorch has none for floats.
def _bit_arrays(a, b, op, bools=True):
    a, b = lift_arrays(a, b, op)
    if a.dtype.kind == "f" or (a.dtype == np.bool_ and not bools):
        raise NotImplementedForDType(f"{op}: not implemented for {a.dtype} tensors; "
                                     "it needs integer" + (" or bool" if bools else "") +
                                     " tensors")
    return a, b


def bitwise_and(a, b):
    return Tensor(np.bitwise_and(*_bit_arrays(a, b, "bitwise_and")))


def bitwise_or(a, b):
    return Tensor(np.bitwise_or(*_bit_arrays(a, b, "bitwise_or")))


def bitwise_xor(a, b):
    return Tensor(np.bitwise_xor(*_bit_arrays(a, b, "bitwise_xor")))


def bitwise_left_shift(a, b):
    """a << b: a * 2**b in the integer dtype (bits shifted past the top are lost)."""
    return Tensor(np.left_shift(*_bit_arrays(a, b, "bitwise_left_shift", bools=False)))


def bitwise_right_shift(a, b):
    """a >> b: floor(a / 2**b), keeping the sign."""
    return Tensor(np.right_shift(*_bit_arrays(a, b, "bitwise_right_shift", bools=False)))


def bitwise_not(x):
    """~x: flips every bit of an integer; logical not of a bool tensor."""
    x = unary_input(x, "bitwise_not")
    if x.dtype.kind == "f":
        raise NotImplementedForDType(f"bitwise_not (~): not implemented for {x.dtype} "
                                     "tensors; it needs integer or bool tensors")
    return Tensor(np.invert(x._data))


# ------------------------------------------------------------------ copies and casts
class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    # a dtype change; the gradient is cast back to the input's dtype
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return cast(g, ctx.in_dtype), None


def clone(x):
    return Clone.apply(unary_input(x, "clone"))


def cast(x, dtype):
    dtype = np.dtype(dtype)
    x = unary_input(x, "to")
    if x.dtype == dtype:
        return x
    _as_array(np.zeros(0, dtype), dtype)  # validates the dtype with a clear error
    return Cast.apply(x, dtype)
