"""Saving and loading checkpoints: minidl.save(obj, path) and minidl.load(path).

A checkpoint is one .npz file (numpy's zip of arrays), written without pickle, so
loading a file can never run code:
  * every Tensor or numpy array inside obj becomes one array entry ("0", "1", ...);
  * the structure around them -- dicts (str or int keys), lists, tuples, numbers,
    strings, None -- is written as JSON in the entry "__minidl__", together with
    the format version. Arrays appear in the JSON as {"tensor": "3"} and the like.

    minidl.save({"model": model.state_dict(), "optim": optimizer.state_dict(),
                 "epoch": 5}, "checkpoint.npz")
    ckpt = minidl.load("checkpoint.npz")
    model.load_state_dict(ckpt["model"])

The file is written to a temporary file beside `path` and renamed into place, so a
crash never leaves a half-written checkpoint.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from .fileio import atomic_path
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_HEADER = "__minidl__"


class CheckpointError(ValueError):
    """The file is not a (readable) minidl checkpoint."""


# ------------------------------------------------------------------ obj -> JSON + arrays
def _encode(obj, arrays: dict, where: str):
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
    if isinstance(obj, dict):
        tag = "odict" if isinstance(obj, OrderedDict) else "dict"
        return {tag: [[_encode_key(k, where), _encode(v, arrays, f"{where}[{k!r}]")]
                      for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        tag = "tuple" if isinstance(obj, tuple) else "list"
        return {tag: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
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


def save(obj, path) -> None:
    """Write obj (a state_dict, or nested dicts/lists of tensors and numbers) to path."""
    arrays = {}
    root = _encode(obj, arrays, "obj")
    header = json.dumps({"format": "minidl", "version": FORMAT_VERSION, "root": root})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:  # a file object: np.savez must not append ".npz"
            np.savez(f, allow_pickle=False, **arrays)


# ------------------------------------------------------------------ JSON + arrays -> obj
def _decode(node, arrays):
    if not isinstance(node, dict):
        return node
    tag = next(iter(node))  # the first key says what the node is
    value = node[tag]
    if tag == "tensor":
        cls = Parameter if node.get("parameter") else Tensor
        return cls(arrays[value], requires_grad=node.get("requires_grad", False))
    if tag == "ndarray":
        return arrays[value]
    if tag == "scalar":
        return arrays[value][()]
    if tag in ("dict", "odict"):
        pairs = [(k, _decode(v, arrays)) for k, v in value]
        return OrderedDict(pairs) if tag == "odict" else dict(pairs)
    if tag == "list":
        return [_decode(v, arrays) for v in value]
    if tag == "tuple":
        return tuple(_decode(v, arrays) for v in value)
    raise KeyError(f"unknown node type {tag!r}")


def load(path):
    """Read a checkpoint written by minidl.save; Tensors come back as Tensors.

    Raises CheckpointError (a ValueError) naming the file when it is truncated, not a
    minidl checkpoint (a plain .npz, a text file, ...) or from a newer minidl."""
    with open(path, "rb") as f:  # a missing file raises FileNotFoundError here
        if f.read(4) != b"PK\x03\x04":  # every .npz (a zip file) starts so
            raise CheckpointError(f"load: {path} is not a minidl checkpoint (not an "
                                  ".npz file; it may be empty or a different format)")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as e:
            raise CheckpointError(f"load: {path} is truncated or corrupted "
                                  f"({type(e).__name__}: {e})") from e
    header = _read_header(arrays.pop(_HEADER, None), path)
    try:
        return _decode(header["root"], arrays)
    except (KeyError, TypeError, ValueError, StopIteration) as e:
        raise CheckpointError(f"load: {path} is corrupted: its structure does not match "
                              f"its arrays ({type(e).__name__}: {e})") from e


def _read_header(entry, path) -> dict:
    """The JSON header, checked: a minidl checkpoint of a version we can read."""
    if entry is None:
        raise CheckpointError(f"load: {path} is an .npz file but not a minidl checkpoint "
                              f"(it has no '{_HEADER}' entry); read it with numpy.load")
    try:
        header = json.loads(entry.tobytes().decode("utf-8"))
    except ValueError as e:  # bad UTF-8 or JSON
        raise CheckpointError(f"load: {path} has a corrupted header ({e})") from e
    if not (isinstance(header, dict) and header.get("format") == "minidl"
            and isinstance(header.get("version"), int) and "root" in header):
        raise CheckpointError(f"load: {path} has an unrecognised header")
    if header["version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"load: {path} was written in checkpoint format version {header['version']}, "
            f"but this minidl reads versions up to {FORMAT_VERSION}; upgrade minidl")
    return header
