"""All differentiable tensor ops, gathered from the files that define them:

  arithmetic.py  + - * / ** neg exp log sqrt abs clamp maximum minimum where cast;
                 comparisons (eq ne lt le gt ge) and bitwise ops (not differentiable)
  reduction.py   sum mean amax/amin max/min var std logsumexp norms (and sum_to/expand)
  shape.py       reshape flatten squeeze unsqueeze permute transpose getitem cat stack pad
  matmul.py      matmul (1-D, 2-D, batched)
  activation.py  relu leaky_relu elu sigmoid tanh erf softplus silu gelu softmax log_softmax
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

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clamp", "clip",
    "maximum", "minimum", "where", "clone", "cast", "eq", "ne", "lt", "le", "gt", "ge",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "sum", "sum_to", "expand", "mean",
    "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "logsumexp", "norm",
    "reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose",
    "getitem", "cat", "concatenate", "stack", "pad", "matmul", "relu", "leaky_relu", "elu",
    "sigmoid", "tanh", "erf", "softplus", "silu", "gelu", "softmax", "log_softmax",
]
