"""Writing files safely: write to a temporary file beside the target, then rename.

os.replace is atomic on one filesystem, so a reader (or a crash) never sees a
half-written checkpoint, plot or download: either the old file or the new one.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path in path's directory; on success rename it to path.

        with atomic_path("model.npz") as tmp:
            np.savez(tmp, ...)

    On an exception the temporary file is removed and `path` is left untouched.
    `suffix` (default: path's own suffix) keeps tools that infer formats happy.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix
                               or ".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; use normal permissions
    try:
        yield pathlib.Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
