"""Weight averaging: a model whose weights are a running average of another's.

Training jitters the weights around a good solution -- a GAN's generator especially,
since its target (fooling the current discriminator) moves every step. Averaging
the weights over the last steps lands nearer the middle of that jitter:

    exponential moving average (EMA):  avg <- decay * avg + (1 - decay) * w
    equal-weight running mean (SWA):   avg <- avg + (w - avg) / (n + 1)

(Izmailov et al. 2018 for SWA; Yazici et al. 2019 on averaging GAN generators.)
The averaged copy is only for evaluation and sampling; training keeps updating the
original. As torch.optim.swa_utils:

    ema = AveragedModel(model, avg_fn=get_ema_avg_fn(0.999), use_buffers=True)
    for ...:
        optimizer.step()
        ema.update_parameters(model)
    ema(x)  # or ema.module(x)
"""
from __future__ import annotations

import copy

import numpy as np

from ..autograd import no_grad
from ..creation import tensor
from ..nn.module import Module  # (not `from .. import nn`: nn imports optim)


def get_ema_avg_fn(decay: float = 0.999):
    """avg_fn for AveragedModel: the exponential moving average with this decay."""
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"get_ema_avg_fn: decay must be in [0, 1], got {decay!r}")

    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current
    return ema_update


def _running_mean(averaged, current, num_averaged):
    return averaged + (current - averaged) / (num_averaged + 1)


class AveragedModel(Module):
    """AveragedModel(model, avg_fn=None, use_buffers=False): a deep copy of `model`
    (in .module) whose parameters update_parameters() averages with the model's.

    avg_fn(averaged, current, num_averaged) -> new average, on numpy arrays; default
    the equal-weight running mean (SWA); get_ema_avg_fn(decay) gives an EMA. The first
    update copies the model's weights. use_buffers=True averages the floating-point
    buffers too (e.g. batch norm's running statistics); otherwise buffers are copied
    from the model at every update. Integer buffers (num_batches_tracked) are always
    copied. The state_dict holds module.* and n_averaged, as in PyTorch."""

    def __init__(self, model: Module, avg_fn=None, use_buffers: bool = False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected an nn.Module, got "
                            f"{type(model).__name__}")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn if avg_fn is not None else _running_mean
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model, buffers: bool):
        """(averaged tensor, model tensor) pairs: parameters, or buffers."""
        mine = self.module.buffers() if buffers else self.module.parameters()
        theirs = model.buffers() if buffers else model.parameters()
        mine, theirs = list(mine), list(theirs)
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: the model has "
                             f"{len(theirs)} {'buffers' if buffers else 'parameters'}, "
                             f"the average {len(mine)}: not the same architecture")
        return zip(mine, theirs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Fold the model's current weights into the average."""
        n = int(self.n_averaged.item())
        pairs = list(self._pairs(model, buffers=False))
        copied = list(self._pairs(model, buffers=True))
        if self.use_buffers:  # float buffers are averaged like parameters
            pairs += [(a, b) for a, b in copied if a.dtype.kind == "f"]
            copied = [(a, b) for a, b in copied if a.dtype.kind != "f"]
        for averaged, current in pairs:
            if averaged.shape != current.shape:
                raise ValueError(f"AveragedModel.update_parameters: shapes differ, "
                                 f"{averaged.shape} (average) vs {current.shape} (model)")
            new = current._data if n == 0 else self.avg_fn(averaged._data,
                                                           current._data, n)
            averaged._data[...] = new
            averaged._bump_version()
        for averaged, current in copied:
            averaged._data[...] = current._data
            averaged._bump_version()
        self.n_averaged._data[...] = n + 1
