"""minidl's exception classes, and which built-in classes each one also is.

PyTorch raises RuntimeError for most bad input (shapes that do not fit, dtypes an op
cannot take, values outside an op's domain); Python code usually expects ValueError or
TypeError. Each class here is both, so code written either way catches it:

  ShapeError              ValueError + RuntimeError    shapes or geometry that do not fit
  DTypeError              TypeError + RuntimeError     a dtype the op cannot take
  NotImplementedForDType  DTypeError + NotImplementedError   no kernel for that dtype
                          (PyTorch's "not implemented for 'Float'")
  DataError               DTypeError + ValueError      data no tensor can hold (strings,
                          objects, ragged nested lists)
  ArgumentError           ValueError + RuntimeError    an argument the op cannot take
                          (a probability outside [0, 1], a step of 0, an unknown mode)
  ZeroDivision            ZeroDivisionError + RuntimeError   integer division by zero
  IndexOutOfRange         IndexError + RuntimeError    an index tensor pointing outside
                          the dimension it indexes
  DeviceError             ValueError + RuntimeError    a device other than the CPU
"""


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit the op (a ValueError, and a RuntimeError as in PyTorch)."""


class DTypeError(TypeError, RuntimeError):
    """A dtype the op cannot take (a TypeError, and a RuntimeError as in PyTorch)."""


class NotImplementedForDType(DTypeError, NotImplementedError):
    """An op PyTorch has no kernel for at this dtype (bitwise ops on floats, abs of
    bool): a NotImplementedError there, so one here too."""


class DataError(DTypeError, ValueError):
    """Data no tensor can hold: strings, objects, ragged nested lists."""


class ArgumentError(ValueError, RuntimeError):
    """An argument value the op cannot take, e.g. a probability outside [0, 1]."""


class ZeroDivision(ZeroDivisionError, RuntimeError):
    """Integer division by zero (floats give inf or NaN instead)."""


class IndexOutOfRange(IndexError, RuntimeError):
    """An index tensor holds a position outside the dimension it indexes."""


class DeviceError(ValueError, RuntimeError):
    """A device minidl cannot use (a ValueError, and a RuntimeError as in PyTorch)."""
