#!/usr/bin/env python3
"""Times Adjoint's two benchmark workloads in NumPy (OpenBLAS) and PyTorch (CPU), 1.x and 2.x.

The workloads mirror the JMH suites in bench/src/main/java/org/adjoint/bench/jmh:

* SGEMM C = op(A)·op(B) in float32 for the shapes of GemmBench ("512" is 512x512x512;
  "tn:784x256x1024" is Aᵀ·B with m=784, k=256, n=1024, A stored k×m), with warm-up and the
  median of several timed repetitions, reported in GFLOP/s (2·m·n·k per product). Both
  peers write into a preallocated C, as the Adjoint kernel does, and take transposed
  operands as views, so the BLAS absorbs the transpose.
* One SGD step of a 784-1024-1024-1024-10 MLP with ReLU at batch 256 in PyTorch
  (torch.nn.Linear, F.cross_entropy, torch.optim.SGD), reported in ms/step.

Each peer runs in its own child process so that one library's thread pool cannot spin
while the other is timed; all cores are used (os.cpu_count()). The peers numpy and torch run
on this interpreter; the peer torch2 runs the same PyTorch code on a second interpreter
(--torch2-python, e.g. a venv with PyTorch 2.x), so that two PyTorch releases, which cannot
share one Python, are timed in one run. A peer whose module does not import is skipped with
a message on standard error. Standard output is one JSON object:

    {"threads": 2, "peers": {"numpy": {...versions...}, "torch": {...}, "torch2": {...}},
     "skipped": {"torch": "No module named 'torch'"},
     "results": {"gemm": {"512": {"numpy": {"gflops": median, "best_gflops": ..., ...}, ...}},
                 "mlp_step": {"784-1024-1024-1024-10/256": {"torch": {"ms_per_step": ...}}}}}

A PyTorch peer's entry in "peers" holds its version, its interpreter, its BLAS (BLAS_INFO)
and what torch.__config__.show() says of its backends: the MKL and oneDNN versions, the CPU
capability its kernels were dispatched for (AVX2, AVX512, ...) and the threading library.

Usage: peers.py [--quick] [--shapes S,S,...] [--peers numpy,torch,torch2] [--torch2-python PATH]
                [--list-shapes]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

SQUARE_SHAPES = ["256", "512", "1024", "2048"]
QUICK_SQUARE_SHAPES = ["512", "1024"]
# Forward X·W, weight gradient Xᵀ·dY, input gradient dY·Wᵀ of each layer at batch 256.
MLP_SHAPES = [
    "nn:256x784x1024", "nn:256x1024x1024", "nn:256x1024x10",
    "tn:784x256x1024", "tn:1024x256x1024", "tn:1024x256x10",
    "nt:256x1024x784", "nt:256x1024x1024", "nt:256x10x1024",
]
MLP_WIDTHS = [784, 1024, 1024, 1024, 10]
MLP_BATCH = 256
MLP_KEY = "-".join(map(str, MLP_WIDTHS)) + "/" + str(MLP_BATCH)
LEARNING_RATE = 0.01
PEERS = ["numpy", "torch", "torch2"]


def parse_shape(text):
    """Returns (trans_a, trans_b, m, k, n) for "N" or "OP:MxKxN" (as GemmShape.parse)."""
    text = text.strip().lower()
    if text.isdigit():
        size = int(text)
        return False, False, size, size, size
    match = re.fullmatch(r"(nn|tn|nt|tt):(\d+)x(\d+)x(\d+)", text)
    if not match:
        raise ValueError(f"GEMM shape '{text}': expected N or OP:MxKxN with OP in nn, tn, nt, tt")
    op, m, k, n = match.group(1), *map(int, match.groups()[1:])
    return op[0] == "t", op[1] == "t", m, k, n


def flops(shape):
    _, _, m, k, n = parse_shape(shape)
    return 2.0 * m * n * k


def time_calls(call, quick):
    """Median and best seconds per call, the number of repetitions and calls per repetition:
    warm up, then time repetitions of enough calls to last 0.1 s (quick) or 0.25 s."""
    warmup_seconds, repetitions, target = (0.2, 7, 0.1) if quick else (0.5, 9, 0.25)
    start = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - start < warmup_seconds:
        call()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    batch = max(1, int(target / per_call))
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(batch):
            call()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples), min(samples), len(samples), batch


def loaded_blas():
    """Shared libraries with 'blas' or 'mkl' in their name mapped into this process."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if re.search(r"blas|mkl|blis", os.path.basename(p), re.I))


def numpy_worker(shapes, quick):
    import numpy as np

    rng = np.random.default_rng(42)
    gemm = {}
    for shape in shapes:
        trans_a, trans_b, m, k, n = parse_shape(shape)
        a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
        op_a = a.T if trans_a else a
        op_b = b.T if trans_b else b
        c = np.empty((m, n), dtype=np.float32)
        seconds, best, reps, batch = time_calls(lambda: np.matmul(op_a, op_b, out=c), quick)
        gemm[shape] = {"gflops": flops(shape) / seconds / 1e9, "best_gflops": flops(shape) / best / 1e9,
                       "seconds": seconds, "repetitions": reps, "calls_per_repetition": batch}
        print(f"  numpy {shape}: {gemm[shape]['gflops']:.1f} GFLOP/s", file=sys.stderr)
    info = {"version": np.__version__, "blas": loaded_blas()}
    return {"info": info, "gemm": gemm, "mlp_step": None}


def torch_worker(shapes, quick, threads):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(42)
    gemm = {}
    with torch.no_grad():
        for shape in shapes:
            trans_a, trans_b, m, k, n = parse_shape(shape)
            a = torch.rand((k, m) if trans_a else (m, k), generator=generator) * 2 - 1
            b = torch.rand((n, k) if trans_b else (k, n), generator=generator) * 2 - 1
            op_a = a.t() if trans_a else a
            op_b = b.t() if trans_b else b
            c = torch.empty((m, n), dtype=torch.float32)
            seconds, best, reps, batch = time_calls(lambda: torch.matmul(op_a, op_b, out=c), quick)
            gemm[shape] = {"gflops": flops(shape) / seconds / 1e9, "best_gflops": flops(shape) / best / 1e9,
                           "seconds": seconds, "repetitions": reps, "calls_per_repetition": batch}
            print(f"  torch {torch.__version__} {shape}: {gemm[shape]['gflops']:.1f} GFLOP/s", file=sys.stderr)

    torch.manual_seed(7)
    layers = []
    for i in range(len(MLP_WIDTHS) - 1):
        layers.append(torch.nn.Linear(MLP_WIDTHS[i], MLP_WIDTHS[i + 1]))
        if i + 2 < len(MLP_WIDTHS):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    x = torch.randn(MLP_BATCH, MLP_WIDTHS[0])
    y = torch.randint(0, MLP_WIDTHS[-1], (MLP_BATCH,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    warmup, steps = (3, 10) if quick else (10, 30)
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    mlp = {"ms_per_step": statistics.median(samples) * 1e3,
           "mean_ms_per_step": statistics.fmean(samples) * 1e3, "steps": steps}
    print(f"  torch {torch.__version__} MLP step: {mlp['ms_per_step']:.1f} ms/step", file=sys.stderr)
    info = {"version": torch.__version__, "python": sys.executable, "threads": torch.get_num_threads(),
            **torch_backends(torch.__config__.show()), "loaded_blas": loaded_blas()}
    return {"info": info, "gemm": gemm, "mlp_step": mlp}


def torch_backends(config):
    """What torch.__config__.show() says of the libraries under PyTorch's CPU kernels, as
    {"blas", "mkl", "onednn", "cpu_capability", "parallel"}; None where it says nothing.
    The text differs between releases (1.13 and 2.x both print these lines)."""
    def find(pattern):
        match = re.search(pattern, config)
        return match.group(1) if match else None

    return {"blas": find(r"BLAS_INFO=(\w+)"),
            "mkl": find(r"Math Kernel Library Version ([\w.]+)"),
            "onednn": find(r"(?:MKL-DNN|oneDNN) v?([\w.]+)"),
            "cpu_capability": find(r"CPU capability usage: (\w+)"),
            "parallel": "OpenMP" if "OpenMP" in config else None}


def run_worker(peer, shapes, quick, threads):
    try:
        if peer == "numpy":
            result = numpy_worker(shapes, quick)
        else:
            result = torch_worker(shapes, quick, threads)
    except ImportError as e:
        result = {"skipped": str(e)}
    json.dump(result, sys.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="square sizes 512 and 1024 only, fewer repetitions")
    parser.add_argument("--shapes", help="comma-separated GEMM shapes (default: as GemmBench)")
    parser.add_argument("--peers", help="comma-separated subset of numpy,torch,torch2 "
                        "(default: numpy,torch, and torch2 with --torch2-python)")
    parser.add_argument("--torch2-python", metavar="PATH",
                        help="the Python interpreter of the peer torch2 (one with PyTorch 2.x)")
    parser.add_argument("--list-shapes", action="store_true",
                        help="print the GEMM shapes that would run, comma-separated, and exit")
    parser.add_argument("--worker", choices=PEERS[:2], help=argparse.SUPPRESS)
    args = parser.parse_args()

    threads = os.cpu_count() or 1
    if args.shapes:
        shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    else:
        shapes = (QUICK_SQUARE_SHAPES if args.quick else SQUARE_SHAPES) + MLP_SHAPES
    for shape in shapes:
        try:
            parse_shape(shape)
        except ValueError as e:
            parser.error(str(e))
    if args.list_shapes:
        print(",".join(shapes))
        return

    if args.worker:
        run_worker(args.worker, shapes, args.quick, threads)
        return

    # Thread counts are read when the libraries load, so they are set for the children here.
    env = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)

    output = {"threads": threads, "peers": {}, "skipped": {},
              "results": {"gemm": {shape: {} for shape in shapes}, "mlp_step": {MLP_KEY: {}}}}
    peers = args.peers or ",".join(PEERS if args.torch2_python else PEERS[:2])
    for peer in [p.strip() for p in peers.split(",") if p.strip()]:
        if peer not in PEERS:
            parser.error(f"unknown peer '{peer}' (expected {', '.join(PEERS)})")
        if peer == "torch2" and not args.torch2_python:
            parser.error("peer torch2 needs --torch2-python PATH")
        python = args.torch2_python if peer == "torch2" else sys.executable
        print(f"peers: timing {peer} ({python}) ...", file=sys.stderr)
        # torch2's worker runs the torch code on the other interpreter.
        worker = "torch" if peer == "torch2" else peer
        command = [python, "-B", os.path.abspath(__file__), "--worker", worker, "--shapes", ",".join(shapes)]
        if args.quick:
            command.append("--quick")
        try:
            child = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
        except OSError as e:
            output["skipped"][peer] = f"cannot run {python}: {e.strerror}"
            print(f"peers: {peer}: cannot run {python} ({e.strerror}); skipping it", file=sys.stderr)
            continue
        if child.returncode != 0:
            output["skipped"][peer] = f"worker exited with status {child.returncode}"
            print(f"peers: {peer} failed (status {child.returncode}); skipping it", file=sys.stderr)
            continue
        result = json.loads(child.stdout)
        if "skipped" in result:
            output["skipped"][peer] = result["skipped"]
            print(f"peers: skipping {peer}: {result['skipped']}", file=sys.stderr)
            continue
        output["peers"][peer] = result["info"]
        for shape, numbers in result["gemm"].items():
            output["results"]["gemm"][shape][peer] = numbers
        if result["mlp_step"] is not None:
            output["results"]["mlp_step"][MLP_KEY][peer] = result["mlp_step"]
    json.dump(output, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
