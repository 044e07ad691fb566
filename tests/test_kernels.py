"""The kernels (minidl/kernels/) one by one, each against the plain, bounds-checked loop
it implements -- the reference is written first, the kernel must give the same bits --
and the machinery around them: the MINIDL_JIT=0 switch and a missing Numba (kernels
run as ordinary Python), the threads policy, recycled memory, and importing minidl
changing nothing else in the process.

CI runs this file (with the conv, pooling, sorting, interpolation and optimizer tests)
a second time with MINIDL_JIT=0, so every kernel is also checked as plain Python.
"""
import os
import subprocess
import sys

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minidl as md
from minidl.kernels import activation, gemm, memory, norm, optim, pool, threads

seeds = st.integers(0, 2**16)


# ------------------------------------------------------------------ pooling
def ref_max_planes(x, k, s, p, d, out_hw):
    """The loop of kernels/pool.py's docstring: every tap bounds-checked, PyTorch's
    takes-over rule (bigger, or NaN) -- values and flat arg-max per plane."""
    P, H, W = x.shape
    out = np.full((P,) + out_hw, -np.inf, x.dtype)
    idx = np.zeros((P,) + out_hw, np.int64)
    for q, oh, ow in np.ndindex(P, *out_hw):
        best, index = -np.inf, (oh * s[0] - p[0]) * W + (ow * s[1] - p[1])
        first = True
        for i in range(k[0]):
            for j in range(k[1]):
                h, w = oh * s[0] - p[0] + i * d[0], ow * s[1] - p[1] + j * d[1]
                if 0 <= h < H and 0 <= w < W:
                    if first:  # the first tap inside the input starts the scan
                        index, first = h * W + w, False
                    v = x[q, h, w]
                    if v > best or v != v:
                        best, index = v, h * W + w
        out[q, oh, ow], idx[q, oh, ow] = best, index
    return out, idx


def _kernel_max(x, k, s, p, d, out_hw):
    taps_h = pool.window_taps(x.shape[1], k[0], s[0], p[0], d[0], out_hw[0])
    taps_w = pool.window_taps(x.shape[2], k[1], s[1], p[1], d[1], out_hw[1])
    out = np.empty((x.shape[0],) + out_hw, x.dtype)
    idx = np.empty(out.shape, np.int64)
    pool.max_pool2d_forward(x, *taps_h, d[0], *taps_w, d[1], out, idx,
                            x.dtype.type(-np.inf))
    return out, idx


@given(seed=seeds, k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), nans=st.booleans())
def test_max_pool_kernel_is_the_reference_loop(seed, k, s, d, nans):
    rng = np.random.default_rng(seed)
    p = (k[0] // 2, k[1] // 2)
    x = rng.integers(-3, 3, (3, 6, 7)).astype(np.float32)  # many ties
    if nans:
        x[rng.random(x.shape) < 0.2] = np.nan
    out_hw = tuple((n + 2 * pp - dd * (kk - 1) - 1) // ss + 1
                   for n, kk, ss, pp, dd in zip(x.shape[1:], k, s, p, d))
    if min(out_hw) < 1:
        return
    expected, expected_idx = ref_max_planes(x, k, s, p, d, out_hw)
    out, idx = _kernel_max(x, k, s, p, d, out_hw)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(idx, expected_idx)


@given(seed=seeds, h=st.integers(2, 9), w=st.integers(2, 9), nans=st.booleans())
def test_max_pool_2x2_fast_path_is_the_general_kernel(seed, h, w, nans):
    """The 2x2 / stride 2 kernel against the reference loop (odd sizes drop the last
    row or column, as floor mode does)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 2, (4, h, w)).astype(np.float64)
    if nans:
        x[rng.random(x.shape) < 0.3] = np.nan
    out_hw = (h // 2, w // 2)
    out, idx = np.empty((4,) + out_hw), np.empty((4,) + out_hw, np.int64)
    pool.max_pool2x2_forward(x, out, idx)
    expected, expected_idx = ref_max_planes(x, (2, 2), (2, 2), (0, 0), (1, 1), out_hw)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(idx, expected_idx)


def test_max_pool2d_takes_the_fast_path_only_for_its_windows():
    x = md.randn(2, 3, 7, 6)
    with md.trace() as t:
        md.functional.max_pool2d(x, 2)                    # 2x2, stride 2: fast path
        md.functional.max_pool2d(x, 2, ceil_mode=True)    # a partial last window
        md.functional.max_pool2d(x, 2, stride=1)
        md.functional.max_pool2d(x, 2, padding=1)
    kernels = [r.name for r in t.rows if r.name.startswith("max_pool")]
    assert kernels == ["max_pool2x2_forward"] + ["max_pool2d_forward"] * 3


def test_scatter_kernels_are_their_loops(rng):
    g = rng.standard_normal((3, 5))
    index = rng.integers(-1, 7, (3, 5))  # -1: an empty window's index, skipped
    out = np.empty((3, 6))
    pool.scatter_add_planes(g, index, out)
    expected = np.zeros((3, 6))
    for q, j in np.ndindex(g.shape):
        if 0 <= index[q, j] < 6:
            expected[q, index[q, j]] += g[q, j]
    np.testing.assert_array_equal(out, expected)
    index = rng.integers(0, 6, (3, 5))
    pool.scatter_planes(g, index, out)
    expected = np.zeros((3, 6))
    for q, j in np.ndindex(g.shape):
        expected[q, index[q, j]] = g[q, j]  # in order: the last write wins
    np.testing.assert_array_equal(out, expected)


def test_batch_norm_backward_kernel_is_its_formula(rng):
    x, g, w = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5)), rng.random(3)
    mean, rstd = x.mean((0, 2)), 1 / np.sqrt(x.var((0, 2)) + 1e-5)
    x_hat = (x - mean[:, None]) * rstd[:, None]
    sum_g, sum_g_xhat = g.sum((0, 2)), (g * x_hat).sum((0, 2))
    expected = (w * rstd)[:, None] * (g - sum_g[:, None] / 20 - x_hat * sum_g_xhat[:, None] / 20)
    gx, sums = np.full(x.shape, np.nan), np.empty((2, 3))
    norm.batch_norm_backward(g, x, mean, rstd, w * rstd, gx, sums[0], sums[1], True)
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sums, [sum_g, sum_g_xhat], rtol=1e-12, atol=1e-12)


def test_window_arithmetic_lists_the_taps_inside_the_input():
    first, count = pool.window_taps(5, kernel_size=3, stride=2, padding=1, dilation=1,
                                    n_out=3)
    # windows start at -1, 1, 3: taps {0,1}, {1,2,3}, {3,4}
    assert first.tolist() == [0, 1, 3] and count.tolist() == [2, 3, 2]
    first, count = pool.window_taps(4, kernel_size=2, stride=1, padding=1, dilation=3,
                                    n_out=3)
    # starts -1, 0, 1, taps 3 apart: {2}, {0, 3}, {1}
    assert first.tolist() == [2, 0, 1] and count.tolist() == [1, 2, 1]
    assert [a.tolist() for a in pool.adaptive_taps(5, 3)] == [[0, 1, 3], [2, 3, 2]]
    assert pool.padded_length(5, 3, 2, 1, 3).tolist() == [3, 3, 3]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [50, 100_000])  # the kernel's serial and parallel builds
def test_sigmoid_gives_its_formulas_bits(dtype, n, rng):
    """sigmoid's forward (numpy's exp in a scratch buffer, then one kernel pass) gives
    the bits of the textbook numpy formula, also at the extremes and NaN."""
    x = np.concatenate([rng.standard_normal(n - 8) * 30, [0, -0.0, np.inf, -np.inf,
                                                         np.nan, 1e-30, -800, 800]])
    x = x.astype(dtype)
    e = np.exp(-np.abs(x))
    expected = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    np.testing.assert_array_equal(md.sigmoid(md.tensor(x)).numpy(), expected)
    strided = x[: n // 2 * 2].reshape(2, -1).T          # a non-contiguous input
    np.testing.assert_array_equal(md.sigmoid(md.tensor(strided)).numpy(),
                                  expected[: n // 2 * 2].reshape(2, -1).T)


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_are_pytorchs_rules(dtype):
    x = np.array([-2.0, -0.0, 0.0, 1.5, np.nan, np.inf, -np.inf], dtype)
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.inf, np.nan], dtype)
    out, on = np.empty_like(x), np.empty(x.shape, bool)
    activation.relu(x, out, on)
    np.testing.assert_array_equal(out, [0, 0, 0, 1.5, np.nan, np.inf, 0])
    np.testing.assert_array_equal(on, [0, 0, 0, 1, 1, 1, 0])  # NaN: the gradient flows
    activation.relu_grad(g, on, out)  # the mask works as y does
    np.testing.assert_array_equal(out, [0, 0, 0, 4, 5, np.inf, 0])
    activation.leaky_relu(x, dtype(0.1), out)
    np.testing.assert_array_equal(out, np.where(x > 0, x, x * dtype(0.1)))
    activation.relu_grad(g, x, out)  # exactly 0 where off (x <= 0), g at NaN
    np.testing.assert_array_equal(out, [0, 0, 0, 4, 5, np.inf, 0])
    activation.leaky_relu_grad(g, x, dtype(0.1), out)
    np.testing.assert_array_equal(out, np.where(x > 0, g, g * dtype(0.1)))


def test_erf_kernel_is_math_erf_element_by_element():
    import math
    from minidl.kernels import special
    x = np.array([[-3.0, -0.5, 0.0], [1e-8, 2.0, np.inf]])
    np.testing.assert_array_equal(special.erf(x), np.vectorize(math.erf)(x))
    assert special.erf(np.float32(0.5)).shape == ()
    assert special.erf(x.astype(np.float32)).dtype == np.float32


# ------------------------------------------------------------------ optimizer
def test_adam_kernel_is_the_numpy_formula(rng):
    """One step of kernels/optim.py's adam against the textbook lines, in float32."""
    p, g, m, v = (rng.standard_normal(50).astype(np.float32) for _ in range(4))
    v = np.abs(v)
    f = np.float32
    expected_m = m * f(0.9) + f(1 - 0.9) * g
    expected_v = v * f(0.999) + f(1 - 0.999) * (g * g)
    expected_p = p - expected_m / (np.sqrt(expected_v) / f(np.sqrt(1 - 0.999 ** 3))
                                   + f(1e-8)) * f(1e-3 / (1 - 0.9 ** 3))
    optim.adam(p, g, m, v, v, f(0.9), f(1 - 0.9), f(0.999), f(1 - 0.999),
               f(1e-3 / (1 - 0.9 ** 3)), f(np.sqrt(1 - 0.999 ** 3)), f(1e-8), f(0), f(1),
               False, False)
    np.testing.assert_array_equal(m, expected_m)
    np.testing.assert_array_equal(v, expected_v)
    np.testing.assert_array_equal(p, expected_p)


# ------------------------------------------------------------------ threads
@pytest.mark.parametrize("shape_a, shape_b", [((300, 70), (70, 500)),  # split by columns
                                              ((600, 90), (90, 200)),  # by rows
                                              ((3, 4), (4, 5)),        # too small
                                              ((2, 3, 4), (4, 5))])    # batched
def test_matmul_on_threads_gives_numpys_bits(shape_a, shape_b, rng):
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    np.testing.assert_array_equal(gemm.matmul(a, b), np.matmul(a, b))
    out = np.empty(np.matmul(a, b).T.shape, np.float32).T  # a non-contiguous out
    gemm.matmul(a, b, out=out)
    np.testing.assert_array_equal(out, np.matmul(a, b))


@pytest.mark.parametrize("shape_a, shape_b, split", [
    ((64, 6272), (6272, 288), True),    # a conv weight gradient: big output, split
    ((32, 25088), (25088, 9), False),   # one input channel: 288 outputs, one thread
    ((8, 8), (8, 8), False)])           # too few flops
def test_only_products_with_enough_flops_and_outputs_are_split(shape_a, shape_b, split,
                                                               monkeypatch):
    with threads.blas_single_thread() as held:
        if not held or threads.num_threads() < 2:
            pytest.skip("needs an OpenBLAS minidl can see and two threads")
    calls = []
    monkeypatch.setattr(gemm, "_on_helpers",
                        lambda blocks: calls.append(len(blocks)) or
                        [np.matmul(a, b, out=o) for a, b, o in blocks])
    a, b = np.ones(shape_a, np.float32), np.ones(shape_b, np.float32)
    np.testing.assert_array_equal(gemm.matmul(a, b), np.matmul(a, b))
    assert bool(calls) == split


def test_blas_thread_count_is_restored_after_minidls_products():
    with threads.blas_single_thread() as held:
        if not held:
            pytest.skip("numpy's BLAS is not an OpenBLAS minidl can see")
    before = [get() for get, _ in threads.blas_single_thread.functions]
    gemm.matmul(np.ones((400, 400), np.float32), np.ones((400, 400), np.float32))
    assert [get() for get, _ in threads.blas_single_thread.functions] == before


def test_matrix_products_work_in_a_forked_child():
    """fork() copies only the calling thread: the child must not wait for helper
    threads that exist only in its parent."""
    out = _run("import os, numpy as np\n"
               "from minidl.kernels import gemm\n"
               "a = np.ones((400, 400), np.float32)\n"
               "gemm.matmul(a, a)\n"
               "pid = os.fork()\n"
               "if pid == 0:\n"
               "    print(gemm.matmul(a, a)[0, 0], flush=True)\n"
               "    os._exit(0)\n"
               "os.waitpid(pid, 0)\n")
    assert out.split() == ["400.0"]


def test_serial_builds_give_the_parallel_builds_bits(rng):
    """run_kernel picks a kernel's .serial build for small work (compile.py): the same
    loops, so the same numbers."""
    from minidl.kernels import im2col
    x = rng.standard_normal((3, 4, 7, 6)).astype(np.float32)
    outs = []
    for build in (im2col.im2col, im2col.im2col.serial):
        cols = np.empty((4, 3, 3, 3, 5, 4), np.float32)
        build(x, (1, 1), (0, 0), (1, 1), cols)
        outs.append(cols)
    np.testing.assert_array_equal(*outs)
    assert activation.relu.serial is not activation.relu or not md.kernels.JIT


# ------------------------------------------------------------------ memory
def test_output_arrays_are_recycled_only_when_nobody_holds_them(monkeypatch):
    monkeypatch.setattr(memory, "_bin", defaultdict(list))  # (whatever earlier tests left)
    monkeypatch.setattr(memory, "_bin_bytes", 0)
    a = memory.output((200, 300), np.float32)
    first = id(a.base)
    b = memory.output((300, 200), np.float32)
    assert id(b.base) != first  # `a` is still alive
    view = a[::2]
    del a
    assert id(memory.output((60000,), np.float32).base) != first  # its view holds it
    del view
    c = memory.output((600, 100), np.int32)  # same bytes, any shape and dtype
    assert id(c.base) == first
    c[...] = 7
    assert (b.shape, memory.output((10,), np.float32).base) == ((300, 200), None)


def test_a_full_bin_drops_arrays_nobody_holds_for_new_sizes(monkeypatch):
    monkeypatch.setattr(memory, "_bin", defaultdict(list))
    monkeypatch.setattr(memory, "_bin_bytes", 0)
    monkeypatch.setattr(memory, "BIN_LIMIT", 4 * 2**20)
    held = memory.output((2**18,), np.float32)          # 1 MiB, still held
    memory.output((2**19,), np.float32)                 # 2 MiB, let go at once
    new = memory.output((2**19 + 2**17,), np.float32)   # 2.5 MiB: fits only without it
    assert new.base is not None and held.base is not None
    assert {size: len(blocks) for size, blocks in memory._bin.items()} == {
        2**20: 1, 2**21: 0, 2**21 + 2**19: 1}
    assert memory._bin_bytes == 3.5 * 2**20
    assert memory.output((2**18,), np.float32).base is None  # held arrays stay


# ------------------------------------------------------------------ as plain Python
def _run(code, **env):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_minidl_jit_0_runs_the_kernels_as_plain_python():
    out = _run("import inspect, minidl, minidl.kernels as k\n"
               "from minidl.kernels.im2col import im2col\n"
               "print(k.JIT, inspect.isfunction(im2col), k.prange is range)\n"
               "x = minidl.randn(1, 2, 5, 5)\n"
               "print(minidl.functional.max_pool2d(x, 2).shape)", MINIDL_JIT="0")
    assert out.split() == ["False", "True", "True", "(1,", "2,", "2,", "2)"]


def test_minidl_runs_without_numba():
    """A machine where numba cannot be imported still trains, slowly."""
    out = _run("import sys\n"
               "class NoNumba:\n"
               "    def find_spec(self, name, path=None, target=None):\n"
               "        if name.split('.')[0] in ('numba', 'llvmlite'):\n"
               "            raise ImportError('no numba here')\n"
               "sys.meta_path.insert(0, NoNumba())\n"
               "import minidl, minidl.functional as F\n"
               "x = minidl.randn(2, 1, 6, 6)\n"
               "w = minidl.randn(3, 1, 3, 3, requires_grad=True)\n"
               "F.relu(F.max_pool2d(F.conv2d(x, w), 2)).sum().backward()\n"
               "print(minidl.kernels.JIT, w.grad.shape, 'numba' in sys.modules)")
    assert out.split() == ["False", "(3,", "1,", "3,", "3)", "False"]


def test_importing_minidl_changes_nothing_else_in_the_process():
    """No environment variable, no BLAS thread count, no malloc setting: minidl's
    policies apply only around its own calls (minidl/kernels/threads.py). mallopt and
    the BLAS setters are C functions minidl would reach through ctypes, which Python's
    audit hooks see."""
    out = _run(
        "import os, sys, json, ctypes\n"
        "import numpy as np\n"
        "np.ones((2, 2)) @ np.ones((2, 2))\n"
        "looked_up = []\n"
        "sys.addaudithook(lambda e, a: looked_up.append(str(a[1])) "
        "if e == 'ctypes.dlsym' else None)\n"
        "env = dict(os.environ)\n"
        "import minidl\n"
        "print(json.dumps([env == dict(os.environ), looked_up]))")
    import json
    same_env, looked_up = json.loads(out)
    assert same_env
    assert not [name for name in looked_up if "mallopt" in name or "num_threads" in name]


def test_numba_pool_sleeps_when_idle_without_changing_the_environment():
    out = _run("import os, minidl\n"
               "before = dict(os.environ)\n"
               "minidl.functional.relu(minidl.randn(300, 300))\n"
               "print(before == dict(os.environ), 'OMP_WAIT_POLICY' in os.environ)")
    assert out.split() == ["True", "False"]

