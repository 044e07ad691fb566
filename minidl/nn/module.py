"""Module: the base class of every layer and model (PyTorch's torch.nn.Module).

A Module is a tree. Assigning an attribute registers it by its type:
  * a Parameter   -> self._parameters  (learned; returned by parameters())
  * a Module      -> self._modules     (a child; its parameters are ours too)
  * register_buffer(name, tensor) -> self._buffers (state that is not learned,
    such as BatchNorm's running mean; saved in the state_dict unless persistent=False)
All three are ordered dicts, so names come out in the order you assigned them, and a
parameter's full name is the path to it: "features.0.weight".

Calling a module, `module(x)`, runs forward pre-hooks, `forward(x)`, then forward hooks;
full backward hooks see the gradients of its inputs and outputs (hooks.py).
"""
from __future__ import annotations

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd import no_grad, is_grad_enabled
from ..optim.optimizer import clear_grads
from ..tensor import Tensor, ShapeError, float32, float64, _FLOATS, parse_to_args
from ..handle import RemovableHandle
from .hooks import BackwardHookCall
from .parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for all layers: subclass it, build children in __init__ (after
    calling super().__init__()), and compute the output in forward()."""

    training: bool

    def __init__(self):
        # object.__setattr__ skips our own __setattr__, which needs these dicts to exist
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() "
                                     "call")
            self.__dict__.pop(name, None)  # a plain attribute may become a parameter
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign a submodule before Module.__init__() "
                                     "call")
            self.__dict__.pop(name, None)
            self.add_module(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter "
                                f"'{name}' of {type(self).__name__} (a Parameter or None "
                                "is required)")
            params[name] = None
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"'{name}' of {type(self).__name__} (a Module or None is "
                                "required)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer "
                                f"'{name}' of {type(self).__name__} (a Tensor or None is "
                                "required)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove `name` from every registry but `keep` (where it is about to be stored,
        keeping its place in the order, as PyTorch does)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):  # called only when normal lookup fails
        for registry in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_new_name(self, name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")
        if name in self.__dict__ and not any(
                name in r for r in (self._parameters, self._buffers, self._modules)):
            raise KeyError(f"attribute '{name}' already exists on "
                           f"{type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameters before Module.__init__() call")
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} object to parameter "
                            f"'{name}' (minidl.nn.Parameter or None required)")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None,
                        persistent: bool = True) -> None:
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} object to buffer "
                            f"'{name}' (a Tensor or None required)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            backward_hooks = BackwardHookCall(self)
            args = backward_hooks.setup_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hooks is not None:
            output = backward_hooks.setup_output(output)
        return output

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """hook(module, args) -> None or new args; runs before forward."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> RemovableHandle:
        """hook(module, args, output) -> None or a new output; runs after forward."""
        return self._add_hook(self._forward_hooks, hook)

    def register_full_backward_pre_hook(self, hook) -> RemovableHandle:
        """hook(module, grad_output) -> None or a new grad_output (a tuple).

        Runs during backward once the gradients w.r.t. the module's outputs are known,
        before they go into the module. grad_output has one entry per output."""
        return self._add_hook(self._backward_pre_hooks, hook)

    def register_full_backward_hook(self, hook) -> RemovableHandle:
        """hook(module, grad_input, grad_output) -> None or a new grad_input (a tuple).

        Runs once per backward pass, when the gradients w.r.t. all of the module's
        positional inputs are known. grad_input has one entry per positional argument
        (None for one that is not a Tensor requiring grad), grad_output one per output.
        The rules are PyTorch's; see hooks.BackwardHookCall.
        """
        return self._add_hook(self._backward_hooks, hook)

    _add_hook = staticmethod(RemovableHandle.add)

    # ------------------------------------------------------------------ walking the tree
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield (name, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(
                    memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """(full name, tensor) from one registry of self (and descendants if recurse)."""
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_prefix, module in owners:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield owner_prefix + ("." if owner_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """Yield (name, Parameter); a parameter shared by two layers is given once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path, e.g. model.get_submodule("features.0")."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule "
                                     f"'{part}' (looking up '{target}')")
            module = module._modules[part]
        return module

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on self
        and every descendant; eval() is train(False)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter, as Optimizer.zero_grad does."""
        clear_grads(self.parameters(), set_to_none)

    def apply(self, fn) -> Module:
        """Call fn(m) on every child (recursively), then on self, e.g. for custom init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def to(self, *args, dtype=None, **kwargs) -> Module:
        """Cast floating parameters and buffers in place: model.to(minidl.float64).

        A device ("cpu") is accepted and ignored: minidl runs on the CPU only."""
        dtype = parse_to_args("to", args, dtype, kwargs.get("device"))
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype not in _FLOATS:
            raise TypeError(f"to: a module can only be cast to float32 or float64, got "
                            f"{dtype}")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype in _FLOATS and t.dtype != dtype:
                t._data = t._data.astype(dtype)
                t._bump_version()
                if t.grad is not None:
                    t.grad = Tensor(t.grad._data.astype(dtype))
        return self

    def float(self) -> Module:
        return self.to(float32)

    def double(self) -> Module:
        return self.to(float64)

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ state_dict
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict name -> Tensor of every parameter and persistent buffer,
        with PyTorch's names ("0.weight", "bn.running_mean"). The tensors share memory
        with the model (detached unless keep_vars=True): copy before you change them."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own entries (no children); layers may override to add more."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values from state_dict into this model's parameters and buffers, in
        place (so an optimizer holding them keeps working). Values may be Tensors or
        numpy arrays; they are cast to each parameter's dtype.

        strict=True: missing or unexpected keys raise a RuntimeError listing them.
        A shape mismatch always raises. Returns (missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a value of shape "
                              f"{value.shape} from the state_dict, but the shape in the "
                              f"current model is {target.shape}")
        name = type(self).__name__
        if errors:
            raise ShapeError(f"Error(s) in loading state_dict for {name}:\n\t"
                             + "\n\t".join(errors))
        if strict and (missing or unexpected):
            lines = []
            if missing:
                lines.append("Missing key(s) in state_dict: "
                             + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                lines.append("Unexpected key(s) in state_dict: "
                             + ", ".join(f'"{k}"' for k in unexpected) + ".")
            raise RuntimeError(f"Error(s) in loading state_dict for {name}:\n\t"
                               + "\n\t".join(lines))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    value = value.detach().numpy() if isinstance(value, Tensor) else value
                    target._data[...] = np.asarray(value, dtype=target.dtype)
                    target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this layer's parentheses, e.g. "in_features=3, ..."."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{self._get_name()}()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters)
                      | set(self._buffers) | set(self._modules))

    def summary(self, input_shape, dtype=float32) -> str:
        """A Keras-style table of layers, output shapes and parameter counts.

        input_shape is the shape of the input, e.g. (1, 784) or (1, 1, 28, 28); when
        the model rejects it, a batch dimension of 1 is put in front, so the shape of
        one sample, (784,) or (1, 28, 28), works too. Runs one forward pass on zeros
        (in eval mode, without recording a graph) and records each layer's output
        shape with forward hooks. Returns the table and prints it.
        """
        from .summary import summarize
        text = summarize(self, input_shape, dtype)
        print(text)
        return text
