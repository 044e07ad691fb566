"""Optimizer: the base class of SGD, Adam, AdamW, RMSprop and Adagrad.

An optimizer keeps the parameters in *param groups*: dicts holding a list of tensors
under 'params' plus that group's options ('lr', 'momentum', ...), so one model can train
its parts with different settings. It also keeps a per-parameter `state` dict (momentum
buffers, moving averages), keyed by the parameter tensor itself.

`step()` visits every parameter that has a gradient and calls the subclass's
`_update(param, grad, state, group)`, which changes the parameter's numpy array in place
with the textbook formula -- no graph is recorded, the dtype never changes.
`state_dict()` / `load_state_dict()` save and restore groups and state with parameters
named by their position (0, 1, 2, ... over all groups), exactly as torch.optim does.
"""
from __future__ import annotations

import copy
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..kernels import JIT
from ..tensor import Tensor, _FLOATS
from ..tools.trace import span


class Optimizer:
    """Base class: Optimizer(params, defaults, fused=None).

    params: an iterable of tensors, of (name, tensor) pairs, or of dicts (param groups
    with per-group options). defaults: every option with its default value; a group
    that does not set an option gets the default. fused: run the update as one compiled
    loop per parameter where the optimizer has one (None: whenever the kernels are
    compiled; False: always the numpy formula; see `fusable`).
    """

    def __init__(self, params, defaults: dict, fused=None):
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or "
                            "dicts (e.g. model.parameters()), got a single Tensor")
        if isinstance(params, set):
            raise TypeError(f"{self._name}: parameters must be in an ordered collection "
                            "(a list), not a set, so that state_dict positions are stable")
        self.defaults = defaults
        self.fused = fused
        self.state: defaultdict = defaultdict(dict)  # param tensor -> its state dict
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------------ param groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own options) to the optimizer."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        group = param_group  # (kept as the same dict, as in PyTorch)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError(f"{self._name}: the params of a group must be a list, not a "
                            "set, so that state_dict positions are stable")
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and all(isinstance(p, tuple) for p in params):  # named_parameters()
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            self._check_param(p, f"parameter {i} of group {len(self.param_groups)}")
        group["params"] = params

        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)

        seen = set()
        for g in self.param_groups:
            seen.update(g["params"])
        for p in params:
            if p in seen:
                raise ValueError(f"{self._name}: a parameter (shape {p.shape}) appears "
                                 "twice; give each parameter to one group only, once")
            seen.add(p)
        self.param_groups.append(group)

    def _check_param(self, p, where: str) -> None:
        if not isinstance(p, Tensor):
            raise TypeError(f"{self._name}: can only optimize Tensors, but {where} is a "
                            f"{type(p).__name__}")
        if p.dtype not in _FLOATS:
            raise TypeError(f"{self._name}: can only optimize float32/float64 tensors, "
                            f"but {where} has dtype {p.dtype}")
        if not p.is_leaf:
            raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor ({where} "
                             "was computed by an op); optimize the leaves it came from")

    def _check_group(self, group: dict) -> None:
        """Subclasses raise ValueError here for invalid options (negative lr, ...)."""

    def _require(self, ok: bool, message: str) -> None:
        if not ok:
            raise ValueError(f"{self._name}: {message}")

    # ------------------------------------------------------------------ training step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget all gradients: set .grad to None (default) or fill it with zeros."""
        clear_grads((p for group in self.param_groups for p in group["params"]),
                    set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure()'s loss, if given.

        closure: a function that clears the gradients, recomputes the loss, calls
        backward and returns the loss (some optimizers evaluate it several times).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with span(f"{self._name}.step", "optimizer"):  # a row in minidl.trace()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:  # not used in this forward pass: leave it alone
                        continue
                    if p.grad.shape != p.shape:
                        raise ValueError(f"{self._name}.step: a parameter of shape "
                                         f"{p.shape} has a gradient of shape "
                                         f"{p.grad.shape}")
                    self._update(p._data, p.grad._data, self.state[p], group)
                    p._bump_version()
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict):
        """Change `param` in place from `grad`; `state` is this parameter's state."""
        raise NotImplementedError(f"{self._name} must implement _update")

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict:
        """The optimizer's state as {'state': {position: {name: value}},
        'param_groups': [{option: value, ..., 'params': [positions]}]}.

        Arrays are copied, so the dict stays as it is while training goes on.
        """
        position = {}  # param tensor -> its position over all groups
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [position.setdefault(p, len(position))
                                for p in group["params"]]
            groups.append(packed)
        state = {position[p]: {k: _copy_value(v) for k, v in s.items()}
                 for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore groups and state saved by state_dict() (into the same-shaped model)."""
        where = f"{self._name}.load_state_dict"
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state dict has {len(saved_groups)} parameter "
                             f"groups, but the optimizer has {len(self.param_groups)}")
        by_position = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{where}: group {i} has {len(saved['params'])} "
                                 f"parameters in the state dict, but "
                                 f"{len(group['params'])} in the optimizer")
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(f"{where}: group {i} of the state dict lacks the options "
                                 f"{missing}; was it saved from another optimizer type?")
            by_position.update(zip(saved["params"], group["params"]))

        state = defaultdict(dict)
        for position, saved_state in state_dict["state"].items():
            if position not in by_position:
                raise ValueError(f"{where}: the state dict has state for parameter "
                                 f"{position}, which is in none of its groups")
            p = by_position[position]
            state[p] = {key: _load_value(value, p, key, f"{where}: parameter {position}")
                        for key, value in saved_state.items()}
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            options = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            groups.append({**options, "params": group["params"]})
        self.state, self.param_groups = state, groups

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items())
                      if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])


# ---------------------------------------------------------------------- helpers
def clear_grads(params, set_to_none: bool = True) -> None:
    """Optimizer.zero_grad and Module.zero_grad: each tensor's .grad becomes None (the
    default, as in PyTorch: the next backward allocates it afresh) or is zeroed in
    place (cut from its graph first if it came from a create_graph backward)."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
            continue
        if p.grad.grad_fn is not None:
            p.grad = p.grad.detach()
        p.grad._data[...] = 0
        p.grad._bump_version()


def regularized_grad(grad: np.ndarray, param: np.ndarray, weight_decay: float,
                     maximize: bool) -> np.ndarray:
    """The gradient an update follows: g = (-grad if maximize else grad) + wd * param.

    (L2 weight decay adds wd * param, the gradient of wd/2 * ||param||^2.) Returns
    `grad` itself when there is nothing to add -- callers must not write into it.
    """
    g = np.negative(grad) if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param  # a Python float keeps float32 arrays float32
    return g


def fusable(fused, *arrays: np.ndarray) -> bool:
    """Whether an update may run as a fused kernel: not turned off (fused=False), the
    kernels compiled (else the loop would run as slow Python) unless fused=True asks for
    it anyway, and the arrays it updates flat-able views of one dtype."""
    if fused is False or (fused is None and not JIT):
        return False
    return (len({a.dtype for a in arrays}) == 1
            and all(a.flags.c_contiguous for a in arrays))


def new_step_count() -> Tensor:
    """The 'step' entry of a parameter's state: a 0-d float32 tensor, as in PyTorch."""
    return Tensor(np.zeros((), dtype=np.float32))


def count_step(state: dict) -> int:
    """state['step'] += 1, in place; returns the new step number t (1 on the first)."""
    state["step"]._data += 1
    return int(state["step"]._data)


def zeros_state(param: np.ndarray) -> Tensor:
    """A state buffer (moving average, momentum) shaped and typed like the parameter."""
    return Tensor(np.zeros_like(param))


def _copy_value(value):
    return Tensor(value._data.copy()) if isinstance(value, Tensor) else copy.deepcopy(value)


def _load_value(value, param: Tensor, key: str, where: str):
    """A saved state entry (Tensor, numpy array or number) as this optimizer keeps it."""
    if key == "step":
        return Tensor(np.array(np.asarray(value), dtype=np.float32))
    if isinstance(value, (Tensor, np.ndarray)):
        array = np.asarray(value)
        if array.shape != param.shape:
            raise ValueError(f"{where}: state '{key}' has shape {array.shape}, but the "
                             f"parameter has shape {param.shape}")
        return Tensor(np.array(array, dtype=param.dtype))  # a private copy
    return copy.deepcopy(value)
