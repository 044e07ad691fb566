"""Registry entries for convolution (minidl/ops/conv.py): conv2d, conv_transpose2d and
conv2d_weight over many geometries (see registry.py for the format)."""
import minidl.functional as F
from registry import register


def _normals(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


def _conv2d(N, C, H, W, O, KH, KW, bias=True, **kw):
    """conv2d of an (N, C, H, W) input with an (O, C/groups, KH, KW) weight."""
    w_shape = (O, C // kw.get("groups", 1), KH, KW)
    shapes = [(N, C, H, W), w_shape] + ([(O,)] if bias else [])
    register("conv2d", lambda *t: F.conv2d(*t, **kw), _normals(*shapes))


def _conv_transpose2d(N, C, H, W, O, KH, KW, bias=True, **kw):
    """conv_transpose2d of an (N, C, H, W) input with a (C, O/groups, KH, KW) weight."""
    w_shape = (C, O // kw.get("groups", 1), KH, KW)
    shapes = [(N, C, H, W), w_shape] + ([(O,)] if bias else [])
    register("conv_transpose2d", lambda *t: F.conv_transpose2d(*t, **kw),
             _normals(*shapes))


# conv2d: N, C, H, W, O, KH, KW
_conv2d(2, 2, 5, 5, 3, 3, 3)
_conv2d(2, 2, 5, 5, 3, 3, 3, bias=False)
_conv2d(1, 3, 6, 5, 2, 2, 3, stride=2)
_conv2d(2, 2, 5, 6, 2, 3, 3, padding=1)
_conv2d(1, 2, 4, 5, 2, 3, 2, padding=(2, 1), stride=(1, 2))
_conv2d(2, 2, 7, 6, 2, 3, 3, dilation=2)
_conv2d(1, 2, 6, 7, 3, 2, 3, dilation=(2, 1), padding=(1, 0), stride=(2, 1))
_conv2d(2, 4, 5, 5, 4, 3, 3, groups=2, padding=1)
_conv2d(1, 4, 5, 4, 6, 2, 1, groups=2, stride=2, bias=False)
_conv2d(2, 3, 5, 5, 3, 3, 3, groups=3)                     # depthwise
_conv2d(2, 2, 5, 4, 2, 2, 2, padding="same")                # odd total padding
_conv2d(1, 2, 6, 5, 2, 3, 3, padding="same", dilation=2)
_conv2d(1, 2, 4, 4, 2, 1, 1, padding="valid")
register("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1),   # unbatched input
         _normals((2, 4, 4), (3, 2, 3, 3), (3,)))

# conv_transpose2d: N, C, H, W, O, KH, KW
_conv_transpose2d(2, 2, 3, 3, 3, 3, 3)
_conv_transpose2d(2, 2, 3, 4, 2, 3, 3, bias=False)
_conv_transpose2d(1, 2, 3, 3, 2, 3, 3, stride=2)
_conv_transpose2d(1, 3, 3, 4, 2, 3, 2, stride=2, padding=1, output_padding=1)
_conv_transpose2d(2, 2, 4, 3, 2, 2, 3, stride=(1, 2), padding=(1, 0),
                  output_padding=(0, 1))
_conv_transpose2d(1, 2, 3, 3, 2, 3, 3, dilation=2)
_conv_transpose2d(1, 2, 3, 3, 2, 2, 2, dilation=2, output_padding=1)  # op >= stride
_conv_transpose2d(2, 4, 3, 3, 4, 3, 3, groups=2, stride=2, padding=1)
_conv_transpose2d(1, 4, 3, 2, 6, 2, 3, groups=2, dilation=(1, 2), bias=False)
register("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2),
         _normals((2, 3, 3), (2, 2, 2, 2), (2,)))          # unbatched input


def _conv2d_weight(x_shape, w_shape, y_shape, **kw):
    register("conv2d_weight", lambda x, y: F.conv2d_weight(x, w_shape, y, **kw),
             _normals(x_shape, y_shape))


_conv2d_weight((2, 2, 5, 5), (3, 2, 3, 3), (2, 3, 3, 3))
_conv2d_weight((1, 2, 6, 5), (2, 2, 3, 2), (1, 2, 3, 4), stride=(2, 1), padding=(1, 0))
_conv2d_weight((1, 2, 7, 6), (2, 2, 3, 3), (1, 2, 3, 2), dilation=2)
_conv2d_weight((2, 4, 4, 4), (4, 2, 3, 3), (2, 4, 4, 4), padding=1, groups=2)
_conv2d_weight((1, 2, 6, 6), (2, 2, 2, 2), (1, 2, 3, 3), stride=2)  # drops no rows
_conv2d_weight((1, 2, 7, 7), (2, 2, 2, 2), (1, 2, 3, 3), stride=2)  # drops a row
