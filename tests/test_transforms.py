"""minidl.data.transforms: known answers for the warps, seeding (same seed, same
batches), the DataLoader hook, argument checks."""
import numpy as np
import pytest

import minidl as md
from minidl.data import (DataLoader, TensorDataset, RandomAffine, RandomCrop,
                         RandomElastic, Normalize, Compose)
from minidl.data.transforms import affine, elastic, affine_matrices, gaussian_blur


def dot(row, col, size=9):
    """A (1, 1, size, size) image, 0 except one pixel."""
    x = np.zeros((1, 1, size, size), np.float32)
    x[0, 0, row, col] = 1
    return x


def where(img):
    return [tuple(p) for p in np.argwhere(np.asarray(img)[0, 0] > 0.5)]


# ------------------------------------------------------------------ the warps
@pytest.mark.parametrize("kwargs, moved_to", [
    (dict(angle=90), (1, 4)),              # right of centre -> above it (counter-clockwise)
    (dict(angle=-90), (7, 4)),
    (dict(angle=180), (4, 1)),
    (dict(translate=(-2, 1)), (5, 5)),     # 2 left, 1 down
    (dict(scale=2 / 3), (4, 6)),           # 3 px from the centre -> 2 px
    (dict(shear=(0, 45)), (7, 7)),         # y moves by tan(45) * x = 3
])
def test_affine_moves_a_dot_where_the_conventions_say(kwargs, moved_to):
    assert where(affine(dot(4, 7), interpolation="nearest", **kwargs)) == [moved_to]


def test_rotation_about_a_given_centre_keeps_that_pixel():
    # turning about the dot itself leaves it where it is; about the image centre not
    assert where(affine(dot(2, 6), angle=90, center=(6, 2), interpolation="nearest")) \
        == [(2, 6)]
    assert where(affine(dot(2, 6), angle=90, interpolation="nearest")) == [(2, 2)]


def test_x_shear_moves_by_tan_times_y():
    assert where(affine(dot(7, 4), shear=(45, 0), interpolation="nearest")) == [(7, 7)]


def test_affine_defaults_and_elastic_without_displacement_return_the_input():
    x = np.random.default_rng(0).random((2, 3, 6, 5)).astype(np.float32)
    np.testing.assert_allclose(affine(x), x, atol=1e-6)
    np.testing.assert_allclose(elastic(x, np.zeros((6, 5, 2))), x, atol=1e-6)


def test_elastic_displacement_reads_from_the_displaced_pixel():
    d = np.zeros((9, 9, 2))
    d[..., 0] = 2      # every output pixel reads 2 px to its right: the picture moves left
    assert where(elastic(dot(4, 7), d, interpolation="nearest")) == [(4, 5)]


def test_per_image_parameters_and_fill():
    x = np.ones((2, 1, 5, 5), np.float32)
    out = affine(x, translate=[(1, 0), (0, 0)], fill=0.5, interpolation="nearest")
    np.testing.assert_array_equal(out[0, 0, :, 0], 0.5)   # the uncovered column
    np.testing.assert_array_equal(out[1], x[1])


def test_affine_matrices_compose_like_the_maps():
    # rotating by 30 then by 40 degrees is rotating by 70
    size = (7, 7)
    args = lambda a: (np.array([a]), np.zeros((1, 2)), np.ones(1), np.zeros((1, 2)), size)  # noqa: E731
    h = lambda t: np.vstack([t[0], [0, 0, 1]])  # noqa: E731
    np.testing.assert_allclose(h(affine_matrices(*args(30))) @ h(affine_matrices(*args(40))),
                               h(affine_matrices(*args(70))), atol=1e-12)


def test_gaussian_blur_keeps_constants_and_the_mean():
    a = np.full((2, 8, 8), 3.0)
    np.testing.assert_allclose(gaussian_blur(a, 2.0), a)
    noise = np.random.default_rng(0).standard_normal((1, 64, 64))
    assert gaussian_blur(noise, 3.0).std() < 0.2 * noise.std()


# ------------------------------------------------------------------ the random transforms
TRANSFORMS = [
    lambda seed: RandomAffine(20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10,
                              seed=seed),
    lambda seed: RandomElastic(alpha=34, sigma=4, seed=seed),
    lambda seed: RandomCrop(28, padding=2, seed=seed),
]


@pytest.mark.parametrize("make", TRANSFORMS)
def test_same_seed_same_batches_and_images_differ_within_a_batch(make):
    x = md.rand(4, 1, 28, 28, generator=md.Generator(0))
    a, b, c = make(0)(x), make(0)(x), make(1)(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    assert a.shape == x.shape and a.dtype == x.dtype
    assert not np.allclose(a.numpy()[0] - x.numpy()[0], a.numpy()[1] - x.numpy()[1])


def test_the_default_generator_seeds_a_transform():
    x = md.rand(2, 1, 8, 8)
    md.manual_seed(3)
    first = RandomAffine(30)(x)
    md.manual_seed(3)
    np.testing.assert_array_equal(RandomAffine(30)(x).numpy(), first.numpy())


def test_transforms_plug_into_the_dataloader_and_keep_the_labels():
    x, y = np.random.default_rng(0).random((10, 1, 8, 8)).astype(np.float32), np.arange(10)
    augment = Compose([RandomAffine(15, seed=0), Normalize((0.5,), (0.25,))])
    batches = list(DataLoader(TensorDataset(x, y), 4, transform=augment))
    assert [b[0].shape for b in batches] == [(4, 1, 8, 8)] * 2 + [(2, 1, 8, 8)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)


def test_numpy_and_single_images_come_back_in_their_own_form():
    img = np.random.default_rng(0).random((1, 6, 6)).astype(np.float32)
    out = RandomAffine(10, seed=0)(img)
    assert isinstance(out, np.ndarray) and out.shape == (1, 6, 6)


def test_random_crop_with_padding_is_a_shifted_window():
    x = np.arange(2 * 25, dtype=np.float32).reshape(2, 1, 5, 5)
    crop = RandomCrop(5, padding=1, seed=0)
    out = crop(x)
    for img, orig in zip(out, x):   # each crop is the original shifted by -1..1 px
        found = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                 if np.array_equal(img[0], np.pad(orig[0], 1)[1 + dy:6 + dy, 1 + dx:6 + dx])]
        assert len(found) == 1
    assert RandomCrop(3, seed=0)(x).shape == (2, 1, 3, 3)
    assert RandomCrop(7, pad_if_needed=True, padding_mode="edge", seed=0)(x).shape == \
        (2, 1, 7, 7)


def test_normalize_per_channel():
    x = np.ones((1, 2, 2, 2), np.float32)
    out = Normalize((0.5, 1.0), (0.5, 2.0))(x)
    np.testing.assert_allclose(out[0, 0], 1.0)
    np.testing.assert_allclose(out[0, 1], 0.0)


@pytest.mark.parametrize("call, error, words", [
    (lambda: RandomAffine(-5), ValueError, "non-negative"),
    (lambda: RandomAffine(5, translate=(2, 0)), ValueError, "fractions"),
    (lambda: RandomAffine(5, shear=(1, 2, 3)), ValueError, "2 or 4"),
    (lambda: RandomAffine(5, interpolation="cubic"), ValueError, "interpolation"),
    (lambda: RandomAffine(5, seed=1, generator=md.Generator(1)), ValueError, "not both"),
    (lambda: RandomElastic(sigma=0), ValueError, "sigma"),
    (lambda: RandomCrop(30)(np.zeros((1, 1, 28, 28), np.float32)), ValueError,
     "pad_if_needed"),
    (lambda: RandomCrop(5, padding_mode="wrap"), ValueError, "padding_mode"),
    (lambda: Normalize((0.5,), (0.0,)), ValueError, "non-zero"),
    (lambda: Normalize((0.5, 0.5, 0.5), (1.0,))(np.zeros((1, 2, 3, 3), np.float32)),
     ValueError, "channels"),
    (lambda: RandomAffine(5)(np.zeros((3, 3), np.float32)), ValueError, "(N, C, H, W)"),
    (lambda: RandomAffine(5)(np.zeros((1, 3, 3), np.int64)), TypeError, "floating"),
    (lambda: affine(np.zeros((2, 1, 3, 3), np.float32), angle=[1, 2, 3]), ValueError,
     "one per image"),
    (lambda: elastic(np.zeros((1, 1, 3, 3), np.float32), np.zeros((3, 2, 2))), ValueError,
     "displacement"),
    (lambda: Compose([1]), TypeError, "callable"),
])
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=None) as info:
        call()
    assert words in str(info.value)
