"""Registry entries for adaptive_max_pool2d and max_unpool2d (minidl/ops/pooling.py):
several output sizes, unbatched input, return_indices, unpooling with the indices of a
max_pool2d (fixed inside fn) and an output_size (registry.py has the format)."""
import numpy as np

import minidl as md
import minidl.functional as F
from registry import register
from registry_pooling import distinct

for shape, size in [((1, 2, 5, 4), (2, 3)), ((2, 1, 4, 4), 3), ((1, 1, 7, 3), (None, 2)),
                    ((2, 5, 6), 2)]:
    register("adaptive_max_pool2d", lambda x, s=size: F.adaptive_max_pool2d(x, s),
             distinct(*shape))
register("adaptive_max_pool2d",
         lambda x: F.adaptive_max_pool2d(x, (3, 2), return_indices=True)[0],
         distinct(1, 1, 5, 5), note="return_indices")


def _indices(shape, **kw):
    """max_pool2d indices of a random (tie-free) input: no index repeats."""
    x = md.tensor(np.random.default_rng(5).permutation(int(np.prod(shape))).reshape(shape)
                  .astype(np.float64))
    return F.max_pool2d(x, return_indices=True, **kw)[1]


I1 = _indices((2, 2, 4, 6), kernel_size=2)
I2 = _indices((1, 2, 7, 5), kernel_size=3, stride=3, padding=1)
I3 = _indices((3, 5, 5), kernel_size=2)
register("max_unpool2d", lambda x: F.max_unpool2d(x, I1, 2), lambda r: (
    r.standard_normal(I1.shape),))
register("max_unpool2d", lambda x: F.max_unpool2d(x, I2, 3, 3, 1, output_size=(7, 5)),
         lambda r: (r.standard_normal(I2.shape),))
register("max_unpool2d", lambda x: F.max_unpool2d(x, I3, (2, 2), output_size=(3, 5, 5)),
         lambda r: (r.standard_normal(I3.shape),))
