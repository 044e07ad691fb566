"""How many threads numpy's BLAS may use -- one, by default, while minidl runs.

minidl's hot path alternates two kinds of parallel work: Numba kernels (im2col,
pooling) and numpy matrix products (OpenBLAS). Each has its own thread pool, and
OpenBLAS's idle threads keep spinning for a while after every product, so on a
2-core machine the two pools fight: measured here, a SeedCNN training step took
150-370 ms with OpenBLAS on 2 threads and 21-42 ms on one (numba keeps both cores
for its kernels). So on import minidl asks OpenBLAS for one thread.

Set the environment variable MINIDL_BLAS_THREADS=N to choose N instead, or set
OPENBLAS_NUM_THREADS yourself (then minidl leaves it alone).
"""
import ctypes
import os

import numpy as np  # noqa: F401  (makes sure numpy's OpenBLAS is loaded)

# the entry points of the OpenBLAS builds numpy ships (and of a plain OpenBLAS)
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")


def _loaded_openblas_paths():
    """Paths of the OpenBLAS libraries mapped into this process (Linux only)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    except OSError:  # not Linux: leave the BLAS as it is
        return set()
    return {p for p in paths
            if "openblas" in os.path.basename(p).lower() and ".so" in p}


def set_blas_threads(n: int) -> bool:
    """Ask every loaded OpenBLAS to use n threads; True if one was found."""
    done = False
    for path in _loaded_openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(int(n))
                done = True
                break
    return done


def configure_blas_threads() -> bool:
    """Apply minidl's default (see the module docstring) unless the user chose."""
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return False
    return set_blas_threads(int(os.environ.get("MINIDL_BLAS_THREADS", "1")))
