"""IDX files, MNIST search order, downloads (from a local HTTP server) and the subset.

No test touches the real network or writes outside tmp_path: an autouse fixture points
the cache at tmp_path, clears MINIDL_DATA and replaces the mirrors with a closed port.
"""
import functools
import gzip
import hashlib
import http.server
import importlib
import os
import pathlib
import socket
import threading

import numpy as np
import pytest

import minidl
from minidl.data import (MNIST, DataLoader, DownloadError, IDXError, download_mnist,
                         mnist, read_idx, write_idx)
from minidl.data.idx import encode_idx

# the module (the name minidl.data.mnist is the function mnist())
mnist_module = importlib.import_module("minidl.data.mnist")
make_subset_module = importlib.import_module("minidl.data.make_subset")
NAMES = list(mnist_module.FILES)  # train images, train labels, test images, labels


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"   # nothing listens there any more


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MINIDL_DATA", raising=False)
    monkeypatch.setattr(mnist_module, "MIRRORS", (closed_port_url(),))
    monkeypatch.setattr(mnist_module, "_using_subset", False)


def fake_mnist(seed, n_train=5, n_test=3):
    """Small synthetic 'MNIST' arrays {file name: array} (labels encode the seed)."""
    rng = np.random.default_rng(seed)
    return {NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            NAMES[1]: np.full(n_train, seed % 10, np.uint8),
            NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            NAMES[3]: np.full(n_test, seed % 10, np.uint8)}


def file_table(arrays):
    """The FILES-style table (MD5, size of the uncompressed file) for fake arrays."""
    return {name: mnist_module.FileInfo(hashlib.md5(encode_idx(a)).hexdigest(),
                                        len(encode_idx(a)))
            for name, a in arrays.items()}


@functools.lru_cache(maxsize=None)
def full_mnist(directory, split):
    """The official files, read (and MD5-checked) once for all tests."""
    return mnist(directory, split)


def write_set(directory, arrays, gz=True):
    for name, a in arrays.items():
        write_idx(pathlib.Path(directory) / (name + (".gz" if gz else "")), a)


# ----------------------------------------------------------------------------- IDX
@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("shape", [(7,), (3, 28, 28), (2, 1, 4, 5), (0, 3)])
def test_idx_round_trip(tmp_path, rng, suffix, shape):
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / f"x-idx{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == np.uint8 and b.shape == shape and b.flags.writeable
    np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == [path.name]          # no temporary file left behind


def test_idx_header_bytes_and_deterministic_gzip(tmp_path):
    labels = np.array([5, 0, 4], np.int64)                # small ints are accepted
    assert encode_idx(labels) == bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4])
    write_idx(tmp_path / "a.gz", labels)
    write_idx(tmp_path / "b.gz", labels)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    with pytest.raises(TypeError, match="0..255"):
        encode_idx(np.array([1, 300]))
    with pytest.raises(TypeError, match="dtype float32"):
        encode_idx(np.zeros(3, np.float32))


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x07")   # type 0x0d = float32
    with pytest.raises(IDXError, match=r"bad magic number 0x00000d01.*0x00000803"):
        read_idx(path)
    path.write_bytes(b"PK\x03\x04 a zip file, not IDX")
    with pytest.raises(IDXError, match=f"{path}: bad magic"):
        read_idx(path)


def test_idx_truncated_payload_names_file_and_sizes(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    path.write_bytes(gzip.compress(header + bytes(1000)))
    with pytest.raises(IDXError, match=rf"{path}: expected 47040000 bytes of data for "
                                       r"shape \(60000, 28, 28\), found 1000 \(file truncated"):
        read_idx(path)
    path.write_bytes(header[:10])
    with pytest.raises(IDXError, match="header truncated"):
        read_idx(path)
    path.write_bytes(encode_idx(np.zeros(3, np.uint8)) + b"junk")
    with pytest.raises(IDXError, match="expected 3 bytes of data for shape \\(3,\\), found 7"):
        read_idx(path)


def test_idx_broken_gzip_stream(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.arange(200, dtype=np.uint8).reshape(10, 20))
    path.write_bytes(path.read_bytes()[:-12])            # cut the end of the stream
    with pytest.raises(IDXError, match="gzip data is damaged or truncated"):
        read_idx(path)


def test_idx_wrong_number_of_dimensions(tmp_path):
    path = tmp_path / "labels"
    write_idx(path, np.zeros(4, np.uint8))
    with pytest.raises(IDXError, match=r"expected 3 dimension\(s\) \(magic 0x00000803\), "
                                       r"found 1 \(magic 0x00000801\)"):
        read_idx(path, ndim=3)


# ------------------------------------------------------------- local HTTP mirrors
class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves server.routes[path] = (body, mode); mode "cut" sends half the body and
    hangs up (with the full Content-Length), "cut-nolength" the same without one."""

    def do_GET(self):
        self.server.requests.append(self.path)
        body, mode = self.server.routes.get(self.path, (None, None))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        if mode != "cut-nolength":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if mode is None else body[:len(body) // 2])
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MirrorHandler)
    srv.routes, srv.requests = {}, []
    srv.url = lambda mirror: f"http://127.0.0.1:{srv.server_address[1]}/{mirror}/"
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def serve(server, mirror, arrays, mode=None):
    for name, a in arrays.items():
        body = gzip.compress(encode_idx(a), mtime=0)
        server.routes[f"/{mirror}/{name}.gz"] = (body, mode)


def test_download_then_cache_is_reused(server, tmp_path, monkeypatch):
    arrays = fake_mnist(1)
    serve(server, "m1", arrays)
    monkeypatch.setattr(mnist_module, "MIRRORS", (server.url("m1"),))
    monkeypatch.setattr(mnist_module, "FILES", file_table(arrays))
    cache = tmp_path / "xdg" / "minidl" / "mnist"
    images, labels, source = mnist(split="train", verbose=False)
    assert source == f"download: {cache}"
    np.testing.assert_array_equal(images, arrays[NAMES[0]])
    assert labels.dtype == np.int64 and labels.tolist() == [1] * 5
    assert sorted(os.listdir(cache)) == sorted(f"{n}.gz" for n in NAMES)
    assert len(server.requests) == 4
    again = mnist(split="test", verbose=False)
    assert again.source == f"cache: {cache}" and len(again.images) == 3
    assert len(server.requests) == 4                    # no new request


def test_download_goes_into_root_when_given(server, tmp_path, monkeypatch):
    arrays = fake_mnist(2)
    serve(server, "m1", arrays)
    monkeypatch.setattr(mnist_module, "MIRRORS", (server.url("m1"),))
    monkeypatch.setattr(mnist_module, "FILES", file_table(arrays))
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(FileNotFoundError, match="holds 0 of the 4"):
        mnist(root, split="test", verbose=False)       # a named folder is not filled...
    assert server.requests == []
    assert mnist(root, split="test", download=True,    # ...unless asked to
                 verbose=False).source == f"root: {root}"
    assert len(os.listdir(root)) == 4
    assert not (tmp_path / "xdg").exists()


def test_checksum_failure_falls_back_to_next_mirror(server, tmp_path, capsys):
    good, bad = fake_mnist(3), fake_mnist(4)
    serve(server, "m1", bad)
    serve(server, "m2", good)
    root = download_mnist(tmp_path / "d", mirrors=[server.url("m1"), server.url("m2")],
                          files=file_table(good))
    for name, a in good.items():
        np.testing.assert_array_equal(read_idx(root / f"{name}.gz"), a)
    assert sorted(os.listdir(root)) == sorted(f"{n}.gz" for n in NAMES)
    assert server.requests[:2] == [f"/m1/{NAMES[0]}.gz", f"/m2/{NAMES[0]}.gz"]
    assert "downloaded" in capsys.readouterr().err


def test_404_on_one_mirror(server, tmp_path):
    good = fake_mnist(5)
    serve(server, "m2", good)                            # m1 has nothing: 404
    root = download_mnist(tmp_path, mirrors=[server.url("m1"), server.url("m2")],
                          files=file_table(good), verbose=False)
    assert len(os.listdir(root)) == 4


def test_all_mirrors_fail_clear_error_and_no_files(server, tmp_path):
    good = fake_mnist(6)
    serve(server, "m1", fake_mnist(7))                   # wrong checksums
    mirrors = [server.url("m1"), server.url("m404"), closed_port_url()]
    target = tmp_path / "d"
    with pytest.raises(DownloadError) as info:
        download_mnist(target, mirrors=mirrors, files=file_table(good), verbose=False)
    message = str(info.value)
    assert f"could not download {NAMES[0]}.gz" in message
    for mirror in mirrors:
        assert f"{mirror}{NAMES[0]}.gz" in message
    assert "has MD5" in message and "404" in message
    assert not target.exists() or os.listdir(target) == []


@pytest.mark.parametrize("mode", ["cut", "cut-nolength"])
def test_truncated_transfer_leaves_no_partial_file(server, tmp_path, mode):
    good = fake_mnist(8)
    serve(server, "m1", good, mode=mode)
    target = tmp_path / "d"
    reason = "connection closed after" if mode == "cut" else "damaged or truncated"
    with pytest.raises(DownloadError, match=reason):
        download_mnist(target, mirrors=[server.url("m1")], files=file_table(good),
                       verbose=False)
    assert not target.exists() or os.listdir(target) == []
    serve(server, "m2", good)                            # a healthy second mirror
    download_mnist(target, mirrors=[server.url("m1"), server.url("m2")],
                   files=file_table(good), verbose=False)
    assert sorted(os.listdir(target)) == sorted(f"{n}.gz" for n in NAMES)


def test_interrupted_download_leaves_no_partial_file(server, tmp_path, monkeypatch):
    good = fake_mnist(9)
    serve(server, "m1", good)

    def copy_then_interrupt(src, dst, *args):
        dst.write(src.read(10))
        raise KeyboardInterrupt

    monkeypatch.setattr(mnist_module.shutil, "copyfileobj", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        download_mnist(tmp_path / "d", mirrors=[server.url("m1")], files=file_table(good))
    assert os.listdir(tmp_path / "d") == []


# ------------------------------------------------------------------ search order
def test_search_order_root_then_env_then_cache(tmp_path, monkeypatch):
    root, env = tmp_path / "root", tmp_path / "env"
    cache = tmp_path / "xdg" / "minidl" / "mnist"
    write_set(root, fake_mnist(1))
    write_set(env, fake_mnist(2), gz=False)              # uncompressed files work too
    write_set(cache, fake_mnist(3))
    monkeypatch.setenv("MINIDL_DATA", str(env))

    def found(r):
        result = mnist(r, download=False, check_md5=False)
        return result.labels[0], result.source

    assert found(root) == (1, f"root: {root}")
    assert found(None) == (2, f"MINIDL_DATA: {env}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        found(tmp_path / "missing")                     # a named folder is never skipped
    monkeypatch.delenv("MINIDL_DATA")
    assert found(None) == (3, f"cache: {cache}")


def test_damaged_local_file_is_an_error_not_skipped(tmp_path):
    write_set(tmp_path, fake_mnist(1))                   # not the official MD5s
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte has 3936 bytes of IDX "
                                         r"data, the expected file has 47040016"):
        mnist(tmp_path)
    images, _, _ = mnist(tmp_path, check_md5=False)
    assert images.shape == (5, 28, 28)
    labels = tmp_path / f"{NAMES[1]}.gz"
    labels.write_bytes(labels.read_bytes()[:20])
    with pytest.raises(IDXError, match=str(labels)):
        mnist(tmp_path, check_md5=False)


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        mnist(split="validation")


# -------------------------------------------------------------- embedded subset
def test_subset_when_offline_with_one_line_notice(tmp_path, capsys):
    train = mnist()                                      # mirrors unreachable
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "10,000 training / 2,000 test" in err
    assert "root=" in err and "MINIDL_DATA" in err
    test = mnist(split="test", download=False)
    assert capsys.readouterr().err == ""                 # once per process
    assert train.source == test.source == mnist_module.SUBSET_SOURCE
    assert train.images.shape == (10000, 28, 28) and test.images.shape == (2000, 28, 28)
    assert train.images.dtype == np.uint8 and train.labels.dtype == np.int64
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert sorted(np.unique(train.labels)) == list(range(10))
    assert not (tmp_path / "xdg" / "minidl" / "mnist").exists() or \
        os.listdir(tmp_path / "xdg" / "minidl" / "mnist") == []


def test_subset_quiet_when_not_verbose(capsys):
    mnist(split="test", download=False, verbose=False)
    assert capsys.readouterr().err == ""


def test_subset_files_are_package_data():
    folder = pathlib.Path(mnist_module.__file__).parent / "mnist_subset"
    assert sorted(p.name for p in folder.glob("*.gz")) == sorted(f"{n}.gz" for n in NAMES)


def test_subset_is_the_start_of_full_mnist(full_mnist_dir):
    for split, n in mnist_module.SUBSET_SIZES.items():
        full = full_mnist(full_mnist_dir, split)
        sub = mnist(split=split, download=False, verbose=False)
        np.testing.assert_array_equal(sub.images, full.images[:n])
        np.testing.assert_array_equal(sub.labels, full.labels[:n])


def test_make_subset_writes_the_first_images(full_mnist_dir, tmp_path, monkeypatch):
    # the shipped files are checked above; here the tool itself, on a small subset
    monkeypatch.setattr(make_subset_module, "SUBSET_SIZES", {"train": 20, "test": 10})
    md5s = make_subset_module.make_subset(full_mnist_dir, tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(f"{n}.gz" for n in NAMES)
    for split, n in {"train": 20, "test": 10}.items():
        full = full_mnist(full_mnist_dir, split)
        for name, array in zip(mnist_module.SPLITS[split], full[:2]):
            written = read_idx(tmp_path / f"{name}.gz")
            np.testing.assert_array_equal(written, array[:n])
            assert md5s[name] == hashlib.md5(encode_idx(array[:n])).hexdigest()


# ------------------------------------------------------------------ full MNIST
def test_full_mnist_sizes_and_md5(full_mnist_dir):
    train, test = full_mnist(full_mnist_dir, "train"), full_mnist(full_mnist_dir, "test")
    assert train.images.shape == (60000, 28, 28) and train.labels.shape == (60000,)
    assert test.images.shape == (10000, 28, 28) and test.labels.shape == (10000,)
    assert train.source == f"root: {full_mnist_dir}"
    arrays = (train.images, train.labels, test.images, test.labels)
    for (name, info), array in zip(mnist_module.FILES.items(), arrays):
        content = encode_idx(array)
        assert hashlib.md5(content).hexdigest() == info.md5 and len(content) == info.size


# ------------------------------------------------------------- MNIST Dataset
def test_mnist_dataset_items_batches_and_loader():
    ds = MNIST(train=False, download=False, limit=100)
    assert len(ds) == 100 and "test" in repr(ds)
    image, label = ds[0]
    assert isinstance(image, minidl.Tensor) and image.shape == (1, 28, 28)
    assert image.dtype == np.float32 and label == 7
    assert 0 <= image.numpy().min() and image.numpy().max() <= 1
    np.testing.assert_array_equal(image.numpy()[0] * 255, ds.data[0])
    x, y = next(iter(DataLoader(ds, batch_size=32, shuffle=True, seed=0)))
    assert x.shape == (32, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    # the fast path (get_batch) gives what stacking the items one by one gives
    xs, ys = next(iter(DataLoader(ds, batch_size=32, shuffle=True, seed=0,
                                  collate_fn=minidl.data.default_collate)))
    np.testing.assert_array_equal(x.numpy(), xs.numpy())
    np.testing.assert_array_equal(y.numpy(), ys.numpy())
    assert not np.array_equal(y.numpy(), ds.targets[:32])   # shuffled
    assert len(MNIST(download=False, limit=10**9)) == 10000


def test_mnist_dataset_transform_per_image():
    ds = MNIST(train=False, download=False, limit=8, transform=lambda im: 1 - im)
    image, _ = ds[1]
    np.testing.assert_allclose(image.numpy()[0], 1 - ds.data[1] / np.float32(255),
                               rtol=1e-6)
    x, _ = ds.get_batch(np.array([1, 2]))
    np.testing.assert_array_equal(x[0], image.numpy())
    with pytest.raises(ValueError, match="limit must be a non-negative integer"):
        MNIST(download=False, limit=-1)


# ------------------------------------------------- a named folder: used or refused
def test_a_named_folder_that_is_missing_or_a_file_is_refused(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"root=.*nope does not exist"):
        mnist(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        mnist(tmp_path / "file")
    monkeypatch.setenv("MINIDL_DATA", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=r"\$MINIDL_DATA=.*typo does not exist"):
        mnist()                                          # not the cache, not the subset


@pytest.mark.parametrize("present", [0, 1, 2, 3])
def test_an_incomplete_named_folder_lists_what_is_found_and_missing(tmp_path, present,
                                                                   monkeypatch):
    arrays = fake_mnist(1)
    write_set(tmp_path, {n: arrays[n] for n in NAMES[:present]})
    (tmp_path / "train-images.idx3-ubyte").write_bytes(b"kaggle's name")
    for named in ("root", "env"):
        if named == "env":
            monkeypatch.setenv("MINIDL_DATA", str(tmp_path))
        with pytest.raises(FileNotFoundError) as info:
            # even the split whose two files are there: train and test from one place
            mnist(tmp_path if named == "root" else None, split="train", check_md5=False)
        message = str(info.value)
        assert f"holds {present} of the 4" in message
        found, missing = message.split("; missing ")
        assert all(f"{n}.gz" in found for n in NAMES[:present])
        assert all(n in missing and n not in found for n in NAMES[present:])
        assert "other files there: train-images.idx3-ubyte" in message
        assert "download=True" in message


def test_download_true_fills_a_named_folder_or_raises_never_the_subset(server, tmp_path):
    with pytest.raises(DownloadError):
        mnist(tmp_path, download=True)                   # offline
    with pytest.raises(DownloadError):
        mnist(download=True)                              # asked for, so no fallback
    assert mnist_module._using_subset is False


def test_train_and_test_never_come_from_different_places(server, tmp_path, monkeypatch):
    """Offline with a half-filled cache: both splits from the subset -- and they stay
    there for the process even if the cache is completed in between."""
    cache = tmp_path / "xdg" / "minidl" / "mnist"
    write_set(cache, {n: a for n, a in fake_mnist(1).items() if n in NAMES[:2]})
    train = mnist(split="train", verbose=False, check_md5=False)
    write_set(cache, fake_mnist(1))                      # the cache is complete now
    test = mnist(split="test", verbose=False, check_md5=False)
    assert train.source == test.source == mnist_module.SUBSET_SOURCE
    monkeypatch.setattr(mnist_module, "_using_subset", False)     # a new process
    assert mnist(split="test", verbose=False, check_md5=False).source == f"cache: {cache}"


def test_a_download_that_dies_mid_file_leaves_nothing_in_the_cache(server, tmp_path,
                                                                   monkeypatch):
    arrays = fake_mnist(4)
    serve(server, "m1", arrays)
    monkeypatch.setattr(mnist_module, "MIRRORS", (server.url("m1"),))
    monkeypatch.setattr(mnist_module, "FILES", file_table(arrays))
    real_copy, calls = mnist_module.shutil.copyfileobj, []

    def die_in_third_file(src, dst, *args):
        calls.append(1)
        if len(calls) == 3:
            dst.write(src.read(100))
            raise ConnectionResetError(104, "Connection reset by peer")
        return real_copy(src, dst, *args)

    monkeypatch.setattr(mnist_module.shutil, "copyfileobj", die_in_third_file)
    cache = tmp_path / "xdg" / "minidl" / "mnist"
    assert mnist(split="train", verbose=False).source == mnist_module.SUBSET_SOURCE
    assert sorted(os.listdir(cache)) == sorted(f"{n}.gz" for n in NAMES[:2])  # whole
    for name in NAMES[:2]:
        np.testing.assert_array_equal(read_idx(cache / f"{name}.gz"), arrays[name])
    monkeypatch.setattr(mnist_module, "_using_subset", False)     # a new process
    monkeypatch.setattr(mnist_module.shutil, "copyfileobj", real_copy)
    assert mnist(split="test", verbose=False).source == f"download: {cache}"
    assert sorted(os.listdir(cache)) == sorted(f"{n}.gz" for n in NAMES)


# ------------------------------------------------- transforms that misbehave
def naming(*parts):
    return ".*".join(parts)


def test_a_transform_that_raises_is_named_with_the_item(monkeypatch):
    def crop(image):
        raise IndexError("crop window outside the image")
    ds = MNIST(train=False, download=False, limit=8, transform=crop)
    with pytest.raises(IndexError, match=naming("MNIST transform", "crop", "item 5",
                                                "crop window outside")) as info:
        ds[5]
    assert isinstance(info.value.__cause__, IndexError)
    with pytest.raises(IndexError, match="item 3"):
        ds.get_batch(np.array([3, 4]))


def test_a_transform_returning_none_or_other_shapes_is_named_with_the_item():
    def forgot_return(image):
        image * 2
    ds = MNIST(train=False, download=False, limit=8, transform=forgot_return)
    with pytest.raises(TypeError, match=naming("forgot_return", "returned None for "
                                               "item 2", "forget `return`")):
        ds[2]

    def sometimes_cropped(image):
        return image[:, :20] if image.sum() > 100 else image
    ds = MNIST(train=False, download=False, limit=8, transform=sometimes_cropped)
    sums = [float(ds.data[i].sum()) / 255 for i in range(8)]
    assert min(sums) <= 100 < max(sums)
    with pytest.raises(ValueError, match=naming("MNIST transform sometimes_cropped",
                                                r"item \d", r"shape \(1, 2\d, 28\)",
                                                r"item 0 has \(1, 2\d, 28\)")):
        list(DataLoader(ds, batch_size=8))
    with pytest.raises(TypeError, match="gave str .*for item 0"):
        MNIST(train=False, download=False, limit=2, transform=lambda im: "x")[0]
    tensor_out = MNIST(train=False, download=False, limit=2,
                       transform=lambda im: minidl.tensor(im) * 2)
    assert tensor_out.get_batch(np.array([0, 1]))[0].shape == (2, 1, 28, 28)
