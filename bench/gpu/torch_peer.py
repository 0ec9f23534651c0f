#!/usr/bin/env python3
"""PyTorch (eager, CUDA, TF32 off) on the workloads of org.adjoint.bench.gpu.GpuBench:
SGEMM 4096^3, the two reductions of a step (a 4096 x 4096 matrix summed over its rows, and
in full), and the MLP step (nn.Linear + ReLU, F.cross_entropy, SGD lr 0.01) at
784-1024-1024-1024-10 / batch 256 and 4096-4096-4096-4096-10 / batch 4096. Medians of
timed repetitions after warm-up, each ended by torch.cuda.synchronize(). Prints one JSON
object with GpuBench's keys.

Usage: torch_peer.py [--small]   (--small: GpuBench's toy sizes, -Dadjoint.gpubench.small=true)
"""

import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# The same sizes as GpuBench.Sizes.ISSUE and GpuBench.Sizes.SMALL.
SIZES = {
    "issue": {"sgemm": 4096, "mlp_small": ([784, 1024, 1024, 1024, 10], 256),
              "mlp_large": ([4096, 4096, 4096, 4096, 10], 4096)},
    "small": {"sgemm": 64, "mlp_small": ([24, 32, 32, 32, 10], 16),
              "mlp_large": ([48, 64, 64, 64, 10], 32)},
}


def timed(function, repetitions, warmup):
    for _ in range(warmup):
        function()
    torch.cuda.synchronize()
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def sgemm(n):
    a = torch.rand(n, n, device="cuda") * 2 - 1
    b = torch.rand(n, n, device="cuda") * 2 - 1
    c = torch.empty(n, n, device="cuda")
    seconds = timed(lambda: torch.matmul(a, b, out=c), 10, 3)
    return {"n": n, "tflops": 2.0 * n ** 3 / seconds / 1e12}


def reductions(rows, cols):
    x = torch.rand(rows, cols, device="cuda") * 2 - 1
    result = {"rows": rows, "cols": cols}
    result["sum_rows_ms"] = 1000 * timed(lambda: x.sum(0), 10, 3)
    result["sum_all_ms"] = 1000 * timed(lambda: x.sum(), 10, 3)
    return result


def mlp_step(widths, batch):
    torch.manual_seed(7)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, widths[0], device="cuda")
    y = torch.randint(0, widths[-1], (batch,), device="cuda")

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    return {"widths": widths, "batch": batch, "ms": 1000 * timed(step, 20, 5)}


def main():
    name = "small" if "--small" in sys.argv[1:] else "issue"
    sizes = SIZES[name]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    result = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "sizes": name,
        "tf32": torch.backends.cuda.matmul.allow_tf32,
        "sgemm": sgemm(sizes["sgemm"]),
        "reductions": reductions(sizes["mlp_large"][1], sizes["mlp_large"][0][1]),
        "mlp_small": mlp_step(*sizes["mlp_small"]),
        "mlp_large": mlp_step(*sizes["mlp_large"]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
