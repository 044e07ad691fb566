"""Fault injection for files: minidl.save never loses or weakens a file, minidl.load
turns every malformed input into CheckpointError.

Real faults where this machine allows them: a child process killed mid-save, a
full (tiny tmpfs) disk, write protection checked as an unprivileged user (a forked
child that drops root); else the same fault simulated in-process.
"""
import errno
import io
import json
import os
import pathlib
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile

import numpy as np
import pytest

import minidl
from minidl.tools import fileio
from minidl.tools.serialization import CheckpointError

ROOT = pathlib.Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def small_checkpoint():
    return {"w": minidl.tensor([[1.5, -2.0], [3.0, 4.0]]),
            "p": minidl.nn.Parameter(minidl.ones(3)), "step": 7,
            "hist": [0.5, None, "x", (1, 2)], "arr": np.arange(4, dtype=np.int64)}


def same(a, b) -> bool:
    """Equal structure, types, dtypes and values."""
    if isinstance(a, minidl.Tensor):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and a.requires_grad == b.requires_grad
                and np.array_equal(a.detach().numpy(), b.detach().numpy()))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(a) is type(b) and list(a) == list(b) and all(same(a[k], b[k])
                                                                 for k in a)
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def checkpoint_bytes(obj=None) -> bytes:
    buffer = io.BytesIO()
    minidl.save(small_checkpoint() if obj is None else obj, buffer)
    return buffer.getvalue()


def leftovers(folder):
    return sorted(name for name in os.listdir(folder) if fileio.TAG in name)


# ====================================================================== save
def test_save_and_load_through_file_objects_as_torch():
    buffer = io.BytesIO()
    minidl.save(small_checkpoint(), buffer)
    buffer.seek(0)
    assert same(minidl.load(buffer), small_checkpoint())


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604, 0o755])
def test_save_keeps_the_permission_bits(tmp_path, mode):
    path = tmp_path / "c.npz"
    minidl.save({"a": 1}, path)
    path.chmod(mode)
    minidl.save({"a": 2}, path)
    assert (path.stat().st_mode & 0o777, minidl.load(path)) == (mode, {"a": 2})


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        minidl.save({"a": 1}, tmp_path / "c.npz")
    finally:
        os.umask(umask)
    assert (tmp_path / "c.npz").stat().st_mode & 0o777 == 0o644   # not mkstemp's 0600


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.npz"
    minidl.save({"v": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(pathlib.Path("real") / "model.npz")         # a relative link
    minidl.save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == "real/model.npz"
    assert minidl.load(target) == {"v": 2}
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []
    dangling = tmp_path / "new.npz"
    dangling.symlink_to(tmp_path / "real" / "created.npz")      # as open(path, "wb")
    minidl.save({"v": 3}, dangling)
    assert dangling.is_symlink() and minidl.load(tmp_path / "real" / "created.npz") == {
        "v": 3}


def test_save_through_a_symlink_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    for save, name in ((torch.save, "t"), (minidl.save, "m")):
        (tmp_path / f"{name}.target").write_bytes(b"old")
        (tmp_path / f"{name}.link").symlink_to(tmp_path / f"{name}.target")
        save({"v": 1}, tmp_path / f"{name}.link")
        assert (tmp_path / f"{name}.link").is_symlink()
        assert (tmp_path / f"{name}.target").read_bytes() != b"old"


def test_a_loop_of_symlinks_is_an_error_not_a_replaced_link(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError) as info:
        minidl.save({"v": 1}, tmp_path / "a")
    assert info.value.errno == errno.ELOOP
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


def test_save_to_a_folder_is_an_error(tmp_path):
    with pytest.raises(IsADirectoryError, match="folder"):
        minidl.save({"v": 1}, tmp_path)


def test_write_protected_file_is_not_replaced_even_by_root(tmp_path):
    path = tmp_path / "c.npz"
    minidl.save({"v": 1}, path)
    path.chmod(0o444)
    with pytest.raises(PermissionError, match="write-protected"):
        minidl.save({"v": 2}, path)
    assert minidl.load(path) == {"v": 1} and leftovers(tmp_path) == []


def unprivileged(fn):
    """Run fn() as an unprivileged user (a forked child that drops root; in-process
    when not root). Returns ("ok", "") or (exception class name, message)."""
    if not IS_ROOT:
        try:
            fn()
            return "ok", ""
        except Exception as error:
            return type(error).__name__, str(error)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, try, report, leave without cleanup
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            fn()
            result = ("ok", "")
        except BaseException as error:
            result = (type(error).__name__, str(error))
        os.write(write, pickle.dumps(result))
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return pickle.loads(data)


@pytest.fixture
def shared_dir():
    """A folder an unprivileged user can reach (pytest's tmp_path may be private)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="minidl-faults-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_permissions_as_an_unprivileged_user_and_as_torch(shared_dir):
    """A protected file, and a new file in a read-only folder: refused, nothing
    changed. torch.save (2.13) refuses both too, with RuntimeError from its C++ writer."""
    protected = shared_dir / "protected.npz"
    minidl.save({"v": 1}, protected)
    protected.chmod(0o444)
    locked = shared_dir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    cases = {"protected": protected, "read-only folder": locked / "new.npz"}
    for what, path in cases.items():
        kind, message = unprivileged(lambda: minidl.save({"v": 2}, path))
        assert kind == "PermissionError", (what, kind, message)
        assert str(path.name) in message
    assert minidl.load(protected) == {"v": 1}
    assert os.listdir(locked) == [] and leftovers(shared_dir) == []
    torch = pytest.importorskip("torch")
    for what, path in cases.items():
        kind, _ = unprivileged(lambda: torch.save({"v": 2}, str(path)))
        assert kind in ("PermissionError", "RuntimeError"), (what, kind)


def test_a_writable_file_in_a_read_only_folder_is_left_intact(shared_dir):
    """torch.save would overwrite the file in place (not atomic); minidl needs a
    temporary file beside it and says so."""
    folder = shared_dir / "ro"
    folder.mkdir()
    path = folder / "c.npz"
    minidl.save({"v": 1}, path)
    path.chmod(0o666)
    folder.chmod(0o555)
    kind, message = unprivileged(lambda: minidl.save({"v": 2}, path))
    assert kind == "PermissionError" and "temporary file" in message
    folder.chmod(0o755)
    assert minidl.load(path) == {"v": 1} and leftovers(folder) == []


@pytest.mark.parametrize("name", ["a" * 255, "ü" * 127 + ".npz", "x" * 250 + ".npz"])
def test_a_name_as_long_as_the_file_system_allows_still_saves(tmp_path, name):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    name = name.encode()[:limit].decode(errors="ignore")
    minidl.save({"v": 1}, tmp_path / name)
    minidl.save({"v": 2}, tmp_path / name)   # and replaces itself
    assert minidl.load(tmp_path / name) == {"v": 2}
    assert os.listdir(tmp_path) == [name]
    assert len(fileio.temporary_name(tmp_path / name, ".npz").encode()) <= limit


def test_flush_and_fsync_come_before_the_rename_and_the_folder_after(tmp_path,
                                                                     monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", pathlib.Path(src).stat().st_size > 0))
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    monkeypatch.setattr(fileio.os, "replace", replace)
    minidl.save({"v": minidl.ones(10)}, tmp_path / "c.npz")
    assert events == [("fsync", "file"), ("replace", True), ("fsync", "dir")]


def test_an_error_or_ctrl_c_mid_write_leaves_the_old_file_and_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    minidl.save({"v": 1}, path)

    def write_half_then(exception):
        def savez(file, **arrays):
            file.write(b"PK\x03\x04 half a checkpoint")
            raise exception
        return savez

    for exception in (KeyboardInterrupt(), OSError(errno.EIO, "I/O error"),
                      MemoryError()):
        monkeypatch.setattr(np, "savez", write_half_then(exception))
        with pytest.raises(type(exception)):
            minidl.save({"v": 2}, path)
        assert minidl.load(path) == {"v": 1} and os.listdir(tmp_path) == ["c.npz"]


CHILD = """
import sys, numpy as np, minidl
path, big = sys.argv[1], np.ones(8_000_000, np.float32)
print("ready", flush=True)
while True:
    minidl.save({"v": 2, "big": big}, path)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_process_killed_mid_save_loses_nothing(tmp_path, sig):
    """Really kill a child while it writes: the checkpoint stays a complete file; a
    killed writer's temporary file is removed by the next load (Ctrl-C: at once)."""
    path = tmp_path / "c.npz"
    minidl.save({"v": 1}, path)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert child.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until a write is under way
            temporaries = [tmp_path / name for name in leftovers(tmp_path)]
            if any(p.exists() and p.stat().st_size > 1_000_000 for p in temporaries):
                break
        child.send_signal(sig)
        child.wait(30)
    finally:
        child.kill()
        child.wait()
    # Ctrl-C: the writer removed its temporary file; SIGKILL: it could not
    assert bool(leftovers(tmp_path)) == (sig == signal.SIGKILL)
    assert minidl.load(path)["v"] in (1, 2)       # a whole checkpoint, old or new
    assert leftovers(tmp_path) == []              # ...and that load cleaned it up
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]


def test_stale_temporaries_are_cleaned_only_when_provably_ours_and_dead(tmp_path):
    path = tmp_path / "model.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    names = {
        "dead": fileio.temporary_name(path, ".npz", pid=int(dead)),
        "alive": fileio.temporary_name(path, ".npz", pid=os.getppid()),
        "other target": fileio.temporary_name(tmp_path / "other.npz", ".npz",
                                              pid=int(dead)),
        "other host": fileio.temporary_name(path, ".npz", pid=int(dead)).replace(
            fileio._HOST, "0" * 8 if fileio._HOST != "0" * 8 else "1" * 8),
        "user's file": ".model.npz.backup",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    minidl.save({"v": 1}, path)
    assert not (tmp_path / names["dead"]).exists()
    for what in ("alive", "other target", "other host", "user's file"):
        assert (tmp_path / names[what]).exists(), what
    (tmp_path / names["dead"]).write_bytes(b"x")
    minidl.load(path)                             # a load cleans up too
    assert not (tmp_path / names["dead"]).exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 kB tmpfs (root only), else None."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not IS_ROOT or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs",
                                      str(mount)], capture_output=True).returncode:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_keeps_the_old_checkpoint_and_names_the_file(tmp_path, tiny_disk,
                                                               monkeypatch):
    folder = tiny_disk or tmp_path
    path = folder / "c.npz"
    minidl.save({"v": minidl.ones(100)}, path)
    if tiny_disk is None:  # simulate: every write past the first 100 kB fails
        real_savez = np.savez

        def savez(file, **arrays):
            real_savez(file, **arrays)
            if file.tell() > 100_000:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(OSError) as info:
        minidl.save({"v": minidl.ones(200_000)}, path)   # 800 kB: does not fit
    assert info.value.errno == errno.ENOSPC and str(path) in str(info.value)
    assert minidl.load(path)["v"].shape == (100,)
    assert os.listdir(folder) == ["c.npz"]


def test_save_refuses_structures_it_could_not_load(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contain itself"):
        minidl.save(loop, tmp_path / "c.npz")
    deep = 1
    for _ in range(150):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100"):
        minidl.save(deep, tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


# ====================================================================== load
def test_every_flipped_bit_gives_checkpoint_error_or_identical_data():
    """Flip each of the 8 bits of every byte of a small checkpoint, one at a time."""
    data, reference = checkpoint_bytes(), small_checkpoint()
    assert same(minidl.load(io.BytesIO(data)), reference)
    outcomes = {"error": 0, "identical": 0}
    for i in range(len(data)):
        for bit in range(8):
            damaged = bytearray(data)
            damaged[i] ^= 1 << bit
            try:
                loaded = minidl.load(io.BytesIO(bytes(damaged)))
            except CheckpointError:
                outcomes["error"] += 1
                continue
            assert same(loaded, reference), f"byte {i}, bit {bit}: different data"
            outcomes["identical"] += 1
    assert outcomes["error"] > outcomes["identical"] > 0   # (dates, versions: unused)


def test_every_truncation_gives_checkpoint_error(tmp_path):
    data = checkpoint_bytes()
    for n in range(len(data)):
        with pytest.raises(CheckpointError):
            minidl.load(io.BytesIO(data[:n]))
    (tmp_path / "cut.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match=str(tmp_path / "cut.npz")):
        minidl.load(tmp_path / "cut.npz")


def write_npz(path, entries: dict, compression=zipfile.ZIP_STORED):
    """A zip of raw entries {name: bytes} (each gets a valid CRC)."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)


def npy(descr, shape, payload=b"", fortran=False):
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"
    header = header.encode().ljust(118) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def raw_header(text: bytes):
    return npy("|u1", (len(text),), text)


def minidl_header(root):
    return raw_header(json.dumps({"format": "minidl", "version": 1, "root": root}).encode())


@pytest.mark.parametrize("case, match", [
    ("petabytes", r"says shape \(1000000000, 1000000\)"),
    ("shape vs size", "says shape"),
    ("object dtype", "unsupported array header"),
    ("header past end", "header"),
    ("not npy", "not a .npy"),
    ("pickle inside", "torch.save"),
    ("deflated", "compressed"),
    ("bzip2", "compressed"),
    ("lzma", "compressed"),
    ("missing array", "missing"),
    ("unused array", "not referenced"),
    ("array twice", "used twice"),
    ("unknown node", "unknown node"),
    ("bad pair", "key-value pair"),
    ("json list node", "unknown node"),
    ("int with grad", "corrupted"),
    ("scalar shape", "scalar"),
    ("version bool", "unrecognised header"),
    ("version float", "unrecognised header"),
    ("future", "version 7"),
    ("no header", "not a minidl checkpoint"),
    ("deep json", "corrupted header"),
    ("deep structure", "nested over 100"),
    ("huge int", "corrupted header"),
    ("bad utf8", "corrupted header"),
])
def test_crafted_files_with_valid_crcs_are_refused_clearly(tmp_path, case, match,
                                                           monkeypatch):
    """Files whose zip is intact but whose contents lie: no allocation of what a
    header claims, no unpickling, no recursion error -- CheckpointError."""
    monkeypatch.setattr(pickle, "loads", None)   # proof that nothing unpickles
    monkeypatch.setattr(pickle, "load", None)
    f32 = npy("<f4", (2,), np.ones(2, np.float32).tobytes())
    header = minidl_header({"tensor": "0"})
    entries = {
        "petabytes": {"0.npy": npy("<f8", (10**9, 10**6), b"\0" * 16),
                      "__minidl__.npy": header},
        "shape vs size": {"0.npy": npy("<f4", (3,), b"\0" * 8), "__minidl__.npy": header},
        "object dtype": {"0.npy": npy("|O", (1,), pickle.dumps([1])),
                         "__minidl__.npy": header},
        "header past end": {"0.npy": b"\x93NUMPY\x01\x00\xff\xff{'descr'",
                            "__minidl__.npy": header},
        "not npy": {"0.npy": b"hello world", "__minidl__.npy": header},
        "pickle inside": {"archive/data.pkl": pickle.dumps({"a": 1})},
        "deflated": {"0.npy": f32, "__minidl__.npy": header},
        "bzip2": {"0.npy": f32, "__minidl__.npy": header},
        "lzma": {"0.npy": f32, "__minidl__.npy": header},
        "missing array": {"__minidl__.npy": header},
        "unused array": {"0.npy": f32, "1.npy": f32, "__minidl__.npy": header},
        "array twice": {"0.npy": f32, "__minidl__.npy": minidl_header(
            {"list": [{"tensor": "0"}, {"tensor": "0"}]})},
        "unknown node": {"__minidl__.npy": minidl_header({"set": [1, 2]})},
        "bad pair": {"__minidl__.npy": minidl_header({"dict": [[1.5, 2]]})},
        "json list node": {"__minidl__.npy": minidl_header([1, 2])},
        "int with grad": {"0.npy": npy("<i8", (1,), b"\0" * 8), "__minidl__.npy":
                          minidl_header({"tensor": "0", "requires_grad": True})},
        "scalar shape": {"0.npy": f32, "__minidl__.npy": minidl_header({"scalar": "0"})},
        "version bool": {"__minidl__.npy": raw_header(
            b'{"format": "minidl", "version": true, "root": 1}')},
        "version float": {"__minidl__.npy": raw_header(
            b'{"format": "minidl", "version": 1.0, "root": 1}')},
        "future": {"__minidl__.npy": raw_header(
            b'{"format": "minidl", "version": 7, "root": 1}')},
        "no header": {"0.npy": f32},
        "deep json": {"__minidl__.npy": raw_header(b"[" * 200_000)},
        "deep structure": {"__minidl__.npy": minidl_header(json.loads(
            '{"list": [' * 150 + "1" + "]}" * 150))},
        "huge int": {"__minidl__.npy": raw_header(b"9" * 5000)},
        "bad utf8": {"__minidl__.npy": raw_header(b"\xff\xfe\xfd")},
    }[case]
    method = {"deflated": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2,
              "lzma": zipfile.ZIP_LZMA}.get(case, zipfile.ZIP_STORED)
    write_npz(tmp_path / "c.npz", entries, method)
    with pytest.raises(CheckpointError, match=match) as info:
        minidl.load(tmp_path / "c.npz")
    assert str(tmp_path / "c.npz") in str(info.value)


def test_an_entry_stored_twice_is_refused(tmp_path):
    f32 = npy("<f4", (2,), np.ones(2, np.float32).tobytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zipfile: "Duplicate name"
        with zipfile.ZipFile(tmp_path / "c.npz", "w") as archive:
            for name, content in (("0.npy", f32), ("0.npy", f32),
                                  ("__minidl__.npy", minidl_header({"tensor": "0"}))):
                archive.writestr(name, content)
    with pytest.raises(CheckpointError, match="entry '0' twice"):
        minidl.load(tmp_path / "c.npz")


def test_encrypted_entries_are_refused(tmp_path):
    data = bytearray(checkpoint_bytes({"w": minidl.ones(2)}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # flag bits
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 1
            start += 4
    (tmp_path / "c.npz").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="encrypted"):
        minidl.load(tmp_path / "c.npz")


@pytest.mark.parametrize("content", [b"", b"hello\n", b"\x80\x04K\x01.", b"PK\x03\x04",
                                     bytes(range(256)) * 4])
def test_files_of_other_formats_are_refused(tmp_path, content):
    (tmp_path / "c.npz").write_bytes(content)
    with pytest.raises(CheckpointError, match="not a minidl checkpoint|corrupted"):
        minidl.load(tmp_path / "c.npz")


def test_devices_and_folder_names_are_refused_without_reading_forever(tmp_path):
    for device in ("/dev/zero", "/dev/null"):
        if os.path.exists(device):
            with pytest.raises(CheckpointError, match="not a regular file"):
                minidl.load(device)
    with pytest.raises(IsADirectoryError, match="names a folder"):
        minidl.save({"v": 1}, f"{tmp_path}/new/")          # as open("new/", "wb")
    assert os.listdir(tmp_path) == []


def test_a_torch_checkpoint_is_refused_without_unpickling(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    monkeypatch.setattr(pickle, "Unpickler", None)
    with pytest.raises(CheckpointError, match="torch.save.*never unpickles"):
        minidl.load(tmp_path / "t.pt")


def test_missing_and_folder_paths_raise_what_torch_raises(tmp_path):
    torch = pytest.importorskip("torch")
    for path, error in ((tmp_path / "nope.npz", FileNotFoundError),
                        (tmp_path, IsADirectoryError)):
        with pytest.raises(error):
            minidl.load(path)
        with pytest.raises(error):
            torch.load(path)
