"""The editing functions (models/deformation.py, tone.py, enhancement.py): shapes and
ranges, known answers on small inputs, and that the VAE-based edits beat their plain
baselines with the small MLP VAE of conftest.py (`trained`, 300 steps)."""
import numpy as np
import pytest

import minidl
from minidl.tensor import ShapeError
from models import deformation, tone, enhancement


def dot(row, col):
    x = np.zeros((1, 1, 28, 28), np.float32)
    x[0, 0, row, col] = 1
    return x


def some_test_digits(digits, n=20):
    x, y = digits[1]
    return x[:n], y[:n]


# ------------------------------------------------------------------ deformation
def test_warp_affine_identity_rotation_and_per_image_arguments():
    x = np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(deformation.warp_affine(x).numpy(), x, atol=1e-5)
    turned = deformation.warp_affine(dot(14, 20), angle=90).numpy()
    # centre 13.5: (row 14, col 20) is 6.5 px right, 0.5 down -> 6.5 up, 0.5 right
    assert np.unravel_index(turned.argmax(), turned.shape)[2:] == (7, 14)
    both = deformation.warp_affine(x, angle=[0, 180]).numpy()
    np.testing.assert_allclose(both[0], x[0], atol=1e-5)
    # a half turn about the centre of an even-sized image flips both axes exactly
    np.testing.assert_allclose(both[1], x[1, :, ::-1, ::-1], atol=1e-5)
    assert deformation.warp_affine(x[0], scale=1.3, shear=(20, 0)).shape == (1, 28, 28)


def test_warps_stay_in_range_and_the_elastic_field_is_seeded_and_smooth():
    x = np.random.default_rng(1).random((3, 1, 28, 28)).astype(np.float32)
    a = deformation.warp_elastic(x, alpha=34, sigma=4, generator=minidl.Generator(5))
    b = deformation.warp_elastic(x, alpha=34, sigma=4, generator=minidl.Generator(5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.numpy().min() >= 0 and a.numpy().max() <= 1
    field = deformation.smooth_field(2, alpha=34, sigma=4)
    assert field.shape == (2, 28, 28, 2)
    assert np.abs(np.diff(field, axis=1)).mean() < 0.2 * np.abs(field).mean()
    zero = deformation.warp_elastic(x, np.zeros((28, 28, 2)))
    np.testing.assert_allclose(zero.numpy(), x, atol=1e-5)


def test_projection_makes_a_deformed_digit_more_plausible(trained, digits):
    x, _ = some_test_digits(digits, 8)
    warped = deformation.warp_affine(x, shear=(35, 0), angle=25).numpy()
    projected = deformation.project(trained, warped, method="map", steps=30).numpy()
    encoded = deformation.project(trained, warped, method="encode").numpy()
    np.testing.assert_allclose(encoded, trained.reconstruct(warped).numpy())
    assert projected.shape == warped.shape
    assert 0 <= projected.min() and projected.max() <= 1
    before = deformation.plausibility(trained, warped)
    after = deformation.plausibility(trained, projected)
    assert before.shape == (8,) and np.isfinite(before).all()
    assert (after < before).all()   # the model's own -log p(x) falls


# ------------------------------------------------------------------ tone
def test_brightness_contrast_gamma_known_answers():
    x = np.array([[[[0.0, 0.25], [0.5, 1.0]]]], np.float32).repeat(14, 2).repeat(14, 3)
    np.testing.assert_allclose(tone.adjust_brightness(x, 2).numpy(),
                               np.clip(2 * x, 0, 1))
    np.testing.assert_allclose(tone.adjust_brightness(x, 1).numpy(), x)
    flat = tone.adjust_contrast(x, 0).numpy()
    np.testing.assert_allclose(flat, np.full_like(x, x.mean()), rtol=1e-6)
    np.testing.assert_allclose(tone.adjust_gamma(x, 2).numpy(), x ** 2)
    np.testing.assert_allclose(tone.adjust_gamma(x, 1, gain=0.5).numpy(), x / 2)
    assert tone.adjust_contrast(x[0], 3).shape == (1, 28, 28)


def test_dilation_and_erosion_grow_and_shrink_a_square():
    x = np.zeros((1, 1, 28, 28), np.float32)
    x[0, 0, 10:16, 10:16] = 1
    grown = tone.dilate(x, 2).numpy()
    assert grown[0, 0, 8:18, 8:18].min() == 1 and grown.sum() == 100
    shrunk = tone.erode(x, 1).numpy()
    assert shrunk[0, 0, 11:15, 11:15].min() == 1 and shrunk.sum() == 16
    np.testing.assert_array_equal(tone.erode(tone.dilate(x)).numpy(), x)  # closing
    np.testing.assert_array_equal(tone.dilate(x, 0).numpy(), x)


def test_the_latent_thickness_direction_adds_ink(trained, digits):
    train = digits[0]
    x, y = train.get_batch(np.arange(1000))
    direction = tone.thickness_direction(trained, x, y)
    assert direction.shape == (16,)
    sample, _ = some_test_digits(digits)
    thicker = tone.change_thickness(trained, sample, direction, 1.0)
    thinner = tone.change_thickness(trained, sample, direction, -1.0)
    assert (tone.ink(thicker) > tone.ink(thinner)).mean() >= 0.9


# ------------------------------------------------------------------ enhancement
def test_gaussian_blur_keeps_the_ink_and_downscale_averages_blocks():
    x = dot(14, 14)
    blurred = enhancement.gaussian_blur(minidl.tensor(x), 1.5).numpy()
    assert blurred.sum() == pytest.approx(1.0, rel=1e-5) and blurred.max() < 0.1
    k = enhancement.gaussian_kernel2d(1.0)
    assert k.shape == (1, 1, 7, 7) and k.sum() == pytest.approx(1.0)
    small = enhancement.downscale(minidl.tensor(np.arange(16.0).reshape(1, 1, 4, 4)))
    np.testing.assert_allclose(small.numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])


def test_upscale_bilinear_matches_pytorch_interpolate():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 1, 14, 14)).astype(np.float32)
    ours = enhancement.upscale_bilinear(x).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=(28, 28),
                                             mode="bilinear", align_corners=False)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-6)


def test_deblur_and_super_resolution_beat_their_baselines(trained, digits):
    x, _ = some_test_digits(digits, 40)
    clean = minidl.tensor(x)
    blurred = enhancement.gaussian_blur(clean, 2.0).numpy()
    restored = enhancement.deblur(trained, blurred, sigma=2.0, steps=50).numpy()
    mse = lambda a: float(((a - x) ** 2).mean())  # noqa: E731
    assert restored.shape == x.shape and 0 <= restored.min() and restored.max() <= 1
    assert mse(restored) < mse(blurred)
    low = enhancement.downscale(clean, 2).numpy()
    sharp = enhancement.super_resolve(trained, low, factor=2, steps=50)
    assert sharp.shape == x.shape
    assert mse(sharp.numpy()) < mse(enhancement.upscale_bilinear(low).numpy())
    # the consistency step brings the result's downscaling closer to the observation
    plain = enhancement.super_resolve(trained, low, steps=50, consistent=False)
    off = lambda a: float(((enhancement.downscale(a, 2).numpy() - low) ** 2).mean())  # noqa: E731
    assert off(sharp) < 0.5 * off(plain)
    one = enhancement.super_resolve(trained, low[0], steps=0)   # unbatched, no steps
    assert one.shape == (1, 28, 28)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, words", [
    (lambda m: deformation.warp_affine(np.zeros((2, 28, 28))), ShapeError,
     "warp_affine"),
    (lambda m: deformation.project(m, np.zeros((1, 28, 28)), method="nearest"),
     ValueError, "project"),
    (lambda m: deformation.smooth_field(1, sigma=0), ValueError, "smooth_field"),
    (lambda m: tone.adjust_brightness(np.zeros((1, 28, 28)), -1), ValueError,
     "adjust_brightness"),
    (lambda m: tone.adjust_gamma(np.full((1, 28, 28), 2.0), 1), ValueError, "[0, 1]"),
    (lambda m: tone.dilate(np.zeros((1, 28, 28)), 1.5), ValueError, "dilate"),
    (lambda m: tone.thickness_direction(m, np.zeros((3, 1, 28, 28)), [1, 2]),
     ValueError, "one label per image"),
    (lambda m: enhancement.deblur(m, np.zeros((1, 28, 28)), sigma=0), ValueError,
     "sigma"),
    (lambda m: enhancement.super_resolve(m, np.zeros((1, 1, 28, 28))), ShapeError,
     "(N, 1, 14, 14)"),
    (lambda m: enhancement.downscale(minidl.zeros(1, 1, 28, 28), 3), ValueError,
     "dividing"),
    (lambda m: enhancement.restore(m, np.zeros((1, 1, 28, 28)), None,
                                   np.zeros((1, 1, 28, 28)), noise_std=0), ValueError,
     "noise_std"),
])
def test_bad_arguments_raise_clear_errors(trained, call, error, words):
    with pytest.raises(error) as info:
        call(trained)
    assert words in str(info.value)


def test_pixel_entropy_known_values():
    x = np.zeros((2, 1, 28, 28), np.float32)
    x[1, 0, 0, :2] = 0.5
    np.testing.assert_allclose(deformation.pixel_entropy(x), [0, 2 * np.log(2)],
                               rtol=1e-6)
