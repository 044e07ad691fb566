"""Registry entries for dropout (minidl/ops/dropout.py) and the nodes behind
Module backward hooks (minidl/nn/hooks.py). See registry.py for the format.

Dropout is random, so each fn reseeds before calling: gradcheck evaluates fn many
times and needs the same mask every time.
"""
import warnings

import minidl as md
import minidl.functional as F
from registry import register


def _normal(*shape):
    return lambda rng: (rng.standard_normal(shape),)


def _quiet(op):
    """op without its warnings (dropout2d warns about 3-D input, as PyTorch does)."""
    def fn(x, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return op(x, **kw)
    return fn


def _seeded(op, **kw):
    def fn(x):
        md.manual_seed(0)
        return op(x, **kw)
    return fn


register("dropout", _seeded(F.dropout, p=0.4), _normal(3, 5))
register("dropout", _seeded(F.dropout, p=0.5), _normal(2, 2, 3))
register("dropout2d", _seeded(F.dropout2d, p=0.5), _normal(2, 3, 2, 2))
register("dropout2d", _seeded(_quiet(F.dropout2d), p=0.3), _normal(4, 2, 3))  # (N, C, L)
register("dropout1d", _seeded(F.dropout1d, p=0.5), _normal(2, 3, 4))
register("dropout1d", _seeded(F.dropout1d, p=0.5), _normal(3, 4))
register("dropout3d", _seeded(F.dropout3d, p=0.5), _normal(2, 3, 2, 1, 2))
register("dropout3d", _seeded(F.dropout3d, p=0.3), _normal(3, 2, 1, 2))
register("alpha_dropout", _seeded(F.alpha_dropout, p=0.3, training=True), _normal(3, 4))
register("feature_alpha_dropout", _seeded(F.feature_alpha_dropout, p=0.5, training=True),
         _normal(4, 3, 2))
register("dropout", _seeded(lambda x: F.dropout(x * 1, 0.5, inplace=True)),
         _normal(3, 4), note="inplace=True: the edit recorded in the graph")


def _linear_with_backward_hook(x):
    md.manual_seed(0)
    layer = md.nn.Linear(3, 2, dtype=md.float64)
    layer.register_full_backward_hook(lambda m, gin, gout: None)
    return layer(x)


register("module_backward_hook", _linear_with_backward_hook, _normal(4, 3),
         note="Join/Split: the nodes Module.register_full_backward_hook inserts")
