#!/usr/bin/env python3
"""Prints the table of bench/compare.sh from JMH JSON results and peers.py output.

Usage: table.py GEMM_JMH.json MLP_JMH.json PEERS.json

GEMM scores come from GemmBench's primary metric (products per second) times 2·m·n·k for the
shape; the MLP step from MlpStepBench (ms/op). A missing result prints as "-" and its
ratios as "-".
"""

import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the sources when importing peers
from peers import MLP_KEY, flops  # noqa: E402


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"table: cannot read {path}: {e}", file=sys.stderr)
        return None


def jmh_scores(path, benchmark):
    """{(provider, shape or None): (score, unit)} of one JMH benchmark method."""
    scores = {}
    for entry in load(path) or []:
        if not entry.get("benchmark", "").endswith(benchmark):
            continue
        params = entry.get("params", {})
        metric = entry["primaryMetric"]
        scores[(params.get("provider"), params.get("shape"))] = (metric["score"], metric["scoreUnit"])
    return scores


def number(value, width, digits=1):
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def ratio(numerator, denominator, width):
    if numerator is None or not denominator:
        return f"{'-':>{width}}"
    return f"{numerator / denominator:>{width}.2f}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    gemm = jmh_scores(sys.argv[1], ".GemmBench.sgemm")
    mlp = jmh_scores(sys.argv[2], ".MlpStepBench.step")
    composite = jmh_scores(sys.argv[2], ".MlpStepBench.stepComposite")
    peers = load(sys.argv[3]) or {"results": {"gemm": {}, "mlp_step": {}}, "peers": {}, "skipped": {}}

    def adjoint_gflops(provider, shape):
        score = gemm.get((provider, shape))
        if score is None:
            return None
        value, unit = score
        if unit != "ops/s":
            raise SystemExit(f"table: GemmBench score in {unit}, expected ops/s")
        return value * flops(shape) / 1e9

    def peer_value(workload, key, peer, field):
        return peers["results"].get(workload, {}).get(key, {}).get(peer, {}).get(field)

    shapes = list(dict.fromkeys([s for _, s in gemm] + list(peers["results"].get("gemm", {}))))
    shapes.sort(key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0))

    print("SGEMM, GFLOP/s (higher is better); ratios against NumPy")
    header = (f"{'shape':<18} {'vector':>8} {'scalar':>8} {'NumPy':>8} {'torch':>8}"
              f" {'vector/NumPy':>13} {'scalar/NumPy':>13}")
    print(header)
    print("-" * len(header))
    for shape in shapes:
        vector = adjoint_gflops("vector", shape)
        scalar = adjoint_gflops("scalar", shape)
        numpy = peer_value("gemm", shape, "numpy", "gflops")
        torch = peer_value("gemm", shape, "torch", "gflops")
        print(f"{shape:<18} {number(vector, 8)} {number(scalar, 8)} {number(numpy, 8)} {number(torch, 8)}"
              f" {ratio(vector, numpy, 13)} {ratio(scalar, numpy, 13)}")
    print("  nn: X·W (forward)   tn: Xᵀ·dY (weight gradient)   nt: dY·Wᵀ (input gradient); M x K x N")
    print()

    def adjoint_ms(provider):
        score = mlp.get((provider, None))
        if score is None:
            return None
        value, unit = score
        if unit != "ms/op":
            raise SystemExit(f"table: MlpStepBench score in {unit}, expected ms/op")
        return value

    print(f"MLP step {MLP_KEY.replace('/', ', batch ')} (ReLU, cross-entropy, SGD), ms/step (lower is better)")
    header = (f"{'Adjoint vector':>14} {'Adjoint scalar':>14} {'PyTorch':>8}"
              f" {'vector/PyTorch':>15} {'scalar/PyTorch':>15}")
    print(header)
    print("-" * len(header))
    vector, scalar = adjoint_ms("vector"), adjoint_ms("scalar")
    torch = peer_value("mlp_step", MLP_KEY, "torch", "ms_per_step")
    print(f"{number(vector, 14)} {number(scalar, 14)} {number(torch, 8)}"
          f" {ratio(vector, torch, 15)} {ratio(scalar, torch, 15)}")
    plain = composite.get(("vector", None))
    if plain is not None:
        print(f"(the same step from plain tensor operations, no fusion, new parameters per step: "
              f"vector {plain[0]:.1f} ms, {plain[0] / torch:.2f}x PyTorch)" if torch else
              f"(plain tensor operations: vector {plain[0]:.1f} ms)")
    print()

    for peer, info in peers.get("peers", {}).items():
        blas = info.get("loaded_blas") or info.get("blas")
        if isinstance(blas, list):
            blas = ", ".join(p.rsplit("/", 1)[-1] for p in blas) or "unknown"
        print(f"{peer} {info.get('version')}, BLAS: {blas}, threads: {peers.get('threads')}")
    for peer, reason in peers.get("skipped", {}).items():
        print(f"{peer}: skipped ({reason})")


if __name__ == "__main__":
    main()
