"""Registry entries for pad's modes (minidl/ops/shape.py): constant with cropping
(negative widths), reflect, replicate and circular on 1, 2 and 3 padded dims, with
crops mixed in (registry.py has the format)."""
from minidl.ops.shape import pad
from registry import register, normal

for shape, widths in [((2, 3), (-1, 2)), ((2, 4, 3), (1, -1, -2, 1)),
                      ((1, 2, 3, 2), (0, 1, -1, 0, 1, 1, 0, 0))]:
    register("pad", lambda x, w=widths: pad(x, w), normal(*shape))
register("pad", lambda x: pad(x, (2, -1), value=0.5), normal(2, 4))

for mode in ("reflect", "replicate", "circular"):
    for shape, widths in [((2, 5), (2, 1)), ((1, 2, 4), (-1, 3)),
                          ((2, 3, 4), (1, 2, 2, 0)), ((1, 2, 3, 4), (-1, 2, 1, -1)),
                          ((2, 3, 3, 3), (1, 0, 2, 1, 0, 2)),
                          ((1, 1, 3, 3, 4), (1, 1, 0, 1, 2, 0))]:
        register("pad", lambda x, w=widths, m=mode: pad(x, w, mode=m), normal(*shape))
