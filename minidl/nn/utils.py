"""minidl.nn.utils: gradient clipping under its PyTorch name (torch.nn.utils).

The code lives in minidl/optim/clip_grad.py, next to the optimizers it serves.
"""
from ..optim.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
