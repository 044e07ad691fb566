"""Registry entries for writes: x[index] = value and the in-place ops (see registry.py).

Each entry edits a clone of its first input, so the inputs gradcheck perturbs are never
changed. An edit of a tensor in the graph is recorded (Tensor._inplace): the entries
check the recorded gradients -- also through views (x[0:2].mul_(v), x.T.add_(v), ...),
where the base gets a CopySlices node.
"""
import numpy as np

from registry import register, normal


def edited(edit):
    """fn(x, *values): a clone of x, edited in place by edit(clone, *values)."""
    def fn(x, *values):
        y = x.clone()
        edit(y, *values)
        return y
    return fn


def setitem(index):
    return edited(lambda y, v: y.__setitem__(index, v))


def pair(sa, sb, low=None):
    def sample(rng):
        b = rng.standard_normal(sb) if low is None else rng.uniform(low, low + 1.5, sb)
        return rng.standard_normal(sa), b
    return sample


# ---- x[index] = value: the region gets value (broadcast), the rest keeps x ----------
register("setitem", setitem((slice(0, 2),)), pair((3, 4), (2, 4)))
register("setitem", setitem((1, slice(None, None, 2))), pair((3, 4), (2,)))
register("setitem", setitem((Ellipsis, 0)), pair((2, 3, 2), ()))              # broadcast
register("setitem", setitem(([0, 2],)), pair((3, 4), (2, 4)))                 # advanced
register("setitem", setitem((np.array([True, False, True]),)), pair((3, 2), (2,)))
register("setitem", setitem((slice(None), [1, 0])), pair((2, 3), (1, 2)))
register("setitem", lambda x: edited(lambda y: y.__setitem__(0, 5.0))(x), normal(3, 2))

# ---- augmented assignment and the in-place family -----------------------------------
register("add_", edited(lambda y, v: y.__iadd__(v)), pair((2, 3), (3,)))
register("add_", edited(lambda y, v: y.add_(v, alpha=-2.5)), pair((2, 3), (2, 3)))
register("sub_", edited(lambda y, v: y.__isub__(v)), pair((2, 3), (2, 1)))
register("sub_", edited(lambda y, v: y.sub_(v, alpha=0.5)), pair((3,), ()))
register("mul_", edited(lambda y, v: y.__imul__(v)), pair((2, 3), (3,)))
register("mul_", edited(lambda y: y.mul_(3.0)), normal(4,))
register("div_", edited(lambda y, v: y.__itruediv__(v)), pair((2, 3), (2, 3), low=0.5))
register("pow_", edited(lambda y: y.__ipow__(2)), normal(2, 3))
register("clamp_", edited(lambda y: y.clamp_(-0.5, 0.5)),
         lambda r: (np.where(np.abs(np.abs(r.standard_normal((3, 4))) - 0.5) < 0.1, 0.0,
                             r.standard_normal((3, 4))),))
register("copy_", edited(lambda y, v: y.copy_(v)), pair((2, 3), (3,)))
register("fill_", edited(lambda y, v: y.fill_(v)), pair((2, 3), ()))
register("zero_", edited(lambda y: y.zero_()), normal(2, 3))

# ---- in-place edits through views: the base is rebuilt around the edited region -----
register("mul_", edited(lambda y, v: y[0:2].mul_(v)), pair((3, 4), (4,)))
register("add_", edited(lambda y, v: y.T.__iadd__(v)), pair((2, 3), (3, 2)))
register("mul_", edited(lambda y, v: y.view(2, 6)[1].__imul__(v)), pair((3, 4), (6,)))
register("div_", edited(lambda y, v: y.permute(1, 0)[:, 1:].div_(v)),
         pair((3, 2), (2, 2), low=0.5))
register("copy_", edited(lambda y, v: y.unsqueeze(0).squeeze(0)[1:].copy_(v)),
         pair((3, 2), (2,)))
register("setitem", edited(lambda y, v: y[1].__setitem__(slice(0, 2), v)),
         pair((2, 3), (2,)))
register("add_", edited(lambda y, v: y[1:].__iadd__(v * v)), pair((3, 2), (2, 2)))
