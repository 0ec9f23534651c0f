"""Loads a state dict that Adjoint saved, in PyTorch's layout, into the fixture's PyTorch model.

Run by Adjoint's SafeTensorsInteropTest. Usage: load_into_torch.py STATE_FILE IO_FILE
Loads STATE_FILE with safetensors.torch.load_file into the model of generate_fixtures.py
(strict: every name and shape must match), runs it on IO_FILE's "input" and prints
  library <safetensors version> <torch version>
  output <shape, comma-separated> <float32 bits in hex, comma-separated>
"""

import os
import sys

import safetensors
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_fixtures import mlp  # noqa: E402  (the one definition of the model)


def main(state_path, io_path):
    model = mlp()
    model.load_state_dict(load_file(state_path), strict=True)
    inputs = load_file(io_path)["input"]
    with torch.no_grad():
        output = model(inputs).contiguous()
    print("library", safetensors.__version__, torch.__version__)
    bits = output.reshape(-1).view(torch.int32).tolist()
    print("output", ",".join(str(d) for d in output.shape), ",".join("%08x" % (b & 0xFFFFFFFF) for b in bits))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
