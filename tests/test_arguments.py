"""minidl/ops/arguments.py: the one place where ops and layers read kernel_size,
stride, ... and batch an unbatched input."""
import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.ops.arguments import int_tuple, add_batch_dim, drop_batch_dim


@pytest.mark.parametrize("value, n, expected", [
    (3, 2, (3, 3)), ((3,), 2, (3, 3)), ([3, 5], 2, (3, 5)), (np.int64(2), 2, (2, 2)),
    (np.array([2, 3]), 2, (2, 3)), (4, 1, (4,)), ((4,), 1, (4,)), (0, 3, (0, 0, 0)),
])
def test_int_tuple_takes_an_int_or_1_or_n_ints(value, n, expected):
    out = int_tuple(value, n, "stride", "conv2d")
    assert out == expected and all(type(v) is int for v in out)


@pytest.mark.parametrize("value", [True, 2.0, (1, 2, 3), "same", None, (True, 1), ()])
def test_int_tuple_refuses_what_is_not_ints_naming_op_and_argument(value):
    with pytest.raises(TypeError, match=r"max_pool2d: kernel_size must be an int or a "
                                        r"pair of ints, got"):
        int_tuple(value, 2, "kernel_size", "max_pool2d")


def test_int_tuple_minimum_is_a_shape_error():
    with pytest.raises(minidl.ShapeError, match="conv2d: stride must be positive, got 0"):
        int_tuple(0, 2, "stride", "conv2d", minimum=1)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        int_tuple((1, -1), 2, "padding", "conv2d", minimum=0)
    assert int_tuple(0, 2, "padding", "conv2d", minimum=0) == (0, 0)


def test_layers_read_their_arguments_with_it():
    assert nn.Conv2d(1, 2, (3,), stride=[2, 1]).kernel_size == (3, 3)
    assert nn.Conv1d(1, 2, (5,)).weight.shape == (2, 1, 5)
    assert nn.MaxUnpool2d(2, padding=(1,)).padding == (1, 1)
    with pytest.raises(TypeError, match="Conv2d: dilation must be an int or a pair"):
        nn.Conv2d(1, 2, 3, dilation=1.5)


def test_batch_dim_round_trip_and_instance_norm_on_unbatched_input():
    x = minidl.randn(3, 4, 5)
    batched, was_unbatched = add_batch_dim(x, 3)
    assert batched.shape == (1, 3, 4, 5) and was_unbatched
    assert add_batch_dim(batched, 3) == (batched, False)
    assert drop_batch_dim(batched, True).shape == x.shape
    norm = nn.InstanceNorm2d(3)
    np.testing.assert_allclose(norm(x).numpy(), norm(x[None])[0].numpy(), rtol=1e-6)
    assert norm(x).shape == x.shape
