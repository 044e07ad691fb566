"""Build the MNIST subset shipped inside minidl (run once by the maintainers).

    python -m minidl.data.make_subset SRC_DIR [--out DIR]

reads the official files from SRC_DIR, checks their MD5s, and writes the first
10,000 training and first 2,000 test images and labels as gzipped IDX files into
minidl/data/mnist_subset/ (or DIR). The output is byte-for-byte reproducible, and
the MD5s it prints must equal SUBSET_FILES in mnist.py, which checks them on load.
"""
from __future__ import annotations

import argparse
import hashlib
import pathlib

from .idx import encode_idx, write_idx
from .mnist import SPLITS, SUBSET_FILES, SUBSET_SIZES, mnist

SUBSET_DIR = pathlib.Path(__file__).resolve().parent / "mnist_subset"


def make_subset(src_dir, out_dir=SUBSET_DIR) -> dict:
    """Write the subset files into out_dir; return {name: MD5 of uncompressed file}."""
    md5s = {}
    for split, n in SUBSET_SIZES.items():
        images, labels, source = mnist(src_dir, split, download=False, verbose=False)
        if not source.startswith("root"):
            raise FileNotFoundError(f"make_subset: {src_dir} does not hold the official "
                                    f"MNIST {split} files")
        for name, array in zip(SPLITS[split], (images[:n], labels[:n])):
            path = pathlib.Path(out_dir) / f"{name}.gz"
            write_idx(path, array)
            path.chmod(0o644)  # package data: readable by every user of an install
            md5s[name] = hashlib.md5(encode_idx(array)).hexdigest()
    return md5s


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src_dir", help="directory with the four official MNIST files")
    parser.add_argument("--out", default=SUBSET_DIR, help="output directory")
    args = parser.parse_args(argv)
    md5s = make_subset(args.src_dir, args.out)
    for name, md5 in md5s.items():
        ok = "ok" if md5 == SUBSET_FILES[name].md5 else "DIFFERS from SUBSET_FILES"
        print(f"{name}.gz  md5 {md5}  {ok}")


if __name__ == "__main__":
    main()
