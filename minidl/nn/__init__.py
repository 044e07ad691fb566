"""minidl.nn: layers as Modules (PyTorch's torch.nn).

  parameter.py   Parameter, the Tensor a Module learns
  module.py      Module: registration, hooks, train/eval, state_dict, repr
  hooks.py       hook handles, full backward hooks, capture_activations
  linear.py      Linear
  conv.py        Conv1d, Conv2d, ConvTranspose2d
  pooling.py     MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d
  batchnorm.py   BatchNorm1d, BatchNorm2d
  syncbatchnorm.py SyncBatchNorm: batch statistics over every rank (data parallel)
  instancenorm.py  InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
  normalization.py LayerNorm, GroupNorm
  attention.py   MultiheadAttention
  upsample.py    Upsample
  container.py   Sequential, ModuleList, ModuleDict
  activation.py  ReLU, Sigmoid, Softmax, ... (Modules around minidl.functional)
  dropout.py     Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, ...
  flatten.py     Flatten, Unflatten, Identity
  loss.py        CrossEntropyLoss, MSELoss, ...
  init.py        weight initialisation (nn.init.kaiming_uniform_, ...)
  summary.py     Module.summary's table
  utils.py       clip_grad_norm_, clip_grad_value_
  parallel.py    DistributedDataParallel (nn.parallel), over minidl.distributed
"""
from .parameter import Parameter
from .module import Module
from .hooks import RemovableHandle, capture_activations
from .linear import Linear
from .conv import Conv2d, ConvTranspose2d
from .conv import Conv1d
from .container import Sequential, ModuleList, ModuleDict
from .activation import (ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softplus, GELU, SiLU,
                         Softmax, LogSoftmax)
from .activation import (SELU, CELU, Hardtanh, ReLU6, Hardsigmoid, Hardswish, LogSigmoid,
                         Mish, Softsign, Softmin, Threshold)
from .dropout import Dropout, Dropout2d
from .dropout import Dropout1d, Dropout3d, AlphaDropout, FeatureAlphaDropout
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
from .pooling import AdaptiveMaxPool2d, MaxUnpool2d
from .batchnorm import BatchNorm1d, BatchNorm2d
from .syncbatchnorm import SyncBatchNorm
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .normalization import LayerNorm, GroupNorm
from .attention import MultiheadAttention
from .upsample import Upsample
from .flatten import Identity, Flatten, Unflatten
from .loss import (CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss,
                   L1Loss)
from .loss import SmoothL1Loss, HuberLoss, KLDivLoss
from . import init
from .. import functional  # noqa: F401  (minidl.nn.functional, as torch.nn.functional)
from . import utils
from . import parallel
