#!/usr/bin/env python3
"""Sets the GPT runs of bench/gpu/run.sh against the transformer issue's GPU targets:
'./adjoint lm --backend cuda --json' (ADJOINT_JSON) beside bench/peers/gpt.py on the same
device (TORCH_JSON, optional), the same model, data, optimizer and iterations. Prints the
mean time per training iteration (evaluation excluded) of each, their ratio against
--ratio-target (the iteration within 1.3x of PyTorch eager at lm's defaults), and the
validation loss over the whole held-out text against --loss-target (1.50 for the larger
configuration), and beside it the best of the evaluations at intervals (held-out batches),
the figure nanoGPT's published loss is (it keeps the checkpoint of its best evaluation).
A missing or broken file is reported, not raised; the exit status is 0
either way (the stage's own status says whether the runs ended).

Usage: lm_summary.py ADJOINT_JSON [TORCH_JSON] [--ratio-target R] [--loss-target L]
"""

import argparse
import json


def load(path):
    if path is None:
        return None, None
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, f"{path}: {e}"


def report(figures, loss_target):
    """Prints one run's figures: Adjoint's (its JSON names the backend) or PyTorch's (it names torch)."""
    if "torch" in figures:
        print(f"torch {figures.get('torch')} on {figures.get('device')}: {figures.get('iterations')} iterations")
    else:
        print(f"adjoint on {figures.get('backend')}: {figures.get('layers')} layers, {figures.get('heads')} heads,"
              f" width {figures.get('embed')}, context {figures.get('context')}, batch {figures.get('batch')},"
              f" dropout {figures.get('dropout')}"
              + (f" (attention weights {figures['attentionDropout']})" if figures.get("attentionDropout") else "")
              + f", {figures.get('iterations')} iterations")
    verdict = ""
    if loss_target is not None:
        verdict = f" (target <= {loss_target}: {'met' if figures['valLoss'] <= loss_target else 'NOT met'})"
    saved = ""
    if "peakSavedBytes" in figures:
        saved = f", peak saved activations {figures['peakSavedBytes'] / 2**20:.2f} MiB"
    print(f"  {figures['msPerIteration']:.2f} ms/iteration, validation loss {figures['valLoss']:.4f}{verdict}{saved}")
    curve = [point for point in figures.get("curve", []) if "valLoss" in point]
    if loss_target is not None and curve:
        best = min(curve, key=lambda point: point["valLoss"])
        met = "met" if best["valLoss"] <= loss_target else "NOT met"
        print(f"  best evaluation {best['valLoss']:.4f} at iteration {best['iteration']} ({len(curve)} evaluation{'s' if len(curve) != 1 else ''})"
              f" (target <= {loss_target}: {met})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("adjoint")
    parser.add_argument("torch", nargs="?")
    parser.add_argument("--ratio-target", type=float)
    parser.add_argument("--loss-target", type=float)
    args = parser.parse_args()
    adjoint, adjoint_error = load(args.adjoint)
    torch, torch_error = load(args.torch)
    for error in (adjoint_error, torch_error):
        if error:
            print("no figures from", error)
    for figures in (adjoint, torch):
        if figures:
            report(figures, args.loss_target)
    if adjoint and torch:
        if adjoint.get("iterations") != torch.get("iterations"):
            print("  the two ran different iteration counts: no ratio")
            return
        ratio = adjoint["msPerIteration"] / torch["msPerIteration"]
        target = ""
        if args.ratio_target is not None:
            target = f" (target <= {args.ratio_target}: {'met' if ratio <= args.ratio_target else 'NOT met'})"
        print(f"  adjoint/torch time per iteration {ratio:.3f}{target}")


if __name__ == "__main__":
    main()
