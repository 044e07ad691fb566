"""Writing files safely: write a temporary file beside the target, then rename it.

    with atomic_path("model.npz") as tmp:
        np.savez(tmp, ...)

What this guarantees, and how:
  * never half a file: the data goes to a temporary file in the target's folder,
    is flushed to the disk (fsync), and only then renamed over the target
    (os.replace, atomic on one file system; the folder is fsynced too, so the rename
    itself survives a power cut). A reader, or a crash, sees the old file or the new.
  * never lost: after an error or Ctrl-C the temporary file is removed and the
    target is untouched. A process killed outright (SIGKILL, power cut) cannot clean
    up; its temporary file has a name that says it is ours and which process wrote
    it, and the next write or read of the same target removes it once that process
    is gone (clean_stale_temporaries).
  * never weakened: the new file gets the old file's permission bits (and owner,
    where allowed); a symlink is written through to its target and stays a link; a
    file the user protected (no write permission) is not replaced: PermissionError,
    as torch.save / open(path, "w") would raise.
  * the temporary name always fits: it is shortened so that a target whose name is
    as long as the file system allows still saves.
"""
from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import secrets
import socket
import stat
import zlib

TAG = ".minidl-tmp"   # every temporary file's name contains this...
_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"   # ...and the writer's host


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path in path's folder; on success move it onto path.

    `suffix` (default: path's own suffix) ends the temporary name, for tools that
    infer a format from it. Missing parent folders are created. Raises
    PermissionError for a target without write permission, IsADirectoryError for a
    folder, and OSError naming the target when the disk is full or a write fails.
    """
    target, tmp = writable_target(path), None
    try:
        tmp = _create_temporary(target, suffix if suffix is not None else target.suffix)
        yield tmp
        _sync_file(tmp)
        _copy_permissions(target, tmp)
        os.replace(tmp, target)
    except BaseException as error:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(error.errno, f"{os.strerror(error.errno)} while writing "
                          f"{target} (the old file, if any, is untouched)") from error
        raise
    _sync_folder(target.parent)


def writable_target(path) -> pathlib.Path:
    """The file a write to `path` really replaces (a symlink's target), checked.

    Creates missing parent folders. Raises IsADirectoryError if it is a folder and
    PermissionError if it exists without write permission -- checked by its mode
    bits too, so that even root (who may write anything) keeps a protected file."""
    if os.fspath(path).endswith(os.sep):   # "runs/" names a folder, as for open()
        raise IsADirectoryError(errno.EISDIR, "names a folder, not a file", str(path))
    target = pathlib.Path(os.path.realpath(os.fspath(path)))
    if target.is_symlink():   # realpath stops inside a loop of links
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if target.exists() and (not os.access(target, os.W_OK)
                            or not target.stat().st_mode & 0o222):
        raise PermissionError(errno.EACCES, "the file is write-protected (no write "
                              "permission); it was not replaced", str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def temporary_name(target: pathlib.Path, suffix: str, pid: int | None = None) -> str:
    """'.<name>.<host>-<pid>-<random>.minidl-tmp<suffix>', with <name> shortened so
    the whole name fits the folder's limit (usually 255 bytes)."""
    marker = f".{_HOST}-{os.getpid() if pid is None else pid}-{secrets.token_hex(4)}"
    tail = f"{marker}{TAG}{suffix}".encode()
    limit = _name_max(target.parent) - 1 - len(tail)        # 1 for the leading dot
    if limit < 8:   # a suffix too long to keep: drop it (the caller gets .tmp names)
        tail = f"{marker}{TAG}".encode()
        limit = _name_max(target.parent) - 1 - len(tail)
    head = target.name.encode()[:limit].decode(errors="ignore")
    return f".{head}{tail.decode()}"


def clean_stale_temporaries(path) -> list[pathlib.Path]:
    """Remove temporary files left beside `path` by writers on this machine that no
    longer run (killed mid-write); return what was removed. Files whose writer is
    alive, written on another host, or not named by atomic_path are never touched.
    Errors (a read-only folder, a race with another cleaner) are ignored."""
    target = pathlib.Path(os.path.realpath(os.fspath(path)))
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        pid = _writer_pid(name, target)
        if pid is not None and not _process_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(target.parent / name)
                removed.append(target.parent / name)
    return removed


# ------------------------------------------------------------------ the pieces
def _create_temporary(target: pathlib.Path, suffix: str) -> pathlib.Path:
    clean_stale_temporaries(target)
    umask = os.umask(0)
    os.umask(umask)
    for _ in range(100):  # a random name; retry on the (very unlikely) collision
        tmp = target.parent / temporary_name(target, suffix)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~umask)
        except FileExistsError:
            continue
        except OSError as error:  # e.g. a read-only folder or file system
            raise type(error)(error.errno, f"cannot create a temporary file in "
                              f"{target.parent} to write {target.name} atomically: "
                              f"{error.strerror}", str(target)) from None
        os.close(fd)
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


def _sync_file(tmp: pathlib.Path) -> None:
    """Flush the written data from the OS's cache to the disk."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: pathlib.Path) -> None:
    """Make the rename durable; some file systems cannot fsync a folder (ignored)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _copy_permissions(target: pathlib.Path, tmp: pathlib.Path) -> None:
    """Give the new file the old one's mode bits (and owner, if we may)."""
    try:
        old = target.stat()
    except FileNotFoundError:
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown"):
        with contextlib.suppress(PermissionError):
            new = tmp.stat()
            if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
                os.chown(tmp, old.st_uid, old.st_gid)


def _name_max(folder: pathlib.Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _writer_pid(name: str, target: pathlib.Path) -> int | None:
    """The pid in `name` if it is a temporary file of `target` written on this host."""
    if not name.startswith(".") or TAG not in name:
        return None
    head, _, rest = name[1:].rpartition(TAG)[0].rpartition(".")
    if not target.name.startswith(head):
        return None
    host, _, pid_and_token = rest.partition("-")
    pid = pid_and_token.partition("-")[0]
    return int(pid) if host == _HOST and pid.isdigit() else None


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True   # it exists (owned by someone else), or we cannot tell: keep
    return True
