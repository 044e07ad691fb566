"""All differentiable tensor ops, gathered from the files that define them:

  arithmetic.py  + - * / ** neg exp log sqrt abs clamp maximum minimum where cast
  reduction.py   sum mean amax/amin max/min var std logsumexp (and sum_to/expand)
  shape.py       reshape flatten squeeze unsqueeze permute transpose getitem cat stack pad
  matmul.py      matmul (1-D, 2-D, batched)
  activation.py  relu leaky_relu elu sigmoid tanh erf softplus silu gelu softmax log_softmax
"""
from .arithmetic import (add, sub, mul, div, neg, pow, exp, log, sqrt, abs, clamp, clip,
                         maximum, minimum, where, clone, cast)
from .reduction import (sum, sum_to, expand, mean, amax, amin, max, min, argmax, argmin,
                        var, std, logsumexp)
from .shape import (reshape, view, flatten, squeeze, unsqueeze, permute, transpose,
                    getitem, cat, concatenate, stack, pad)
from .matmul import matmul
from .activation import (relu, leaky_relu, elu, sigmoid, tanh, erf, softplus, silu, gelu,
                         softmax, log_softmax)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs", "clamp", "clip",
    "maximum", "minimum", "where", "clone", "cast", "sum", "sum_to", "expand", "mean",
    "amax", "amin", "max", "min", "argmax", "argmin", "var", "std", "logsumexp",
    "reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose",
    "getitem", "cat", "concatenate", "stack", "pad", "matmul", "relu", "leaky_relu", "elu",
    "sigmoid", "tanh", "erf", "softplus", "silu", "gelu", "softmax", "log_softmax",
]
