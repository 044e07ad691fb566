"""minidl.functional: every op as a function, PyTorch's torch.nn.functional in one place.

This file only gathers names; each op lives (with its derivative) in the file named
in its import line below.
"""
from .ops import *  # noqa: F401,F403  (activations, softmax, pad, ... from minidl/ops)
from .ops import __all__ as _ops_all

__all__ = list(_ops_all)

from .ops.dropout import dropout, dropout2d  # noqa: E402  (ops/dropout.py)
__all__ += ["dropout", "dropout2d"]

from .losses import (cross_entropy, nll_loss, binary_cross_entropy,  # noqa: E402
                     binary_cross_entropy_with_logits, mse_loss, l1_loss,
                     smooth_l1_loss, huber_loss, kl_div)  # (losses.py)
__all__ += ["cross_entropy", "nll_loss", "binary_cross_entropy",
            "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss",
            "huber_loss", "kl_div"]

from .ops.conv import conv2d, conv_transpose2d, conv2d_weight  # noqa: E402  (ops/conv.py)
__all__ += ["conv2d", "conv_transpose2d", "conv2d_weight"]

from .ops.pooling import (max_pool2d, avg_pool2d,  # noqa: E402  (ops/pooling.py)
                          adaptive_avg_pool2d)
from .ops.normalization import batch_norm, layer_norm  # noqa: E402  (normalization.py)
from .ops.upsample import interpolate  # noqa: E402  (ops/upsample.py)
__all__ += ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm",
            "interpolate"]
