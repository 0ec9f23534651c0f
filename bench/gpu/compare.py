#!/usr/bin/env python3
"""Sets GpuBench's figures (adjoint.json) beside PyTorch's (torch.json) against the CUDA
issue's targets: SGEMM within 10% of PyTorch, the large MLP step within 1.1x and the small
one within 1.5x of PyTorch eager, device peak memory falling with the checkpoint policy, the
CNN step within 1.5x of PyTorch eager with cuDNN (and, from a third file, GpuBench's CNN step
on the im2col path, -Dadjoint.cuda.cudnn=false, beside it). PyTorch's CNN figure comes twice:
with torch.backends.cudnn.deterministic=True, like-for-like with Adjoint (which takes only
deterministic algorithms), against which the target is judged, and with PyTorch's default
algorithms, for reference; an older torch.json with only the default is judged against that. A workload missing from a file
(GpuBench -Dadjoint.gpubench.only, torch_peer.py --only) is left out. Prints a short report;
a missing or broken file is reported, not raised.

Usage: compare.py ADJOINT_JSON TORCH_JSON [ADJOINT_IM2COL_JSON]
"""

import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, f"{path}: {e}"


def main():
    adjoint, adjoint_error = load(sys.argv[1])
    torch, torch_error = load(sys.argv[2])
    im2col, im2col_error = load(sys.argv[3]) if len(sys.argv) > 3 else (None, None)
    for error in (adjoint_error, torch_error, im2col_error):
        if error:
            print("no figures from", error)
    if adjoint:
        print(f"adjoint on {adjoint['device']} (sizes {adjoint['sizes']}, TF32 {adjoint['tf32']})")
    if adjoint and "checkpoint" in adjoint:
        for row in adjoint["checkpoint"]["policies"]:
            print(f"  checkpoint {row['policy']:>10}: device peak {row['device_peak_bytes'] / 2**20:9.1f} MiB,"
                  f" meter peak saved {row['meter_peak_saved_bytes'] / 2**20:9.1f} MiB, step {row['step_ms']:.2f} ms")
        peaks = [row["device_peak_bytes"] for row in adjoint["checkpoint"]["policies"]]
        print("  device peak below 'none' for every other policy:", all(p < peaks[0] for p in peaks[1:]))
    if adjoint and "reductions" in adjoint:
        r = adjoint["reductions"]
        print(f"  reductions of {r['rows']}x{r['cols']}: over the rows {r['sum_rows_ms']:.3f} ms,"
              f" everything {r['sum_all_ms']:.3f} ms")
    if not (adjoint and torch):
        return
    print(f"torch {torch['torch']} (CUDA {torch['cuda']}) on {torch['device']} (sizes {torch['sizes']}, TF32 {torch['tf32']})")
    if adjoint["sizes"] != torch["sizes"]:
        print("  the two ran different sizes: no ratios")
        return
    if "sgemm" in adjoint and "sgemm" in torch:
        ratio = adjoint["sgemm"]["tflops"] / torch["sgemm"]["tflops"]
        print(f"  sgemm {adjoint['sgemm']['n']}^3: adjoint {adjoint['sgemm']['tflops']:.2f} TFLOP/s, torch"
              f" {torch['sgemm']['tflops']:.2f}: adjoint/torch {ratio:.3f} (target >= 0.90)")
    if "reductions" in adjoint and "reductions" in torch:
        for key in ("sum_rows_ms", "sum_all_ms"):
            print(f"  reduction {key}: adjoint {adjoint['reductions'][key]:.3f} ms, torch {torch['reductions'][key]:.3f} ms")
    for key, target in (("mlp_large", 1.1), ("mlp_small", 1.5)):
        if key not in adjoint or key not in torch:
            continue
        ratio = adjoint[key]["ms"] / torch[key]["ms"]
        queued = f" (queued in {adjoint[key]['enqueue_ms']:.3f})" if "enqueue_ms" in adjoint[key] else ""
        print(f"  {key} {adjoint[key]['widths']} batch {adjoint[key]['batch']}: adjoint {adjoint[key]['ms']:.3f} ms{queued},"
              f" torch {torch[key]['ms']:.3f} ms: adjoint/torch {ratio:.3f} (target <= {target})")

    if "cnn" in torch:
        rows = [adjoint] + ([im2col] if im2col else [])
        for figures in rows:
            if "cnn" not in figures:
                continue
            path = "cuDNN" if figures.get("convolution", "").startswith("cuDNN") else "im2col"
            print(f"  convolution path: {figures.get('convolution')}")
            cnn = figures["cnn"]
            peer = torch["cnn"]
            deterministic = peer.get("ms_deterministic")
            like = deterministic if deterministic is not None else peer["ms"]
            ratio = cnn["ms"] / like
            target = " (target <= 1.5 with cuDNN)" if path == "cuDNN" else ""
            versus = "torch deterministic" if deterministic is not None else "torch default (no deterministic figure)"
            print(f"  cnn step batch {cnn['batch']}, adjoint convolutions {path}: adjoint {cnn['ms']:.3f} ms"
                  f" (queued in {cnn['enqueue_ms']:.3f}), {versus} {like:.3f} ms"
                  f" (cuDNN {peer.get('cudnn_version')}): adjoint/torch {ratio:.3f}{target}")
            if cnn.get("cudnn_fallbacks"):
                print(f"    {cnn['cudnn_fallbacks']} convolutions fell back from cuDNN to im2col (see the log's WARNING)")
            if deterministic is not None:
                print(f"    torch default algorithms {peer['ms']:.3f} ms: adjoint/torch-default"
                      f" {cnn['ms'] / peer['ms']:.3f} (for reference; not like-for-like)")


if __name__ == "__main__":
    main()
