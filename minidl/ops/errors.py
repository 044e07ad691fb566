"""Exception classes of the ops that PyTorch reports as RuntimeError.

minidl's own classes subclass both the Python class a reader expects (ValueError,
ZeroDivisionError, IndexError) and RuntimeError, so that code written for PyTorch
(`except RuntimeError`) catches them too. (Shape errors: minidl.ShapeError, tensor.py.)
"""


class ArgumentError(ValueError, RuntimeError):
    """An argument value the op does not accept: an unknown mode, k out of range."""


class ZeroDivision(ZeroDivisionError, RuntimeError):
    """Integer division by zero (floats give inf or NaN instead)."""


class IndexOutOfRange(IndexError, RuntimeError):
    """An index tensor holds a position outside the dimension it indexes."""
