"""MNIST: find the handwritten digits on disk, download them, or use the built-in subset.

mnist(root, split) returns (images uint8 (N, 28, 28), labels int64 (N,), source).
Where the data comes from:
  * a folder you name -- root=DIR, or else the environment variable MINIDL_DATA --
    is used, or refused: it must hold all four official files (train and test, so
    the two always come from the same place). If it is missing, or holds only some
    of them, the error lists what was found and what is missing; download=True
    fetches the missing files into it instead.
  * naming no folder: the cache $XDG_CACHE_HOME/minidl/mnist (~/.cache/minidl/mnist);
    missing files are downloaded into it (each from the first mirror that works,
    checked against its MD5, written atomically: never a half-written file); when
    that fails (offline), the subset shipped inside minidl -- the first 10,000
    training and 2,000 test images -- with a one-line notice, and from then on for
    the whole process, so training and test data never mix the two.
A folder holds the files under their official names, gzipped (.gz) or not (a
torchvision data/MNIST/raw folder works). Every file read is checked (IDX header,
size, and unless check_md5=False the official MD5): a damaged file is an error
naming it, never skipped. `source` says where the data came from.

MNIST(...) wraps the arrays as a Dataset of float32 images in [0, 1], shape (1, 28, 28).
"""
from __future__ import annotations

import functools
import hashlib
import http.client
import importlib.resources
import os
import pathlib
import shutil
import sys
import urllib.request
from typing import NamedTuple

import numpy as np

from ..tools.fileio import atomic_path
from ..tensor import Tensor
from . import checks
from .checks import describe
from .dataset import Dataset
from .idx import encode_idx, read_idx


class FileInfo(NamedTuple):
    md5: str    # MD5 of the uncompressed file
    size: int   # length of the uncompressed file in bytes


SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

FILES = {  # the official files: 60,000 training and 10,000 test images
    "train-images-idx3-ubyte": FileInfo("6bbc9ace898e44ae57da46a324031adb", 47040016),
    "train-labels-idx1-ubyte": FileInfo("a25bea736e30d166cdddb491f175f624", 60008),
    "t10k-images-idx3-ubyte": FileInfo("2646ac647ad5339dbf082846283269ea", 7840016),
    "t10k-labels-idx1-ubyte": FileInfo("27ae3e4e09519cfbb04c329615203637", 10008),
}

SUBSET_SIZES = {"train": 10_000, "test": 2_000}
SUBSET_FILES = {  # minidl/data/mnist_subset/, written by make_subset.py
    "train-images-idx3-ubyte": FileInfo("63a563d3843dba5073e604e3a7990e87", 7840016),
    "train-labels-idx1-ubyte": FileInfo("e6ef65212ddc6f9010e22d95b5269050", 10008),
    "t10k-images-idx3-ubyte": FileInfo("014beca301477cb2e974ccd9bba2262c", 1568016),
    "t10k-labels-idx1-ubyte": FileInfo("a82723c4f1ffcf0f0a0d4d06f6c879a0", 2008),
}
SUBSET_SOURCE = "subset: the first 10,000 training / 2,000 test images, built into minidl"

MIRRORS = (  # tried in order; each serves <name>.gz
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
TIMEOUT = 10.0  # seconds to wait to connect, and for each read, before giving up


class DownloadError(OSError):
    """No mirror delivered a file with the right checksum."""


class MNISTArrays(NamedTuple):
    images: np.ndarray   # uint8 (N, 28, 28), 0 = background, 255 = ink
    labels: np.ndarray   # int64 (N,), the digits 0..9
    source: str          # "root: DIR", "MINIDL_DATA: DIR", "cache: DIR",
                         # "download: DIR" or SUBSET_SOURCE


def cache_dir() -> pathlib.Path:
    """Where downloads go when no root is given: $XDG_CACHE_HOME/minidl/mnist."""
    cache = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(cache) / "minidl" / "mnist"


def mnist(root=None, split: str = "train", download: bool | None = None,
          verbose: bool = True, check_md5: bool = True) -> MNISTArrays:
    """The MNIST `split` ("train" or "test") as arrays (see the module docstring).

    download: None (default) downloads only into the cache, when no folder is named,
    and falls back to the built-in subset when offline; True also fills a named
    folder, and raises DownloadError instead of falling back; False never downloads.
    check_md5=False accepts files that are not the official ones (e.g. Fashion-MNIST,
    in the same format). verbose=False silences the download and subset messages.
    """
    if split not in SPLITS:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    files = FILES if check_md5 else None
    named = _named_folder(root)
    if named is not None:
        how, folder = named
        _check_named_folder(folder, how, download, verbose)
        return _load(_find_split(folder, split), files, f"{how}: {folder}")
    cache = cache_dir()
    if _using_subset and not download:  # keep train and test from the same place
        return _load_subset(split, verbose)
    if _find_all(cache) is not None:
        return _load(_find_split(cache, split), files, f"cache: {cache}")
    if download is not False:
        try:
            download_mnist(cache, verbose=verbose)
            return _load(_find_split(cache, split), files, f"download: {cache}")
        except DownloadError:
            if download:
                raise
    return _load_subset(split, verbose)


def _named_folder(root) -> tuple[str, pathlib.Path] | None:
    """("root", DIR) or ("MINIDL_DATA", DIR) for the folder the user named, if any."""
    if root is not None:
        return "root", pathlib.Path(root).expanduser()
    if os.environ.get("MINIDL_DATA"):
        return "MINIDL_DATA", pathlib.Path(os.environ["MINIDL_DATA"]).expanduser()
    return None


def _check_named_folder(folder: pathlib.Path, how, download, verbose) -> None:
    """Raise unless `folder` holds all four files (after downloading them into it,
    if download=True): FileNotFoundError listing what is there and what is not."""
    named = "root=" if how == "root" else "$MINIDL_DATA="
    if not folder.exists():
        raise FileNotFoundError(f"mnist: the data folder {named}{folder} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"mnist: the data folder {named}{folder} is a file, "
                                 "not a folder")
    if _find_all(folder) is not None:
        return
    if download:
        download_mnist(folder, verbose=verbose)
        return
    found = [path.name for path in map(functools.partial(_find, folder), FILES) if path]
    missing = [f"{name}[.gz]" for name in FILES if _find(folder, name) is None]
    others = sorted(set(os.listdir(folder)) - set(found))
    listing = (f"found {', '.join(found) or 'none of them'}; missing "
               f"{', '.join(missing)}")
    if others:
        listing += (f"; other files there: {', '.join(others[:8])}"
                    f"{', ...' if len(others) > 8 else ''}")
    raise FileNotFoundError(
        f"mnist: the data folder {named}{folder} holds {4 - len(missing)} of the 4 "
        f"MNIST files (train and test, under their official names): {listing}. Add "
        "the missing files, pass download=True to fetch them into it, or name no "
        "folder to use the cache or the built-in subset")


def download_mnist(root, mirrors=None, files=None, timeout: float = TIMEOUT,
                   verbose: bool = True) -> pathlib.Path:
    """Download every file of `files` (default FILES) missing from root; return root.

    Each file is fetched as <mirror><name>.gz from the first of `mirrors` (default
    MIRRORS) that answers and whose content has the right MD5. It is streamed into a
    temporary file beside its target and renamed into place only once verified, so an
    error or Ctrl-C never leaves a half-written file. Raises DownloadError listing
    every URL tried and why it failed.
    """
    mirrors = MIRRORS if mirrors is None else mirrors
    files = FILES if files is None else files
    root = pathlib.Path(root)
    for name, info in files.items():
        if _find(root, name) is None:
            _download_file(root / f"{name}.gz", name, info, mirrors, timeout, verbose)
    return root


def _download_file(dest: pathlib.Path, name, info, mirrors, timeout, verbose):
    failures = []
    for mirror in mirrors:
        url = f"{mirror}{name}.gz"
        try:
            with atomic_path(dest) as tmp:
                with urllib.request.urlopen(url, timeout=timeout) as response, \
                        open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
                    expected, received = response.headers["Content-Length"], out.tell()
                if expected is not None and received != int(expected):
                    raise OSError(f"connection closed after {received} of {expected} bytes")
                _check(read_idx(tmp), name, info, url)
        except (OSError, http.client.HTTPException, ValueError) as e:
            failures.append(f"{url}: {e}")
            continue
        if verbose:
            print(f"minidl: downloaded {dest} from {url}", file=sys.stderr)
        return
    tried = "\n  ".join(failures) or "(no mirrors given)"
    raise DownloadError(f"could not download {name}.gz into {dest.parent}; tried:\n  {tried}")


def _check(array, name, info: FileInfo, where) -> None:
    """Raise ValueError unless `array` encodes to the file described by `info`."""
    content = encode_idx(array)
    if len(content) != info.size:
        raise ValueError(f"{where}: {name} has {len(content)} bytes of IDX data, the "
                         f"expected file has {info.size}")
    md5 = hashlib.md5(content).hexdigest()
    if md5 != info.md5:
        raise ValueError(f"{where}: {name} has MD5 {md5}, expected {info.md5} (a damaged "
                         "or different file; delete it to re-download, or pass "
                         "check_md5=False to load it anyway)")


def _find(directory, name) -> pathlib.Path | None:
    """directory/name or directory/name.gz, whichever exists."""
    for path in (pathlib.Path(directory) / name, pathlib.Path(directory) / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def _find_split(directory, split) -> dict | None:
    """{file name: path} for the split's images and labels, if both are in directory."""
    paths = {name: _find(directory, name) for name in SPLITS[split]}
    return paths if all(paths.values()) else None


def _find_all(directory) -> dict | None:
    """{file name: path} for all four files, if all are in directory."""
    paths = {name: _find(directory, name) for name in FILES}
    return paths if all(paths.values()) else None


def _load(paths: dict, files: dict | None, source: str) -> MNISTArrays:
    """Read the images and labels at `paths`, checked against `files` if given."""
    (images_name, images_path), (labels_name, labels_path) = paths.items()
    images, labels = read_idx(images_path, ndim=3), read_idx(labels_path, ndim=1)
    if files is not None:
        _check(images, images_name, files[images_name], images_path)
        _check(labels, labels_name, files[labels_name], labels_path)
    if len(images) != len(labels):
        raise ValueError(f"mnist: {images_path} has {len(images)} images but "
                         f"{labels_path} has {len(labels)} labels")
    return MNISTArrays(images, labels.astype(np.int64), source)


_using_subset = False  # once a process uses the subset, it stays on it (one notice)


def _load_subset(split, verbose) -> MNISTArrays:
    global _using_subset
    if verbose and not _using_subset:
        print("minidl: full MNIST not on disk and not downloaded; using the built-in "
              "subset of 10,000 training / 2,000 test images (for all 70,000: pass "
              "root=DIR, set MINIDL_DATA=DIR, or go online)", file=sys.stderr)
    _using_subset = True
    folder = importlib.resources.files(__package__) / "mnist_subset"
    with importlib.resources.as_file(folder / f"{SPLITS[split][0]}.gz") as images, \
            importlib.resources.as_file(folder / f"{SPLITS[split][1]}.gz") as labels:
        paths = dict(zip(SPLITS[split], (images, labels)))
        return _load(paths, SUBSET_FILES, SUBSET_SOURCE)


class MNIST(Dataset):
    """MNIST as a Dataset: example i is (image, label) -- a float32 Tensor of shape
    (1, 28, 28) with values in [0, 1], and an int.

    root, download: where to look / whether to download (see mnist()).
    train:     the 60,000 training images (else the 10,000 test images).
    transform: applied to each image (a float32 numpy array (1, 28, 28)) and must
               return an array; this costs a Python call per image, so for
               batch-wide augmentation prefer DataLoader(transform=...).
    limit:     keep only the first `limit` examples (e.g. for a quick run).
    Attributes as torchvision's: data (uint8 (N, 28, 28)), targets (int64 (N,));
    plus source (where the files came from).
    """

    def __init__(self, root=None, train: bool = True, download: bool | None = None,
                 transform=None, limit: int | None = None):
        if limit is not None and (isinstance(limit, bool) or not isinstance(
                limit, (int, np.integer)) or limit < 0):
            raise ValueError(f"MNIST: limit must be a non-negative integer, got {limit!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"MNIST: transform must be callable, got {transform!r}")
        arrays = mnist(root, "train" if train else "test", download)
        n = len(arrays.labels) if limit is None else int(limit)
        self.data, self.targets = arrays.images[:n], arrays.labels[:n]
        self.source, self.train, self.transform = arrays.source, train, transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return Tensor(self._images(index)), int(self.targets[index])

    def get_batch(self, indices):
        return self._images(indices), self.targets[indices]

    def _images(self, index) -> np.ndarray:
        """Pixels 0..255 -> float32 in [0, 1], with a channel axis: (..., 1, 28, 28)."""
        images = self.data[index][..., None, :, :].astype(np.float32) / np.float32(255)
        if self.transform is None:
            return images
        if images.ndim == 3:
            return self._transform(images, int(np.arange(len(self))[index]))
        indices = np.arange(len(self))[index].tolist()
        out = [self._transform(image, i) for image, i in zip(images, indices)]
        checks.same_shapes(out, indices, f"MNIST transform {describe(self.transform)}")
        return np.stack(out)

    def _transform(self, image, index) -> np.ndarray:
        """self.transform(image) for item `index`, checked (see checks.py)."""
        where = f"item {index}"
        result = checks.call(self.transform, (image,), "MNIST transform", where)
        return checks.as_array(result, f"MNIST transform {describe(self.transform)}",
                               where)

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"MNIST({split}, {len(self)} images, {self.source})"
