"""IDX: the tiny binary format of the MNIST files -- read it, check it, write it.

An IDX file is a 4-byte magic number, the sizes of its dimensions, then raw bytes:

    00 00 | 08 | d | size_1 ... size_d (big-endian uint32) | prod(sizes) bytes, row-major
          type   number of dimensions

MNIST only uses type 0x08 (unsigned byte): its images start 00 00 08 03 | 60000 | 28 |
28 (magic 0x00000803, three dimensions) and its labels 00 00 08 01 | 60000 (magic
0x00000801). The files are usually gzipped; read_idx accepts both.
"""
from __future__ import annotations

import gzip
import math
import pathlib
import struct
import zlib

import numpy as np

from ..tools.fileio import atomic_path

UBYTE = 0x08                 # the element-type byte for unsigned 8-bit data
GZIP_MAGIC = b"\x1f\x8b"     # every gzip file starts with these two bytes


class IDXError(ValueError):
    """A file that is not a valid IDX file (bad magic, wrong shape, truncated, ...)."""


def read_idx(path, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a uint8 array of the shape in its header.

    ndim: if given, the number of dimensions the file must have (3 for MNIST images,
    1 for labels). Anything wrong -- magic number, header, a payload shorter or longer
    than the header promises, broken gzip data -- raises IDXError naming the file.
    """
    path = pathlib.Path(path)
    with open(path, "rb") as f:                # FileNotFoundError stays as it is
        compressed = f.read(2) == GZIP_MAGIC
    try:
        with (gzip.open if compressed else open)(path, "rb") as f:
            return _parse(f.read(), path, ndim)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise IDXError(f"{path}: the gzip data is damaged or truncated ({e})") from None


def _parse(content: bytes, path, ndim) -> np.ndarray:
    """Check header and payload of an IDX file's bytes; return the data as an array."""
    if len(content) < 4:
        raise IDXError(f"{path}: {len(content)} bytes is too short for an IDX header")
    magic = int.from_bytes(content[:4], "big")
    found_ndim = content[3]
    if content[:2] != b"\0\0" or content[2] != UBYTE or found_ndim == 0:
        raise IDXError(f"{path}: bad magic number 0x{magic:08x}; expected 0x000008dd "
                       "(unsigned bytes, dd dimensions), e.g. 0x00000803 for images or "
                       "0x00000801 for labels")
    if ndim is not None and found_ndim != ndim:
        raise IDXError(f"{path}: expected {ndim} dimension(s) (magic 0x{0x800 + ndim:08x}),"
                       f" found {found_ndim} (magic 0x{magic:08x})")
    header_size = 4 + 4 * found_ndim
    if len(content) < header_size:
        raise IDXError(f"{path}: header truncated: {found_ndim} dimension sizes need "
                       f"{header_size} bytes, the file has {len(content)}")
    shape = struct.unpack(f">{found_ndim}I", content[4:header_size])
    expected, found = math.prod(shape), len(content) - header_size
    if found != expected:
        hint = "truncated" if found < expected else "corrupt"
        raise IDXError(f"{path}: expected {expected} bytes of data for shape {shape}, "
                       f"found {found} (file {hint}?)")
    # bytes are read-only; copy so the caller gets an ordinary, writable array
    return np.frombuffer(content, np.uint8, offset=header_size).reshape(shape).copy()


def encode_idx(array) -> bytes:
    """The bytes of the IDX file holding `array` (uint8, or integers in 0..255)."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < 0 or arr.max() > 255)):
            raise TypeError(f"encode_idx: IDX type 0x08 stores unsigned bytes; got an "
                            f"array of dtype {arr.dtype} that does not fit in 0..255")
        arr = arr.astype(np.uint8)
    if not 1 <= arr.ndim <= 255 or max(arr.shape) >= 2**32:
        raise ValueError(f"encode_idx: cannot store shape {arr.shape}; IDX needs 1 to 255 "
                         "dimensions, each smaller than 2**32")
    header = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr).tobytes()


def write_idx(path, array) -> None:
    """Write `array` as an IDX file, gzipped if path ends in .gz, atomically.

    The gzip stream is deterministic (level 9, no file name, mtime 0), so the same
    array always gives the same bytes.
    """
    content = encode_idx(array)
    if str(path).endswith(".gz"):
        content = gzip.compress(content, compresslevel=9, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
