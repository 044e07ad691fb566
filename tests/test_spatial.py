"""affine_grid and grid_sample: against a slow reference written from PyTorch's
documented formulas, geometric identities (identity, whole-pixel shifts, composition),
PyTorch itself (when installed), dtypes and error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
import minidl.functional as F
from minidl.ops.spatial import DTypeError
from registry import covers

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
seeds = st.integers(0, 2**32 - 1)


# ------------------------------------------------------------------ slow reference
def ref_unnormalize(g, size, align):
    return (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2


def ref_pad(u, size, padding, align):
    """A pixel coordinate after padding, scalar by scalar (PyTorch's GridSampler.h:
    clip, or reflect-by-fmod and clip; zeros: unchanged)."""
    if padding == "reflection":
        low, high = (0.0, size - 1.0) if align else (-0.5, size - 0.5)
        span = high - low
        if span == 0:
            return 0.0
        d = abs(u - low)
        flips, extra = math.floor(d / span), math.fmod(d, span)
        u = low + extra if flips % 2 == 0 else high - extra
    if padding in ("border", "reflection"):
        u = min(max(u, 0.0), size - 1.0)
    return u


def ref_cubic(d, A=-0.75):
    """Keys' cubic convolution kernel at distance d."""
    d = abs(d)
    if d <= 1:
        return ((A + 2) * d - (A + 3)) * d * d + 1
    return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A if d < 2 else 0.0


def ref_bicubic_taps(gx, gy, H, W, padding, align):
    """(row, col, weight) of the 16 taps; each tap's index padded on its own."""
    sx, sy = ref_unnormalize(gx, W, align), ref_unnormalize(gy, H, align)
    x0, y0 = math.floor(sx), math.floor(sy)
    taps = []
    for b in range(-1, 3):
        for a in range(-1, 3):
            row, col = y0 + b, x0 + a
            if padding != "zeros":
                row = int(ref_pad(float(row), H, padding, align))
                col = int(ref_pad(float(col), W, padding, align))
            taps.append((row, col, ref_cubic(sx - (x0 + a)) * ref_cubic(sy - (y0 + b))))
    return taps


def ref_grid_sample(x, grid, mode, padding, align):
    N, C, H, W = x.shape
    out = np.zeros((N, C) + grid.shape[1:3])
    for n, i, j in np.ndindex(N, *grid.shape[1:3]):
        gx, gy = grid[n, i, j]
        sx = ref_pad(ref_unnormalize(gx, W, align), W, padding, align)
        sy = ref_pad(ref_unnormalize(gy, H, align), H, padding, align)
        if mode == "bicubic":
            taps = ref_bicubic_taps(gx, gy, H, W, padding, align)
        elif mode == "nearest":
            taps = [(round(sy), round(sx), 1.0)]      # Python rounds half to even
        else:
            x0, y0 = math.floor(sx), math.floor(sy)
            fx, fy = sx - x0, sy - y0
            taps = [(y0, x0, (1 - fx) * (1 - fy)), (y0, x0 + 1, fx * (1 - fy)),
                    (y0 + 1, x0, (1 - fx) * fy), (y0 + 1, x0 + 1, fx * fy)]
        for row, col, w in taps:
            if 0 <= row < H and 0 <= col < W:
                out[n, :, i, j] += w * x[n, :, row, col]
    return out


@covers("grid_sample")
@given(seed=seeds, mode=st.sampled_from(MODES), padding=st.sampled_from(PADDINGS),
       align=st.booleans(), n=st.integers(1, 2), c=st.integers(1, 3),
       h=st.integers(1, 5), w=st.integers(1, 5), oh=st.integers(1, 4),
       ow=st.integers(1, 4))
def test_grid_sample_matches_the_slow_reference(seed, mode, padding, align, n, c, h, w,
                                                oh, ow):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    grid = rng.uniform(-1.8, 1.8, (n, oh, ow, 2))
    special = rng.random(grid.shape) < 0.3  # edges, centres, halfway: exact ties
    grid[special] = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], int(special.sum()))
    out = F.grid_sample(md.tensor(x), md.tensor(grid), mode, padding, align)
    np.testing.assert_allclose(out.numpy(), ref_grid_sample(x, grid, mode, padding, align),
                               rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ identities
def theta_of(matrix, n=1):
    """A (n, 2, 3) float64 theta Tensor from the top two rows of a 3x3 matrix."""
    return md.tensor(np.repeat(np.asarray(matrix, float)[None, :2], n, axis=0))


def warp(x, matrix, mode="bilinear", padding="zeros", align=False):
    theta = theta_of(matrix, x.shape[0])
    grid = F.affine_grid(theta, x.shape, align_corners=align)
    return F.grid_sample(md.tensor(x), grid, mode, padding, align).numpy()


@covers("grid_sample", "affine_grid")
@given(seed=seeds, mode=st.sampled_from(MODES), padding=st.sampled_from(PADDINGS),
       align=st.booleans(), h=st.integers(1, 6), w=st.integers(1, 6))
def test_identity_theta_gives_the_input_back(seed, mode, padding, align, h, w):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    np.testing.assert_allclose(warp(x, np.eye(3), mode, padding, align), x,
                               rtol=1e-12, atol=1e-12)


def shifted(x, dy, dx, padding):
    """out[i, j] = x[i + dy, j + dx]: zeros outside, or the nearest edge pixel."""
    h, w = x.shape[-2:]
    rows, cols = np.arange(h) + dy, np.arange(w) + dx
    if padding == "border":
        return x[..., np.clip(rows, 0, h - 1)[:, None], np.clip(cols, 0, w - 1)]
    out = np.zeros_like(x)
    r_ok, c_ok = (rows >= 0) & (rows < h), (cols >= 0) & (cols < w)
    out[..., np.flatnonzero(r_ok)[:, None], np.flatnonzero(c_ok)] = \
        x[..., rows[r_ok][:, None], cols[c_ok]]
    return out


@covers("grid_sample", "affine_grid")
@given(seed=seeds, mode=st.sampled_from(MODES), padding=st.sampled_from(("zeros", "border")),
       align=st.booleans(), h=st.integers(2, 7), w=st.integers(2, 7),
       dy=st.integers(-3, 3), dx=st.integers(-3, 3))
def test_translation_by_whole_pixels_is_a_shift(seed, mode, padding, align, h, w, dy, dx):
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    # one pixel is 2 / W in normalised units (2 / (W - 1) with align_corners)
    step_x, step_y = (2 / (w - 1), 2 / (h - 1)) if align else (2 / w, 2 / h)
    matrix = [[1, 0, dx * step_x], [0, 1, dy * step_y], [0, 0, 1]]
    np.testing.assert_allclose(warp(x, matrix, mode, padding, align),
                               shifted(x, dy, dx, padding), rtol=1e-10, atol=1e-10)


def exact_map(draw, size):
    """A 3x3 matrix mapping pixel centres onto pixel centres of a square size x size
    image (align_corners=False): a rotation by a multiple of 90 degrees or a flip,
    then a shift by at most 2 whole pixels."""
    quarter = draw(st.integers(0, 3))
    c, s = round(math.cos(quarter * math.pi / 2)), round(math.sin(quarter * math.pi / 2))
    flip = draw(st.sampled_from((1, -1)))
    shift = [2 * draw(st.integers(-2, 2)) / size for _ in range(2)]
    return np.array([[c * flip, -s, shift[0]], [s * flip, c, shift[1]], [0, 0, 1]])


@covers("grid_sample", "affine_grid")
@given(data=st.data(), seed=seeds, mode=st.sampled_from(MODES), size=st.integers(9, 11))
def test_two_affine_warps_equal_one_with_the_composed_matrix(data, seed, mode, size):
    # content sits in the middle, so no exact map here pushes it off the image
    x = np.zeros((1, 1, size, size))
    x[..., 4:-4, 4:-4] = np.random.default_rng(seed).standard_normal((size - 8,) * 2)
    a, b = exact_map(data.draw, size), exact_map(data.draw, size)
    # out[p] = in[A p]: warping by A, then by B, reads x at A (B p)
    twice = warp(warp(x, a, mode), b, mode)
    np.testing.assert_allclose(twice, warp(x, a @ b, mode), atol=1e-10)


@covers("affine_grid")
@given(seed=seeds, align=st.booleans(), h=st.integers(1, 5), w=st.integers(1, 5))
def test_affine_grid_of_a_product_is_the_grid_mapped_again(seed, align, h, w):
    rng = np.random.default_rng(seed)
    a, b = (np.vstack([rng.standard_normal((2, 3)), [0, 0, 1]]) for _ in range(2))
    grid_b = F.affine_grid(theta_of(b), (1, 1, h, w), align).numpy()
    mapped = grid_b @ a[:2, :2].T + a[:2, 2]
    np.testing.assert_allclose(F.affine_grid(theta_of(a @ b), (1, 1, h, w), align).numpy(),
                               mapped, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_points_are_the_pixel_centres_or_corners(align):
    grid = F.affine_grid(theta_of(np.eye(3)), (1, 1, 2, 4), align).numpy()
    xs = [-1, -1 / 3, 1 / 3, 1] if align else [-0.75, -0.25, 0.25, 0.75]
    ys = [-1, 1] if align else [-0.5, 0.5]
    np.testing.assert_allclose(grid[0, :, :, 0], [xs, xs], atol=1e-15)
    np.testing.assert_allclose(grid[0, :, :, 1], [[ys[0]] * 4, [ys[1]] * 4], atol=1e-15)


def test_a_rotation_by_90_degrees_turns_the_image():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    # out[p] = in[R p] with R a quarter turn: the picture turns the other way
    quarter = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    np.testing.assert_allclose(warp(x, quarter), np.rot90(x, k=1, axes=(2, 3)),
                               atol=1e-12)


# ------------------------------------------------------------------ gradients
def test_nearest_gives_the_grid_a_zero_gradient_and_the_input_a_scatter():
    x = md.tensor(np.arange(4.0).reshape(1, 1, 2, 2), requires_grad=True)
    grid = md.tensor([[[[-0.5, -0.5], [-0.4, -0.6], [0.5, 0.5]]]], dtype=md.float64,
                     requires_grad=True)
    F.grid_sample(x, grid, mode="nearest").sum().backward()
    np.testing.assert_array_equal(grid.grad.numpy(), np.zeros((1, 1, 3, 2)))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[2, 0], [0, 1]]]])


def test_the_gradient_reaches_theta_through_affine_grid():
    x = md.tensor(np.random.default_rng(0).standard_normal((1, 1, 5, 5)))
    theta = md.tensor(np.eye(2, 3)[None] * 0.9, requires_grad=True)
    F.grid_sample(x, F.affine_grid(theta, (1, 1, 5, 5))).sum().backward()
    assert theta.grad.shape == (1, 2, 3) and np.abs(theta.grad.numpy()).sum() > 0


@pytest.mark.parametrize("dtype", [md.float32, md.float64])
def test_dtype_is_kept(dtype):
    x = md.zeros(1, 1, 3, 3, dtype=dtype)
    grid = F.affine_grid(md.tensor(np.eye(2, 3)[None], dtype=dtype), (1, 1, 2, 2))
    assert grid.dtype == dtype and F.grid_sample(x, grid).dtype == dtype


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, words", [
    (lambda: F.grid_sample(md.zeros(1, 1, 3, 3), md.zeros(1, 2, 2, 3)), ValueError,
     "(N, H_out, W_out, 2)"),
    (lambda: F.grid_sample(md.zeros(2, 1, 3, 3), md.zeros(1, 2, 2, 2)), RuntimeError,
     "batch size N = 2"),
    (lambda: F.grid_sample(md.zeros(1, 3, 3), md.zeros(1, 2, 2)), RuntimeError, "4-D"),
    (lambda: F.grid_sample(md.zeros(1, 1, 0, 3), md.zeros(1, 2, 2, 2)), RuntimeError,
     "non-empty"),
    (lambda: F.grid_sample(md.zeros(1, 1, 3, 3), md.zeros(1, 2, 2, 2, dtype=md.float64)),
     RuntimeError, "same dtype"),
    (lambda: F.grid_sample(md.zeros(1, 1, 3, 3), md.zeros(1, 2, 2, 2), mode="cubic"),
     ValueError, "mode"),
    (lambda: F.grid_sample(md.zeros(1, 1, 3, 3), md.zeros(1, 2, 2, 2), padding_mode="wrap"),
     ValueError, "padding_mode"),
    (lambda: F.grid_sample(md.zeros(1, 1, 2, 3, 3), md.zeros(1, 2, 2, 2, 3)),
     NotImplementedError, "5-D"),
    (lambda: F.affine_grid(md.zeros(1, 2, 3, dtype=md.int64), (1, 1, 2, 2)), ValueError,
     "floating point"),
    (lambda: F.affine_grid(md.zeros(2, 2, 3), (1, 1, 2, 2)), ValueError, "(1, 2, 3)"),
    (lambda: F.affine_grid(md.zeros(1, 2, 3), (1, 2, 2)), NotImplementedError, "4-D"),
    (lambda: F.affine_grid(md.zeros(1, 2, 3), (1, 1, 0, 2)), ValueError, "positive"),
])
def test_bad_arguments_raise_clear_errors_naming_the_op(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value) and str(info.value).split(":")[0] in (
        "grid_sample", "affine_grid")


def test_dtype_error_is_also_a_type_error():
    assert issubclass(DTypeError, TypeError) and issubclass(DTypeError, RuntimeError)


# ------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grid_sample_matches_pytorch(mode, padding, align, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 7)).astype(dtype)
    grid = rng.uniform(-1.6, 1.6, (2, 4, 6, 2)).astype(dtype)
    grid[0, 0, :5] = [[-1, 1], [1, -1], [0, 0], [3.0, -5.2], [-1.2, 1.4]]  # edges, far
    upstream = rng.standard_normal((2, 3, 4, 6)).astype(dtype)
    ours = [md.tensor(a, requires_grad=True) for a in (x, grid)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, grid)]
    out_m = F.grid_sample(*ours, mode, padding, align)
    out_t = torch.nn.functional.grid_sample(*theirs, mode, padding, align)
    (out_m * md.tensor(upstream)).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10,
                                                                      atol=1e-12)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), **tol)
    for m, t in zip(ours, theirs):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **tol)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_non_finite_and_huge_coordinates_match_pytorch(mode, padding, align):
    # bilinear with zeros padding gives NaN for a NaN/inf coordinate; the other
    # paddings clip it onto the image first; far-away points read 0 or the edge
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 2, 1, 3))
    grid = np.array([[[[np.nan, 0.1], [np.inf, 0.0], [-np.inf, 0.3], [1e30, 0.2],
                       [0.2, -1e30], [0.5, 0.5], [2.5, 0.1]]]])
    ours = F.grid_sample(md.tensor(x), md.tensor(grid), mode, padding, align)
    theirs = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), mode,
                                             padding, align)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0")  # PyTorch on unit-size grids
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 2, 3, 4, 5)])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid_matches_pytorch(size, align):
    torch = pytest.importorskip("torch")
    d = len(size) - 2
    theta = np.random.default_rng(1).standard_normal((size[0], d, d + 1))
    ours = md.tensor(theta, requires_grad=True)
    theirs = torch.tensor(theta, requires_grad=True)
    out_m, out_t = F.affine_grid(ours, size, align), \
        torch.nn.functional.affine_grid(theirs, size, align)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=1e-14)
    upstream = np.random.default_rng(2).standard_normal(out_t.shape)
    (out_m * md.tensor(upstream)).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-12)


def test_double_backward_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, grid = rng.standard_normal((1, 2, 4, 5)), rng.uniform(-1.2, 1.2, (1, 3, 3, 2))
    results = []
    for lib, fn in ((md, F.grid_sample), (torch, torch.nn.functional.grid_sample)):
        xs, gs = (lib.tensor(a, requires_grad=True) for a in (x, grid))
        out = fn(xs, gs, "bilinear", "reflection", False)
        gx, gg = (md.autograd.grad if lib is md else torch.autograd.grad)(
            (out * out).sum(), (xs, gs), create_graph=True)
        ((gx * gx).sum() + (gg * gg).sum()).backward()
        results.append([t.detach().numpy() if lib is torch else t.numpy()
                        for t in (xs.grad, gs.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
