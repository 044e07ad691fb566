"""Exercise 3: undoing broadcasting -- sum a gradient back to its input's shape.

a (1, 3) + b (4, 3) broadcasts a to (4, 3): each a[0, j] is used 4 times, so its
gradient is the SUM of the 4 gradients it received. In general, for an input of
`shape` and a gradient g of the broadcast shape:
  1. sum g over its leading dimensions that the input does not have;
  2. sum (keeping the dimension) over every dimension where the input has size 1.
        sum_to(g (4, 3), (1, 3)) = g.sum(dim=0, keepdim=True)
        sum_to(g (2, 4, 3), (4, 1)) = g.sum(dim=0).sum(dim=1, keepdim=True)

minidl's engine calls sum_to once, after every op's backward (autograd.py,
_fit_gradient), so ops never repeat it. The checker swaps your sum_to into that
place in the engine.

The check: hypothesis draws broadcast-compatible shape pairs; your result's shape and
values against numpy; then, with your sum_to inside the engine, gradcheck and
gradgradcheck of broadcast a * b and a + b.

Hint: write it with Tensor ops (g.sum(dim=..., keepdim=True), reshape) so that its
own derivative exists (gradgradcheck); return g itself when the shapes already match.
"""


def sum_to(g, shape):
    """g: Tensor of the broadcast shape -> Tensor of `shape` (a tuple)."""
    raise NotImplementedError
