#!/usr/bin/env python3
"""Times cuBLAS's single-precision GEMM (through PyTorch, TF32 off) for the larger GPT's linear
layers in the operand layouts a row-major framework can hand it: a weight stored [in, out] (the
product is cuBLAS's NN form, Adjoint's forward) against one stored [out, in] (the TN form,
nn.Linear's), and the backward's two products. Prints one line per shape and form, milliseconds
per product and TFLOP/s.

Usage: python3 bench/gpu/gemm_layouts.py [--rows 16384] [--reps 50]
"""
import argparse

import torch


def timed(product, reps):
    for _ in range(5):
        product()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        product()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    rows = args.rows
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}, rows {rows}, TF32 off")
    for fan_in, fan_out in [(384, 1152), (384, 384), (384, 1536), (1536, 384)]:
        x = torch.randn(rows, fan_in, device="cuda")
        w = torch.randn(fan_in, fan_out, device="cuda")  # [in, out]
        w_t = w.t().contiguous()  # [out, in]
        dy = torch.randn(rows, fan_out, device="cuda")
        flops = 2.0 * rows * fan_in * fan_out
        forms = {
            "forward x @ w[in,out] (NN)": lambda: x @ w,
            "forward x @ w[out,in].T (TN)": lambda: x @ w_t.t(),
            "backward dy @ w[in,out].T": lambda: dy @ w.t(),
            "backward dy @ w[out,in]": lambda: dy @ w_t,
            "backward x.T @ dy": lambda: x.t() @ dy,
        }
        for name, product in forms.items():
            ms = timed(product, args.reps)
            print(f"  {fan_in:5d} -> {fan_out:5d}  {name:30s} {ms:7.3f} ms  {flops / ms / 1e9:6.1f} TFLOP/s")


if __name__ == "__main__":
    main()
