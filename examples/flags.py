"""The command-line flags of the examples, checked before any work starts.

Every flag's value is checked while argparse parses it (the `type=` functions
below), so a bad value stops the script at once with argparse's one-line error:

    train_cnn.py: error: argument --epochs: must be a positive integer, got '0'

Checks that need more than one flag or a look at the disk (the --out folder, a
checkpoint to resume) call fail(), which stops the same way before any training.
"""
from __future__ import annotations

import argparse
import math
import os
import pathlib
import tempfile

from minidl.tools.fileio import writable_target


def fail(args, message: str):
    """Stop the script `args` came from with `message`: one line on stderr, in
    argparse's style, exit status 1."""
    raise SystemExit(f"{args.prog}: error: {' '.join(message.split())}")


# ------------------------------------------------------------------ value types
def number(kind, test, wanted):
    """An argparse type: text -> kind(text), accepted only if test(value)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not test(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value
    parse.__name__ = wanted
    return parse


positive_int = number(int, lambda v: v > 0, "a positive integer")
nonnegative_int = number(int, lambda v: v >= 0, "a non-negative integer")
positive_float = number(float, lambda v: math.isfinite(v) and v > 0,
                         "a positive finite number")
nonnegative_float = number(float, lambda v: math.isfinite(v) and v >= 0,
                            "a non-negative finite number")


def existing_dir(text: str) -> str:
    """A folder that exists (its contents are checked by whoever reads it)."""
    path = pathlib.Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return str(path)


def existing_file(text: str) -> str:
    """A readable file that exists."""
    path = pathlib.Path(text).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text} is not readable")
    return str(path)


# ------------------------------------------------------------------ parsers
def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An ArgumentParser whose namespace remembers the script's name (for fail)."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.set_defaults(prog=prog)
    return p


def add_seed(p, help="same seed, same numbers"):
    p.add_argument("--seed", type=nonnegative_int, default=0, help=help)


def add_data_dir(p):
    p.add_argument("--data-dir", type=existing_dir, default=None,
                   help="folder with the 4 MNIST IDX files (default: MINIDL_DATA, the "
                        "cache, a download, else the built-in subset)")


def add_out(p, default, help="folder for checkpoint, plots, metrics"):
    p.add_argument("--out", default=default, help=help)


def check_out_dir(args, out=None, files=(), flag="--out") -> pathlib.Path:
    """Prove, before any work, that the output folder can be written: stop if it
    (or the nearest part of it that exists) is a file or not writable, or if one of
    `files` in it exists write-protected (it could not be replaced at the end of the
    first epoch). Creates nothing: the files written later create the folder.
    `out` defaults to args.out; `flag` is the flag that named it."""
    out = pathlib.Path(args.out if out is None else out)
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == out else f": {existing}"
        fail(args, f"{flag} {out}{where} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        fail(args, f"{flag} {out} is not a writable folder ({existing}: "
                   f"{error.strerror or error})")
    for name in files if out.exists() else ():
        try:
            writable_target(out / name)
        except OSError as error:
            fail(args, f"{flag} {out}: cannot write {name}: {error}")
    return out
