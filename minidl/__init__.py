"""minidl: a small, readable deep-learning engine on numpy and Numba.

Read in this order: tensor.py (the Tensor) -> autograd.py (Function, backward) ->
ops/ (each op with its derivative) -> functional.py (losses, layers as functions) ->
kernels/ (Numba loops) -> nn/ (Modules) -> optim/ (optimizers) -> data/ (MNIST).
"""
from .memory import keep_freed_memory
from .threads import configure_blas_threads

keep_freed_memory()  # big temporaries are reused, not page-faulted in every step
configure_blas_threads()  # BLAS on one thread; numba's kernels use the cores

from .tensor import (Tensor, float32, float64, int8, int16, int32, int64, uint8,
                     bool_)
from .errors import (ShapeError, DTypeError, NotImplementedForDType, DataError,
                     ArgumentError, ZeroDivision, IndexOutOfRange, DeviceError)
from .device import device
from .dtypes import result_type, promote_types
from .autograd import (Function, no_grad, enable_grad, set_grad_enabled,
                       is_grad_enabled, detect_anomaly, is_anomaly_enabled,
                       AnomalyError)
from . import autograd
from .random import Generator, manual_seed, initial_seed, default_generator
from .creation import (tensor, from_numpy, zeros, ones, full, empty, eye, randn, rand,
                       randint, randperm, arange, linspace, zeros_like, ones_like,
                       full_like, randn_like, rand_like)
from .ops import *  # noqa: F401,F403  (add, exp, matmul, cat, where, softmax, ...)
from . import linalg  # norms: linalg.norm, linalg.vector_norm, linalg.matrix_norm
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from .trace import trace  # profiler: `with minidl.trace() as t: ...; print(t)`
from . import nn
from .serialization import save, load
from . import optim
from . import data
from . import viz  # backward graphs: viz.graph, viz.to_dot, viz.draw_graph

__version__ = "0.1.0"


def __getattr__(name):  # a name minidl does not have: say where to look
    import importlib.util
    from .tensor import missing_name_message
    if name.startswith("_"):
        raise AttributeError(f"module 'minidl' has no attribute {name!r}")
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        raise AttributeError(f"module 'minidl' has no attribute {name!r} yet: it is a "
                             f"submodule, import it first (import minidl.{name})")
    raise AttributeError(missing_name_message("module 'minidl'", name, globals()))
