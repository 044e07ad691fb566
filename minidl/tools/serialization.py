"""Saving and loading checkpoints: minidl.save(obj, path) and minidl.load(path).

A checkpoint is one .npz file (numpy's zip of .npy arrays), written without pickle,
so loading a file can never run code:
  * every Tensor or numpy array inside obj becomes one array entry ("0", "1", ...);
  * the structure around them -- dicts (str or int keys), lists, tuples, numbers,
    strings, None -- is written as JSON in the entry "__minidl__", together with
    the format version. Arrays appear in the JSON as {"tensor": "3"} and the like.

    minidl.save({"model": model.state_dict(), "optim": optimizer.state_dict(),
                 "epoch": 5}, "checkpoint.npz")
    ckpt = minidl.load("checkpoint.npz")
    model.load_state_dict(ckpt["model"])

save writes through fileio.atomic_path: a temporary file, fsynced, renamed
into place -- a crash leaves the old checkpoint or the new one, never half of one;
permissions and symlinks are kept; a write-protected file is not replaced.

load trusts nothing in the file: it reads the zip entries and the .npy headers itself
(no numpy.load, no pickle, no eval), checks every size against the file before
allocating anything, and turns anything malformed -- a flipped bit, a truncated
file, an absurd shape, an encrypted or compressed entry, JSON nested a million deep
-- into a CheckpointError that names the file and what is wrong.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from .fileio import atomic_path, clean_stale_temporaries
from ..nn.parameter import Parameter
from ..tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_HEADER = "__minidl__"
MAX_DEPTH = 100   # dicts/lists nested deeper than this are refused (save and load)


class CheckpointError(ValueError):
    """The file is not a (readable) minidl checkpoint."""


# ------------------------------------------------------------------ obj -> JSON + arrays
def _encode(obj, arrays: dict, where: str, depth: int = 0):
    """A JSON-able description of obj; arrays found are moved into `arrays`."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        node = {"tensor": _add_array(obj.detach().numpy(), arrays, where)}
        if obj.requires_grad:
            node["requires_grad"] = True
        if isinstance(obj, Parameter):
            node["parameter"] = True
        return node
    if isinstance(obj, np.ndarray):
        return {"ndarray": _add_array(obj, arrays, where)}
    if isinstance(obj, np.generic):  # a numpy scalar, e.g. np.float32(0.5)
        return {"scalar": _add_array(np.asarray(obj), arrays, where)}
    if isinstance(obj, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise ValueError(f"save: {where} is nested more than {MAX_DEPTH} levels deep "
                         "(does a list or dict contain itself?)")
    if isinstance(obj, dict):
        tag = "odict" if isinstance(obj, OrderedDict) else "dict"
        return {tag: [[_encode_key(k, where),
                       _encode(v, arrays, f"{where}[{k!r}]", depth + 1)]
                      for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        tag = "tuple" if isinstance(obj, tuple) else "list"
        return {tag: [_encode(v, arrays, f"{where}[{i}]", depth + 1)
                      for i, v in enumerate(obj)]}
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__} at "
                    f"{where}; a checkpoint holds dicts, lists, tuples, Tensors, numpy "
                    "arrays, numbers, strings and None")


def _encode_key(key, where):
    if isinstance(key, np.integer):
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"save: dict keys must be str or int, got {key!r} "
                        f"({type(key).__name__}) in {where}")
    return key


def _add_array(array: np.ndarray, arrays: dict, where: str) -> str:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"save: cannot store an array of dtype {array.dtype} at {where}; "
                        "only bool, integer and float arrays")
    name = str(len(arrays))
    arrays[name] = array
    return name


def save(obj, f) -> None:
    """Write obj (a state_dict, or nested dicts/lists of tensors and numbers) to f:
    a path (written atomically, see the module docstring) or a binary file object."""
    arrays = {}
    root = _encode(obj, arrays, "obj")
    header = json.dumps({"format": "minidl", "version": FORMAT_VERSION, "root": root})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, allow_pickle=False, **arrays)
        return
    with atomic_path(f) as tmp:
        with open(tmp, "wb") as out:  # a file object: np.savez must not append ".npz"
            np.savez(out, allow_pickle=False, **arrays)


# ------------------------------------------------------------------ file -> arrays
def load(f):
    """Read a checkpoint written by minidl.save (a path or a binary file object);
    Tensors come back as Tensors.

    Raises FileNotFoundError for a missing file, and CheckpointError (a ValueError)
    naming the file for anything else that is not a readable minidl checkpoint:
    another format, a truncated or corrupted file, or one from a newer minidl."""
    if hasattr(f, "read"):
        name, data = getattr(f, "name", "the file object"), _read_start(f, None)
    else:
        name = os.fspath(f)
        clean_stale_temporaries(name)   # left by a save that was killed mid-write
        with open(name, "rb") as file:
            data = _read_start(file, name)
    try:
        arrays = _read_npz(data, name)
    except CheckpointError:
        raise
    except Exception as e:   # whatever zipfile trips over in a damaged file
        raise CheckpointError(f"load: {name} is truncated or corrupted "
                              f"({type(e).__name__}: {e})") from None
    header = _read_header(arrays.pop(_HEADER, None), name)
    unused = set(arrays)
    obj = _decode(header["root"], arrays, unused, name, "obj", 0)
    if unused:
        raise CheckpointError(f"load: {name} is corrupted: array entries "
                              f"{sorted(unused)} are not referenced by its structure")
    return obj


def _read_start(file, name) -> bytes:
    """The whole content of a file that starts like a zip; CheckpointError (before
    reading further) for anything else -- text, pickle, a device such as /dev/zero."""
    if name is not None and not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
        raise CheckpointError(f"load: {name} is not a regular file")
    start = file.read(4)
    if start != b"PK\x03\x04":   # every .npz (a zip file) starts so
        what = "an empty file" if not start else "not an .npz (zip) file"
        raise CheckpointError(f"load: {name or 'the file object'} is not a minidl "
                              f"checkpoint ({what})")
    return start + file.read()


def _read_npz(data: bytes, name) -> dict:
    """{entry name: array} of an .npz held in memory; every entry checked first."""
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            key = _check_entry(info, len(data), name)
            if key in arrays:
                raise CheckpointError(f"load: {name} is corrupted: entry {key!r} twice")
            with archive.open(info) as entry:
                arrays[key] = _read_npy(entry, info.file_size, f"{name}: entry {key!r}")
    return arrays


def _check_entry(info: zipfile.ZipInfo, file_size: int, name) -> str:
    """The array name of a zip entry, after checking it is one minidl.save writes."""
    where = f"load: {name}: entry {info.filename!r}"
    if info.filename.endswith(".pkl") or "/data.pkl" in info.filename:
        raise CheckpointError(f"{where} is a pickle: the file looks like a torch.save "
                              "checkpoint. minidl never unpickles (that could run "
                              "code); convert it with torch: load it there and "
                              "minidl.save the tensors as numpy arrays")
    if not info.filename.endswith(".npy"):
        raise CheckpointError(f"{where} is not a .npy array; not a minidl checkpoint")
    if info.flag_bits & 0x41:   # bit 0: encrypted, bit 6: strong encryption
        raise CheckpointError(f"{where} is encrypted (zip flag bits "
                              f"0x{info.flag_bits:04x}); minidl.save never encrypts")
    if info.compress_type != zipfile.ZIP_STORED:
        raise CheckpointError(f"{where} is compressed (zip method {info.compress_type}); "
                              "minidl.save stores arrays uncompressed")
    if info.file_size > file_size or info.compress_size > file_size:
        raise CheckpointError(f"{where} claims {info.file_size} bytes, more than the "
                              f"whole file ({file_size} bytes): corrupted")
    return info.filename[:-len(".npy")]


# .npy: magic, version, header length, a header dict as numpy writes it, raw data
_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADER = re.compile(r"\{'descr': '([<>|=]?[a-z]\d{1,2})', 'fortran_order': "
                         r"(True|False), 'shape': \(((?:\d{1,20}, )*(?:\d{1,20},?)?)\), "
                         r"\}[ ]*\n?")
_DTYPES = re.compile(r"[<>|=]?(b1|[iu][1248]|f(2|4|8|16))")


def _read_npy(entry, size: int, where: str) -> np.ndarray:
    """One .npy entry, parsed by hand: the shape and dtype are checked against the
    entry's size before any memory is allocated for the data."""
    prefix = entry.read(8)
    if len(prefix) < 8 or prefix[:6] != _NPY_MAGIC or prefix[6] not in (1, 2, 3):
        raise CheckpointError(f"load: {where} is not a .npy array (bad magic bytes "
                              f"{prefix!r})")
    length_format = "<H" if prefix[6] == 1 else "<I"
    raw = entry.read(struct.calcsize(length_format))
    if len(raw) != struct.calcsize(length_format):
        raise CheckpointError(f"load: {where} is truncated inside its header")
    header_size = len(prefix) + len(raw) + struct.unpack(length_format, raw)[0]
    if header_size > size:
        raise CheckpointError(f"load: {where}: its header runs past the entry's end")
    text = entry.read(header_size - len(prefix) - len(raw)).decode("latin-1")
    match = _NPY_HEADER.fullmatch(text)
    if match is None or not _DTYPES.fullmatch(match[1]):
        raise CheckpointError(f"load: {where} has an unreadable or unsupported array "
                              f"header {text.strip()[:200]!r}")
    dtype = np.dtype(match[1])
    shape = tuple(int(n) for n in match[3].replace(",", " ").split())
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes != size - header_size or len(shape) > 32:
        raise CheckpointError(f"load: {where} says shape {shape} of {dtype} "
                              f"({nbytes} bytes) but holds {size - header_size} bytes")
    data = entry.read()   # zipfile checks the CRC-32 here, at the entry's end
    if len(data) != nbytes:
        raise CheckpointError(f"load: {where}: {len(data)} bytes of data, expected "
                              f"{nbytes}")
    order = "F" if match[2] == "True" else "C"
    return np.frombuffer(data, dtype).reshape(shape, order=order).copy()


# ------------------------------------------------------------------ JSON + arrays -> obj
def _read_header(entry, name) -> dict:
    """The JSON header, checked: a minidl checkpoint of a version we can read."""
    if entry is None:
        raise CheckpointError(f"load: {name} is an .npz file but not a minidl checkpoint "
                              f"(it has no '{_HEADER}' entry); read it with numpy.load")
    try:
        header = json.loads(entry.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as e:  # bad UTF-8 or JSON, or nested too deep
        raise CheckpointError(f"load: {name} has a corrupted header "
                              f"({type(e).__name__}: {str(e)[:200]})") from None
    if not (isinstance(header, dict) and header.get("format") == "minidl"
            and type(header.get("version")) is int and "root" in header):
        raise CheckpointError(f"load: {name} has an unrecognised header")
    if header["version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"load: {name} was written in checkpoint format version {header['version']}, "
            f"but this minidl reads versions up to {FORMAT_VERSION}; upgrade minidl")
    return header


_TAGS = {"tensor": ("requires_grad", "parameter"), "ndarray": (), "scalar": (),
         "dict": (), "odict": (), "list": (), "tuple": ()}


def _decode(node, arrays: dict, unused: set, name, where: str, depth: int):
    """Rebuild the object a JSON node describes, checking every node as it goes."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    tags = [key for key in node if key in _TAGS] if isinstance(node, dict) else []
    if depth > MAX_DEPTH or len(tags) != 1 or any(
            key not in _TAGS[tags[0]] + (tags[0],) or (key != tags[0] and value
                                                      is not True)
            for key, value in node.items()):
        problem = f"nested over {MAX_DEPTH} deep" if depth > MAX_DEPTH else \
            f"an unknown node {str(node)[:100]}"
        raise CheckpointError(f"load: {name} is corrupted: {where} is {problem}")
    tag, value = tags[0], node[tags[0]]
    if tag in ("tensor", "ndarray", "scalar"):
        array = _take_array(value, arrays, unused, name, where, scalar=tag == "scalar")
        if tag == "tensor":
            return _tensor(array, node, name, where)
        return array[()] if tag == "scalar" else array
    if not isinstance(value, list):
        raise CheckpointError(f"load: {name} is corrupted: {where} holds "
                              f"{type(value).__name__}, expected a list")
    if tag in ("list", "tuple"):
        items = [_decode(v, arrays, unused, name, f"{where}[{i}]", depth + 1)
                 for i, v in enumerate(value)]
        return tuple(items) if tag == "tuple" else items
    pairs = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
            raise CheckpointError(f"load: {name} is corrupted: {where} has a bad "
                                  f"key-value pair {str(pair)[:100]}")
        pairs.append((pair[0], _decode(pair[1], arrays, unused, name,
                                       f"{where}[{pair[0]!r}]", depth + 1)))
    return OrderedDict(pairs) if tag == "odict" else dict(pairs)


def _tensor(array, node, name, where):
    cls = Parameter if node.get("parameter") else Tensor
    try:
        return cls(array, requires_grad=node.get("requires_grad", False))
    except (TypeError, ValueError, RuntimeError) as e:  # e.g. an int tensor with grad
        raise CheckpointError(f"load: {name} is corrupted: {where}: {e}") from None


def _take_array(key, arrays, unused, name, where, scalar):
    if not isinstance(key, str) or key not in unused:
        what = "used twice" if isinstance(key, str) and key in arrays else "missing"
        raise CheckpointError(f"load: {name} is corrupted: the array {key!r} for "
                              f"{where} is {what}; its structure does not match its "
                              "arrays")
    unused.discard(key)
    array = arrays[key]
    if scalar and array.ndim != 0:
        raise CheckpointError(f"load: {name} is corrupted: the scalar at {where} has "
                              f"shape {array.shape}")
    return array
