"""Registry entries for pooling, normalization and upsampling (minidl/ops/pooling.py,
normalization.py, upsample.py) over several geometries (registry.py has the format)."""
import numpy as np

import minidl as md
import minidl.functional as F
from registry import register, normal, positive


def distinct(*shape):
    """Values 0.1 apart in random order: no ties inside a max-pool window, so finite
    differences never cross a switch of the argmax."""
    return lambda rng: (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0,)


# max_pool2d: input shape, then arguments
for shape, kw in [
    ((1, 2, 4, 4), dict(kernel_size=2)),
    ((2, 1, 5, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 1, 5, 6), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0),
                        dilation=(2, 1), ceil_mode=True)),
    ((1, 1, 6, 5), dict(kernel_size=2, stride=1, dilation=2)),
    ((1, 2, 5, 5), dict(kernel_size=2, ceil_mode=True)),
    ((2, 4, 4), dict(kernel_size=2, stride=1)),                      # unbatched
]:
    register("max_pool2d", lambda x, kw=kw: F.max_pool2d(x, **kw), distinct(*shape))
register("max_pool2d", lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
         distinct(1, 1, 4, 4), note="return_indices")

# avg_pool2d
for shape, kw in [
    ((1, 2, 4, 4), dict(kernel_size=2)),
    ((1, 1, 5, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 1, 5, 5), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((1, 1, 4, 5), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1),
                        ceil_mode=True)),
    ((1, 1, 4, 4), dict(kernel_size=2, stride=1, divisor_override=3)),
    ((2, 3, 3), dict(kernel_size=2, stride=1)),                      # unbatched
]:
    register("avg_pool2d", lambda x, kw=kw: F.avg_pool2d(x, **kw), normal(*shape))

register("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
         normal(1, 2, 5, 4))
register("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 3), normal(1, 1, 4, 4))


# batch_norm: training (batch statistics; running stats made inside, as buffers)
def _bn_train(track=True, **kw):
    def fn(x, *affine):
        c = x.shape[1]
        stats = (md.zeros(c, dtype=md.float64), md.ones(c, dtype=md.float64)) if track \
            else (None, None)
        return F.batch_norm(x, *stats, *affine, training=True, **kw)
    return fn


def _with_affine(x_shape, c):
    return lambda rng: (rng.standard_normal(x_shape), rng.standard_normal(c),
                        rng.standard_normal(c))


register("batch_norm", _bn_train(), normal(4, 3))
register("batch_norm", _bn_train(), _with_affine((3, 2), 2))
register("batch_norm", _bn_train(track=False, eps=1e-3), _with_affine((2, 2, 3), 2))
register("batch_norm", _bn_train(momentum=0.5), _with_affine((2, 2, 2, 2), 2))
register("batch_norm", _bn_train(), normal(2, 2, 2, 3))
# eval: the running statistics are inputs too (and differentiable)
register("batch_norm", lambda x, m, v: F.batch_norm(x, m, v),
         lambda rng: (rng.standard_normal((3, 2)), rng.standard_normal(2),
                      positive(rng, (2,))))
register("batch_norm", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, eps=0.1),
         lambda rng: (rng.standard_normal((2, 2, 2, 2)), rng.standard_normal(2),
                      positive(rng, (2,)), rng.standard_normal(2),
                      rng.standard_normal(2)))

# layer_norm
register("layer_norm", lambda x: F.layer_norm(x, 4), normal(3, 4))
register("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
         lambda rng: (rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3)),
                      rng.standard_normal((2, 3))))

# interpolate (nearest)
register("interpolate", lambda x: F.interpolate(x, scale_factor=2), normal(1, 2, 2, 3))
register("interpolate", lambda x: F.interpolate(x, size=(3, 5)), normal(1, 1, 4, 3))
register("interpolate", lambda x: F.interpolate(x, size=(5, 2), mode="nearest-exact"),
         normal(1, 1, 3, 3))
register("interpolate", lambda x: F.interpolate(x, scale_factor=1.5),  # 5-D input
         normal(1, 1, 3, 2, 2))
