"""Registry entries for conv1d (minidl/ops/conv.py, conv2d of a one-row image) over
its geometries: stride, padding (numbers, 'same', 'valid'), dilation, groups, bias,
unbatched input (registry.py has the format)."""
import minidl.functional as F
from registry import register
from registry_conv import _normals


def _conv1d(N, C, L, O, K, bias=True, **kw):
    """conv1d of an (N, C, L) input with an (O, C/groups, K) weight."""
    shapes = [(N, C, L), (O, C // kw.get("groups", 1), K)] + ([(O,)] if bias else [])
    register("conv1d", lambda *t: F.conv1d(*t, **kw), _normals(*shapes))


# N, C, L, O, K
_conv1d(2, 2, 7, 3, 3)
_conv1d(1, 3, 8, 2, 2, bias=False, stride=2)
_conv1d(2, 2, 6, 2, 3, padding=2, dilation=2)
_conv1d(1, 4, 6, 4, 3, groups=2, stride=(2,), padding=(1,))
_conv1d(2, 2, 5, 3, 2, padding="same")
_conv1d(1, 2, 9, 2, 3, padding="same", dilation=3)
_conv1d(1, 2, 4, 2, 4, padding="valid")
register("conv1d", lambda x, w: F.conv1d(x, w, padding=1),     # unbatched input
         _normals((2, 5), (3, 2, 3)))
