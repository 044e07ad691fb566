"""minidl.optim: optimizers, learning-rate schedules and gradient clipping (torch.optim).

Read optimizer.py first (param groups, state, step, state_dict), then one optimizer:
sgd.py, adam.py (Adam, AdamW), rmsprop.py, adagrad.py. lr_scheduler.py changes the learning rate
over time; clip_grad.py limits gradients before a step.
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from . import lr_scheduler
from .clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler",
           "clip_grad_norm_", "clip_grad_value_"]
