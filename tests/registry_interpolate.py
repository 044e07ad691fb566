"""Registry entries for interpolate's linear modes (minidl/ops/upsample.py): bilinear
up- and downsampling with align_corners both ways, scale_factor and size, and linear
on 3-D input (registry.py has the format)."""
import minidl.functional as F
from registry import register, normal

for shape, kw in [((1, 2, 3, 4), dict(scale_factor=2)),
                  ((2, 1, 4, 3), dict(size=(5, 2), align_corners=True)),
                  ((1, 1, 5, 6), dict(scale_factor=(0.6, 1.5))),
                  ((1, 2, 3, 3), dict(scale_factor=1.7, align_corners=True)),
                  ((1, 1, 4, 4), dict(size=1)),
                  ((2, 1, 3, 4), dict(scale_factor=(1.5, 0.5), recompute_scale_factor=True))]:
    register("interpolate", lambda x, kw=kw: F.interpolate(x, mode="bilinear", **kw),
             normal(*shape))
register("interpolate", lambda x: F.interpolate(x, scale_factor=2.5, mode="linear"),
         normal(2, 2, 3))
register("interpolate", lambda x: F.interpolate(x, size=4, mode="linear",
                                                align_corners=True), normal(1, 1, 6))
