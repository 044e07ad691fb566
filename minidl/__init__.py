"""minidl: a small, readable deep-learning engine on numpy and Numba.

The folders are the layers. Read them in this order, each explained by the ones before
it (the README's "How it works" table names the same files and folders):

  1. the tensor  tensor.py (the Tensor), dtypes.py (dtypes, type promotion),
                 device.py (the CPU), errors.py (exception classes), creation.py
                 (zeros, randn, arange, ...), random.py (the seeded generator),
                 handle.py (what removes a hook)
  2. autograd    autograd.py (Function, the graph, backward), gradcheck.py
     the ops     ops/ (every op family with its derivative, losses included), named
                 by functional.py (as torch.nn.functional) and linalg.py (torch.linalg)
  3. kernels     kernels/ (Numba loops, and the threads and memory they run with)
  4. nn          nn/ (Module and the layers)
  5. optim       optim/ (optimizers, schedules, gradient clipping)
  beside them    data/ (Dataset, DataLoader, MNIST), distributed/ (data-parallel
                 training over MPI), tools/ (trace, viz, plot, save/load, atomic files),
                 course/ (learn by building: exercises graded by the op registry)
  6. models      models/ and examples/, outside the package
"""
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
from .tools.trace import trace  # profiler: `with minidl.trace() as t: ...; print(t)`
from . import nn
from .tools.serialization import save, load
from . import optim
from . import data
from . import distributed  # data-parallel training over MPI (mpi4py imported by init())
from .tools import viz  # backward graphs: viz.graph, viz.to_dot, viz.draw_graph

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
