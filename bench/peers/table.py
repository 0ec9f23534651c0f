#!/usr/bin/env python3
"""Prints the table of bench/compare.sh from JMH JSON results and peers.py output.

Usage: table.py GEMM_JMH.json MLP_JMH.json PEERS.json

GEMM scores come from GemmBench's primary metric (products per second) times 2·m·n·k for the
shape; the MLP step from MlpStepBench (ms/op). A missing result prints as "-" and its
ratios as "-".

Each PyTorch that peers.py timed (peer torch, and torch2 from a second interpreter) gets its
own columns, labelled with its version ("torch 1.13", "torch 2.13"), and Adjoint's ratios
against it; a PyTorch that did not run has no columns, and the notes under the tables say why.
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


TORCH_PEERS = ["torch", "torch2"]


def torch_labels(peers):
    """{peer: column label} of the PyTorch peers that ran: "torch 1.13", "torch 2.13"; the peer's
    name is added where two peers would read the same."""
    labels = {}
    for peer in TORCH_PEERS:
        info = peers.get("peers", {}).get(peer)
        if info is None:
            continue
        version = ".".join(str(info.get("version", "?")).split("+")[0].split(".")[:2])
        labels[peer] = f"torch {version}"
    if len(set(labels.values())) < len(labels):
        labels = {peer: f"{label} ({peer})" for peer, label in labels.items()}
    return labels


def describe_peer(peer, info, threads):
    """One line on a peer's library: version, BLAS and backends, threads, interpreter."""
    version = info.get("version")
    if peer in TORCH_PEERS:
        parts = [f"BLAS {info.get('blas') or 'unknown'}"]
        if info.get("mkl"):
            parts.append(f"MKL {info['mkl']}")
        if info.get("onednn"):
            parts.append(f"oneDNN {info['onednn']}")
        if info.get("cpu_capability"):
            parts.append(f"CPU capability {info['cpu_capability']}")
        if info.get("parallel"):
            parts.append(info["parallel"])
        # Shared BLAS libraries PyTorch itself mapped (a distribution build's libblas); NumPy's
        # own, which torch imports, say nothing of PyTorch's kernels.
        shared = [p.rsplit("/", 1)[-1] for p in info.get("loaded_blas") or [] if "numpy" not in p]
        if shared:
            parts.append("loaded " + ", ".join(shared))
        backends = "; ".join(parts)
        name = "PyTorch"
    else:
        blas = info.get("loaded_blas") or info.get("blas")
        if isinstance(blas, list):
            blas = ", ".join(p.rsplit("/", 1)[-1] for p in blas) or "unknown"
        backends = f"BLAS {blas}"
        name = "NumPy" if peer == "numpy" else peer
    where = f", {info['python']}" if info.get("python") else ""
    return f"{name} {version} ({peer}): {backends}; threads {info.get('threads', threads)}{where}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    gemm = jmh_scores(sys.argv[1], ".GemmBench.sgemm")
    mlp = jmh_scores(sys.argv[2], ".MlpStepBench.step")
    composite = jmh_scores(sys.argv[2], ".MlpStepBench.stepComposite")
    peers = load(sys.argv[3]) or {"results": {"gemm": {}, "mlp_step": {}}, "peers": {}, "skipped": {}}
    torches = torch_labels(peers)

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

    # Column widths follow the labels; "vector/torch 2.13" is 17 characters.
    value_widths = {peer: max(8, len(label)) for peer, label in torches.items()}
    ratio_widths = {peer: len(f"vector/{label}") for peer, label in torches.items()}
    names = ["NumPy", *torches.values()]
    against = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    print(f"SGEMM, GFLOP/s (higher is better); ratios against {against}")
    header = (f"{'shape':<18} {'vector':>8} {'scalar':>8} {'NumPy':>8}"
              + "".join(f" {label:>{value_widths[peer]}}" for peer, label in torches.items())
              + f" {'vector/NumPy':>13} {'scalar/NumPy':>13}"
              + "".join(f" {'vector/' + label:>{ratio_widths[peer]}}" for peer, label in torches.items()))
    print(header)
    print("-" * len(header))
    for shape in shapes:
        vector = adjoint_gflops("vector", shape)
        scalar = adjoint_gflops("scalar", shape)
        numpy = peer_value("gemm", shape, "numpy", "gflops")
        torch = {peer: peer_value("gemm", shape, peer, "gflops") for peer in torches}
        print(f"{shape:<18} {number(vector, 8)} {number(scalar, 8)} {number(numpy, 8)}"
              + "".join(f" {number(torch[peer], value_widths[peer])}" for peer in torches)
              + f" {ratio(vector, numpy, 13)} {ratio(scalar, numpy, 13)}"
              + "".join(f" {ratio(vector, torch[peer], ratio_widths[peer])}" for peer in torches))
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
    columns = [("Adjoint vector", 14), ("Adjoint scalar", 14)]
    columns += [(label, max(8, len(label))) for label in torches.values()]
    for label in torches.values():
        columns += [(f"vector/{label}", len(f"vector/{label}")), (f"scalar/{label}", len(f"scalar/{label}"))]
    header = " ".join(f"{name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    vector, scalar = adjoint_ms("vector"), adjoint_ms("scalar")
    torch = {peer: peer_value("mlp_step", MLP_KEY, peer, "ms_per_step") for peer in torches}
    cells = [number(vector, 14), number(scalar, 14)]
    cells += [number(torch[peer], max(8, len(label))) for peer, label in torches.items()]
    for peer, label in torches.items():
        cells += [ratio(vector, torch[peer], len(f"vector/{label}")), ratio(scalar, torch[peer], len(f"scalar/{label}"))]
    print(" ".join(cells))
    plain = composite.get(("vector", None))
    if plain is not None:
        against = ", ".join(f"{plain[0] / torch[peer]:.2f}x {label}" for peer, label in torches.items() if torch[peer])
        print(f"(the same step from plain tensor operations, no fusion, new parameters per step: "
              f"vector {plain[0]:.1f} ms{', ' + against if against else ''})")
    print()

    for peer, info in peers.get("peers", {}).items():
        print(describe_peer(peer, info, peers.get("threads")))
    for peer, reason in peers.get("skipped", {}).items():
        print(f"{peer}: skipped ({reason})")


if __name__ == "__main__":
    main()
