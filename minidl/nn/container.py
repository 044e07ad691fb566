"""Containers: Modules that hold other Modules.

Sequential   runs its children one after the other: Sequential(Linear, ReLU, Linear).
ModuleList   a list of Modules (registered, so their parameters are found).
ModuleDict   a dict of Modules.
Children are named by position ("0", "1", ...) or by key, so parameter names are
"0.weight", "layers.2.bias", "heads.cls.weight" -- exactly PyTorch's.
"""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


def _index(i: int, n: int, owner: str) -> int:
    """A position in range(n), allowing negative indices."""
    if not -n <= i < n:
        raise IndexError(f"{owner}: index {i} is out of range for {n} modules")
    return i % n


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children named "0", "1", ... in order."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return list(self._modules.values())[_index(idx, len(self), self._get_name())]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(idx, len(self), self._get_name())), module)

    def __delitem__(self, idx) -> None:
        keep = list(self._modules.values())
        del keep[idx]
        self._renumber(keep)

    def _renumber(self, modules) -> None:
        self._modules.clear()
        for m in modules:
            self.append(m)

    def append(self, module: Module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def __iadd__(self, modules):
        return self.extend(modules)


class Sequential(_ModuleSequence):
    """Sequential(*modules) or Sequential(OrderedDict(name=module, ...)).

    forward(x) = last(...second(first(x)))."""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            super().__init__()
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            super().__init__(args)

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # keep the children's names, as PyTorch does
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """ModuleList(modules=None): index it, iterate it, append to it. It has no
    forward: you decide in your own forward how to use the modules."""

    def __init__(self, modules=None):
        super().__init__(modules or ())


class ModuleDict(Module):
    """ModuleDict(modules=None): a dict of named Modules, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()
