"""All differentiable tensor ops, gathered from the files that define them:

  arithmetic.py  + - * / ** neg exp log sqrt abs clamp maximum minimum where cast;
                 comparisons (eq ne lt le gt ge) and bitwise ops (not differentiable)
  reduction.py   sum mean amax/amin max/min var std logsumexp norms (and sum_to/expand)
  shape.py       reshape flatten squeeze unsqueeze permute transpose getitem cat stack pad
  matmul.py      matmul (1-D, 2-D, batched), and linear
  activation.py  relu leaky_relu elu sigmoid tanh erf softplus silu gelu softmax log_softmax
  elementwise.py sin cos tan asin acos atan sinh cosh asinh acosh atanh log2 log10 log1p
                 exp2 expm1 rsqrt, sign floor ceil round trunc, copysign atan2 logaddexp lerp
  division.py    floor_divide (//) remainder (%) fmod, and div(rounding_mode=...)
  logical.py     isnan isinf isfinite isclose logical_not/and/or/xor any all
  scan.py        cumsum cumprod cummax cummin logcumsumexp
  product.py     prod
  movement.py    flip roll split chunk tril triu diagonal diag repeat_interleave unflatten
                 meshgrid (and Tensor.repeat, Tensor.unfold)
  indexing.py    gather scatter scatter_add scatter_reduce masked_fill masked_select nonzero
  sorting.py     sort argsort topk kthvalue median
  einsum.py      einsum

The other families are named by minidl.functional (and minidl.linalg), not here:
  conv.py        conv2d conv1d conv_transpose2d conv2d_weight (on kernels/im2col.py)
  pooling.py     max_pool2d avg_pool2d adaptive_max/avg_pool2d max_unpool2d
  normalization.py  batch_norm layer_norm group_norm instance_norm
  dropout.py     dropout dropout2d        upsample.py   interpolate
  attention.py   scaled_dot_product_attention      encoding.py   one_hot
  losses.py      cross_entropy nll_loss binary_cross_entropy(_with_logits) mse_loss
                 l1_loss smooth_l1_loss huber_loss kl_div
  linalg.py      svdvals matrix_norm norm (minidl.linalg)
and arguments.py checks the arguments ops and layers share (kernel_size, stride, ...).
"""
from .arithmetic import (add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clamp, clip,
                         maximum, minimum, where, clone, cast, eq, ne, lt, le, gt, ge,
                         bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
                         bitwise_left_shift, bitwise_right_shift)
from .reduction import (sum, sum_to, expand, mean, amax, amin, max, min, argmax, argmin,
                        var, std, logsumexp, norm)
from .shape import (reshape, view, flatten, squeeze, unsqueeze, permute, transpose,
                    getitem, cat, concatenate, stack, pad)
from .matmul import matmul
from .activation import (relu, leaky_relu, elu, sigmoid, tanh, erf, softplus, silu, gelu,
                         softmax, log_softmax)
from .reduction import std_mean, var_mean
from .elementwise import (sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh,
                          log2, log10, log1p, exp2, expm1, rsqrt, sign, floor, ceil, round,
                          trunc, copysign, atan2, logaddexp, lerp)
from .division import floor_divide, remainder, fmod
from .logical import (isnan, isinf, isfinite, isclose, logical_not, logical_and, logical_or,
                      logical_xor, any, all)
from .scan import cumsum, cumprod, cummax, cummin, logcumsumexp
from .product import prod
from .movement import (flip, roll, split, chunk, tril, triu, diagonal, diag,
                       repeat_interleave, unflatten, meshgrid)
from .indexing import (gather, scatter, scatter_add, scatter_reduce, masked_fill,
                       masked_select, nonzero)
from .sorting import sort, argsort, topk, kthvalue, median
from .einsum import einsum

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clamp", "clip",
    "maximum", "minimum", "where", "clone", "cast", "eq", "ne", "lt", "le", "gt", "ge",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "sum", "sum_to", "expand", "mean",
    "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "logsumexp", "norm",
    "reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose",
    "getitem", "cat", "concatenate", "stack", "pad", "matmul", "relu", "leaky_relu", "elu",
    "sigmoid", "tanh", "erf", "softplus", "silu", "gelu", "softmax", "log_softmax",
    "std_mean", "var_mean",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "log2", "log10", "log1p", "exp2", "expm1", "rsqrt", "sign", "floor", "ceil", "round",
    "trunc", "copysign", "atan2", "logaddexp", "lerp",
    "floor_divide", "remainder", "fmod",
    "isnan", "isinf", "isfinite", "isclose", "logical_not", "logical_and", "logical_or",
    "logical_xor", "any", "all",
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "prod",
    "flip", "roll", "split", "chunk", "tril", "triu", "diagonal", "diag",
    "repeat_interleave", "unflatten", "meshgrid",
    "gather", "scatter", "scatter_add", "scatter_reduce", "masked_fill", "masked_select",
    "nonzero", "sort", "argsort", "topk", "kthvalue", "median", "einsum",
]
