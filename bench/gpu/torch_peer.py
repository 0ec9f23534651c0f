#!/usr/bin/env python3
"""PyTorch (eager, CUDA, TF32 off) on the workloads of org.adjoint.bench.gpu.GpuBench:
SGEMM 4096^3, the two reductions of a step (a 4096 x 4096 matrix summed over its rows, and
in full), the MLP step (nn.Linear + ReLU, F.cross_entropy, SGD lr 0.01) at
784-1024-1024-1024-10 / batch 256 and 4096-4096-4096-4096-10 / batch 4096, and the step of
adjoint train --model cnn's network (Adam lr 1e-3) at batch 64, its convolutions through
cuDNN as PyTorch eager runs them (cudnn.benchmark off, TF32 off), timed twice: with PyTorch's
default algorithms ("ms"), which may add with atomics, and with
torch.backends.cudnn.deterministic=True ("ms_deterministic"), which, like Adjoint, takes only
deterministic ones: that figure is the like-for-like comparison. Medians of timed
repetitions after warm-up, each ended by torch.cuda.synchronize(). Prints one JSON object
with GpuBench's keys.

Usage: torch_peer.py [--small] [--only cnn,sgemm,...]
       (--small: GpuBench's toy sizes, -Dadjoint.gpubench.small=true; --only: those workloads)
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
              "mlp_large": ([4096, 4096, 4096, 4096, 10], 4096), "cnn": 64},
    "small": {"sgemm": 64, "mlp_small": ([24, 32, 32, 32, 10], 16),
              "mlp_large": ([48, 64, 64, 64, 10], 32), "cnn": 2},
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


def cnn_step(batch):
    """adjoint train --model cnn's network (GpuBench.cnn): Adam lr 1e-3, cross-entropy, 28x28 images;
    timed with PyTorch's default cuDNN algorithms and again with deterministic ones only."""
    result = {"batch": batch, "cudnn": torch.backends.cudnn.is_available() and torch.backends.cudnn.enabled,
              "cudnn_version": torch.backends.cudnn.version()}
    before = torch.backends.cudnn.deterministic
    try:
        for key, deterministic in (("ms", False), ("ms_deterministic", True)):
            torch.backends.cudnn.deterministic = deterministic
            result[key] = cnn_step_ms(batch)
    finally:
        torch.backends.cudnn.deterministic = before
    return result


def cnn_step_ms(batch):
    """One timing of the CNN step under the current torch.backends.cudnn settings (a fresh model each time)."""
    torch.manual_seed(7)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()

    return 1000 * timed(step, 20, 5)


def main():
    arguments = sys.argv[1:]
    name = "small" if "--small" in arguments else "issue"
    only = None
    if "--only" in arguments:
        only = set(arguments[arguments.index("--only") + 1].split(","))
    sizes = SIZES[name]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    result = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "sizes": name,
        "tf32": torch.backends.cuda.matmul.allow_tf32,
    }
    workloads = {
        "sgemm": lambda: sgemm(sizes["sgemm"]),
        "reductions": lambda: reductions(sizes["mlp_large"][1], sizes["mlp_large"][0][1]),
        "mlp_small": lambda: mlp_step(*sizes["mlp_small"]),
        "mlp_large": lambda: mlp_step(*sizes["mlp_large"]),
        "cnn": lambda: cnn_step(sizes["cnn"]),
    }
    for key, workload in workloads.items():
        if only is None or key in only:
            result[key] = workload()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
