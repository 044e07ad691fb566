"""device: where a tensor's memory lives. minidl runs on the CPU only.

PyTorch code names devices everywhere (`x.to(device)`, `zeros(3, device="cpu")`,
`x.device == torch.device("cpu")`), so minidl has the same small object: it prints,
compares and hashes like torch.device, and every op that takes a device accepts the
CPU and refuses anything else with a clear error.
"""
from __future__ import annotations

from .errors import DeviceError

KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia", "hpu")


class device:  # noqa: N801  (PyTorch's name)
    """device("cpu"), device("cpu:0"), device("cpu", 0) or device(another_device)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu', got "
                            f"{type.__class__.__name__}")
        if ":" in type:
            if index is not None:
                raise DeviceError(f"device: type {type!r} already has an index")
            type, _, number = type.partition(":")
            if not number.isdigit():
                raise DeviceError(f"device: invalid device string {type}:{number}")
            index = int(number)
        if type not in KNOWN_TYPES:
            raise DeviceError(f"device: expected one of {', '.join(KNOWN_TYPES)} at the "
                              f"start of the device string, got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise DeviceError(f"device: index must be a non-negative int, got {index!r}")
        self.type, self.index = type, index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(op: str, where) -> None:
    """Accept None and the CPU (as a string or a device); refuse any other device."""
    if where is None:
        return
    if not isinstance(where, (str, device)):
        raise TypeError(f"{op}: device must be a string or minidl.device, got "
                        f"{type(where).__name__}")
    if device(where).type != "cpu":
        raise DeviceError(f"{op}: minidl runs on the CPU only, got device {str(where)!r}")
