"""minidl.functional: every op as a function, PyTorch's torch.nn.functional in one place.

This file only gathers names; each op lives (with its derivative) in the file named
beside its import.
"""
from .ops import *  # noqa: F401,F403  arithmetic, reductions, shapes, matmul, activations
from .ops import __all__ as _core_ops
from .ops.dropout import dropout, dropout2d                          # ops/dropout.py
from .ops.dropout import (dropout1d, dropout3d, alpha_dropout,       # ops/dropout.py
                          feature_alpha_dropout)
from .ops.conv import conv2d, conv_transpose2d, conv2d_weight        # ops/conv.py
from .ops.conv import conv1d                                         # ops/conv.py
from .ops.pooling import max_pool2d, avg_pool2d, adaptive_avg_pool2d  # ops/pooling.py
from .ops.pooling import adaptive_max_pool2d, max_unpool2d           # ops/pooling.py
from .ops.normalization import batch_norm, layer_norm                # ops/normalization.py
from .ops.normalization import group_norm, instance_norm             # ops/normalization.py
from .ops.upsample import interpolate                                # ops/upsample.py
from .ops.spatial import affine_grid, grid_sample                    # ops/spatial.py
from .ops.matmul import linear                                       # ops/matmul.py
from .ops.encoding import one_hot                                    # ops/encoding.py
from .ops.activation import (selu, celu, hardtanh, relu6, hardsigmoid,  # ops/activation.py
                             hardswish, logsigmoid, mish, softsign, softmin, normalize,
                             threshold)
from .ops.attention import scaled_dot_product_attention           # ops/attention.py
from .ops.losses import (cross_entropy, nll_loss, binary_cross_entropy,  # ops/losses.py
                     binary_cross_entropy_with_logits, mse_loss, l1_loss,
                     smooth_l1_loss, huber_loss, kl_div)

__all__ = list(_core_ops) + [
    "dropout", "dropout2d", "dropout1d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout",
    "conv2d", "conv_transpose2d", "conv2d_weight", "conv1d",
    "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
    "max_unpool2d",
    "batch_norm", "layer_norm", "group_norm", "instance_norm",
    "interpolate",
    "affine_grid", "grid_sample",
    "linear", "one_hot",
    "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
    "huber_loss", "kl_div",
    "selu", "celu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "mish",
    "softsign", "softmin", "normalize", "scaled_dot_product_attention", "threshold",
]


def __getattr__(name):  # a name minidl.functional does not have
    from .tensor import missing_name_message
    raise AttributeError(missing_name_message("module 'minidl.functional'", name,
                                              __all__))
