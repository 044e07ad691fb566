"""Parameter: a Tensor that a Module learns.

Assigning a Parameter to a Module attribute (`self.weight = Parameter(...)`) registers
it, so `module.parameters()` finds it and an optimizer can update it. Apart from that
it is an ordinary Tensor, with requires_grad=True by default.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, float32


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True): shares memory with `data`."""

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=float32)
        super().__init__(data)
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
