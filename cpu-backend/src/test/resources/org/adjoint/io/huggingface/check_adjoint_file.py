"""Reads a safetensors file with Hugging Face's library and prints what it found.

Run by Adjoint's SafeTensorsInteropTest on a file that SafeTensors.save wrote; the Java test
compares the listing with the tensors it saved. Usage: check_adjoint_file.py FILE

Output, one line each, strings as hex of their UTF-8 bytes so that any name survives:
  library <safetensors version> <numpy version>
  metadata <key> <value>                                  (sorted by key)
  tensor <name> <numpy dtype> <shape, comma-separated, "-" for 0-d> <float32 bits in hex, comma-separated, "-" if none>
"""

import sys

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file


def hexed(text):
    return text.encode("utf-8").hex()


def main(path):
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
        names = set(f.keys())
    if names != set(tensors):
        raise SystemExit("safe_open lists %s but load_file returned %s" % (sorted(names), sorted(tensors)))
    print("library", safetensors.__version__, np.__version__)
    for key in sorted(metadata):
        print("metadata", hexed(key), hexed(metadata[key]))
    for name in sorted(tensors):
        array = tensors[name]
        shape = ",".join(str(d) for d in array.shape) or "-"
        bits = array.astype("<f4", copy=False).reshape(-1).view("<u4")
        values = ",".join("%08x" % b for b in bits) or "-"
        print("tensor", hexed(name), array.dtype.name, shape, values)


if __name__ == "__main__":
    main(sys.argv[1])
