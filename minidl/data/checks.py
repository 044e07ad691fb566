"""Checking what user code hands the data pipeline: transforms and examples.

A transform that raises, returns None, or returns an image of another shape than
its neighbours would otherwise surface far away -- as a numpy error inside
np.stack, or a None in a batch. These helpers call the user's function and say
which function, which example (its index in the dataset) and what it returned.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def describe(fn) -> str:
    """A callable's name, with its file and line when it has them (lambdas!)."""
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    name = name.rsplit("<locals>.", 1)[-1]   # "train.<locals>.crop" -> "crop"
    code = getattr(fn, "__code__", None)
    if code is not None:
        name += f" ({code.co_filename.rsplit('/', 1)[-1]}, line {code.co_firstlineno})"
    return name


def call(fn, args: tuple, owner: str, where: str):
    """fn(*args); an exception it raises is re-raised with the owner ("MNIST
    transform"), the function and `where` ("item 7") in its message -- as the same
    exception type when possible (as PyTorch's DataLoader re-raises), else
    RuntimeError."""
    try:
        result = fn(*args)
    except Exception as error:
        message = (f"{owner} {describe(fn)} raised on {where}: "
                   f"{type(error).__name__}: {error}")
        try:
            wrapped = type(error)(message)
        except Exception:
            wrapped = RuntimeError(message)
        raise wrapped from error
    if result is None:
        raise TypeError(f"{owner} {describe(fn)} returned None for {where}; it must "
                        "return the transformed value (did it forget `return`?)")
    return result


def as_array(value, owner: str, where: str) -> np.ndarray:
    """A transform's or dataset's output as a numeric numpy array, or a clear error."""
    if isinstance(value, Tensor):
        value = value.detach().numpy()
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner} gave {type(value).__name__} of dtype {array.dtype} "
                        f"for {where}; expected numbers, an array or a Tensor")
    return array


def same_shapes(arrays, indices, owner: str) -> None:
    """Raise ValueError naming the first example whose shape differs from the first."""
    first = arrays[0].shape
    for array, index in zip(arrays, indices):
        if array.shape != first:
            raise ValueError(f"{owner}: item {index} has shape {array.shape} but item "
                             f"{indices[0]} has {first}; the examples of a batch must "
                             "all have the same shape")
