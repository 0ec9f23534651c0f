"""Writes the safetensors interop fixtures with Hugging Face's own library.

Adjoint's SafeTensorsInteropTest reads these files and checks every name, shape, dtype
conversion and metadata entry against values it computes itself from the formulas below,
so the fixtures are not trusted blindly: regenerating them with another library version
must give files that pass the same test.

Regenerate (from the repository root; needs safetensors, numpy and torch):

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install safetensors numpy torch   # or --no-index --find-links <wheel dir>
    /tmp/stvenv/bin/python cpu-backend/src/test/resources/org/adjoint/io/huggingface/generate_fixtures.py

The library writes the metadata map in hash order, so the header bytes of a file with
several metadata entries can differ from one run to the next; names, shapes, data and
metadata do not.

Files (each under 2 KB):
  numpy.safetensors      safetensors.numpy.save_file: F32, F64 and F16, 0-d and empty tensors
  torch.safetensors      safetensors.torch.save_file: BF16 (numpy has no bfloat16), F16, F32
  torch_mlp.safetensors  the state dict of a seeded torch.nn.Sequential MLP, as PyTorch saves it
  torch_mlp_io.safetensors  an input batch and that model's output for it, to compare forward passes
"""

import os
import sys

import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def tenths(n):
    """float32(i * 0.1 - 1) for i in 0..n-1: the double expression, rounded once to float32."""
    return (np.arange(n, dtype=np.float64) * 0.1 - 1.0).astype(np.float32)


def quarters(n):
    """i * 0.25 - 3, exact in every float format used here."""
    return (np.arange(n, dtype=np.float64) * 0.25 - 3.0).astype(np.float32)


F32_EXTREMES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, np.finfo(np.float32).max,
                         np.finfo(np.float32).smallest_subnormal, np.finfo(np.float32).tiny], dtype=np.float32)
F64_EXTREMES = np.array([1e300, -1e300, 1e-300, -1e-300, 2.0 ** -149, 0.1, np.nan], dtype=np.float64)
# float32 values, then rounded to half by numpy (round to nearest, ties to even).
F16_EXTREMES = np.array([65504.0, -65504.0, 70000.0, 65520.0, 2.0 ** -24, 2.0 ** -14, 2.0 ** -25,
                         3 * 2.0 ** -26, np.inf, -np.inf, np.nan, -0.0, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11],
                        dtype=np.float32)
# float32 values, then rounded to bfloat16 by torch (round to nearest, ties to even).
BF16_EXTREMES = [1e38, -3e38, 3.4e38, 1e-40, 2.0 ** -133, float("inf"), float("nan"), -0.0,
                 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, 1 + 2.0 ** -8 + 2.0 ** -20]


def half(values):
    with np.errstate(over="ignore"):  # 70000 and 65520 overflow to infinity on purpose
        return values.astype(np.float16)


def write_numpy(path):
    tensors = {
        "f32.quarters": quarters(12).reshape(3, 4),
        "f32.tenths": tenths(12).reshape(2, 3, 2),
        "f32.scalar": np.array(-7.25, dtype=np.float32),
        "f32.empty": np.zeros((0, 3), dtype=np.float32),
        "f32.extremes": F32_EXTREMES,
        "f64.tenths": (np.arange(10, dtype=np.float64) * 0.1 - 1.0).reshape(2, 5),
        "f64.scalar": np.array(1.0 / 3.0, dtype=np.float64),
        "f64.extremes": F64_EXTREMES,
        "f16.quarters": quarters(8).astype(np.float16).reshape(2, 2, 2),
        "f16.tenths": tenths(24).astype(np.float16).reshape(4, 6),
        "f16.scalar": np.array(np.float32(1.0 / 3.0), dtype=np.float32).astype(np.float16),
        "f16.empty": np.zeros((2, 0), dtype=np.float16),
        "f16.extremes": half(F16_EXTREMES),
    }
    metadata = {"writer": "safetensors.numpy.save_file", "formula": "tenths: f32(i*0.1-1); quarters: i*0.25-3"}
    safetensors.numpy.save_file(tensors, path, metadata=metadata)


def write_torch(path):
    tensors = {
        "bf16.tenths": torch.from_numpy(tenths(15)).to(torch.bfloat16).reshape(3, 5),
        "bf16.quarters": torch.from_numpy(quarters(6)).to(torch.bfloat16),
        "bf16.scalar": torch.tensor(np.float32(np.pi)).to(torch.bfloat16),
        "bf16.empty": torch.zeros(0, dtype=torch.bfloat16),
        "bf16.extremes": torch.tensor(BF16_EXTREMES, dtype=torch.float32).to(torch.bfloat16),
        "f16.tenths": torch.from_numpy(tenths(4)).to(torch.float16).reshape(2, 2),
        "f32.tenths": torch.from_numpy(tenths(6)).reshape(2, 3),
    }
    safetensors.torch.save_file(tensors, path, metadata={"format": "pt", "writer": "safetensors.torch.save_file"})


def mlp():
    torch.manual_seed(1234)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 8), torch.nn.Tanh(),
        torch.nn.Linear(8, 3))


def write_mlp(state_path, io_path):
    model = mlp()
    safetensors.torch.save_file(model.state_dict(), state_path, metadata={"format": "pt"})
    inputs = torch.from_numpy(tenths(20)).reshape(5, 4)
    with torch.no_grad():
        outputs = model(inputs)
    safetensors.torch.save_file({"input": inputs, "output": outputs.contiguous()}, io_path,
                                metadata={"format": "pt", "model": "torch_mlp.safetensors"})


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    write_numpy(os.path.join(out, "numpy.safetensors"))
    write_torch(os.path.join(out, "torch.safetensors"))
    write_mlp(os.path.join(out, "torch_mlp.safetensors"), os.path.join(out, "torch_mlp_io.safetensors"))
    print("safetensors %s, numpy %s, torch %s: fixtures written to %s"
          % (safetensors.__version__, np.__version__, torch.__version__, out))


if __name__ == "__main__":
    main()
