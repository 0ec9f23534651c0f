#!/usr/bin/env python3
"""Prints the table of bench/train-compare.sh or bench/lm-compare.sh from one or more rounds.

Usage: rounds.py train OUT ROUNDS EPOCHS MODEL [NOTE...]
       rounds.py lm OUT ROUNDS DEVICE [NOTE...]

OUT holds Adjoint's output and each PyTorch's JSON per round: adjoint.txt (train) or
adjoint.json (lm), torch.json and torch2.json for one round; adjoint.R.txt, torch.R.json, ...
for round R of several. Each contender's time is the median over the rounds (for train, a
round's time is the mean over its epochs); the ratio line gives the ratio of the medians
and, with several rounds, every round's own ratio, since the rounds alternate the contenders
and a drifting machine shows in their spread.
"""

import datetime
import json
import platform
import re
import statistics
import sys

NETWORKS = {"mlp": "MLP 784-256-128-10 ReLU", "cnn": "CNN conv32-pool-conv64-pool-128 (adjoint train --model cnn)",
            "resnet": "residual net with batch norm (adjoint train --model resnet)"}
STEPS = (60000 + 63) // 64


def suffix(rounds, r):
    return "" if rounds == 1 else f".{r}"


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def adjoint_train(path):
    """(ms/step mean over the epochs, last test accuracy) from `./adjoint train` output."""
    text = open(path).read()
    rows = [(float(ms), float(acc)) for acc, ms in
            re.findall(r"test accuracy +([\d.]+)%\s+([\d.]+) ms/step", text)]
    if not rows:
        sys.exit(f"no epoch lines in the Adjoint output {path}")
    return sum(ms for ms, _ in rows) / len(rows), rows[-1][1] / 100


def torch_train_ms(t):
    """A fashion_mnist.py result's ms/step, the mean over its epochs; None when it did not run."""
    if not t.get("epochs"):
        return None
    return sum(e["ms_per_step"] for e in t["epochs"]) / len(t["epochs"])


def torch_lm_ms(t):
    """A gpt.py result's ms/iteration; None when it did not run."""
    return t["msPerIteration"] if t.get("iterations") else None


def past_first_interval(result):
    """Mean ms/iteration after the first evaluation interval (the JIT's warm-up, for Adjoint) and the
    iteration that interval ends at; None without a curve of two intervals or more."""
    curve = result.get("curve") or [] if result.get("iterations") else []
    if len(curve) < 2:
        return None
    first = previous = curve[0]["iteration"]
    total, iterations = 0.0, 0
    for point in curve[1:]:
        steps = point["iteration"] - previous
        total += point["msPerIteration"] * steps
        iterations += steps
        previous = point["iteration"]
    return (total / iterations, first) if iterations else None


def torch_lm_past(t):
    """A gpt.py result's ms/iteration after its first evaluation interval; None when it has none."""
    past = past_first_interval(t)
    return past[0] if past else None


def peers(out, rounds, time_of):
    """Each PyTorch with a result in at least one round: its label, last result, times and kept rounds (0-based)."""
    for name in ("torch", "torch2"):
        runs = [load_json(f"{out}/{name}{suffix(rounds, r)}.json") for r in range(1, rounds + 1)]
        times = [time_of(t) for t in runs]
        kept = [r for r in range(rounds) if times[r] is not None]
        if kept:
            last = runs[kept[-1]]
            yield f"PyTorch {last['torch']}", last, [times[r] for r in kept], kept


def missing(label, rounds, kept):
    """A note naming the rounds in which a peer gave no result (its median is over the others)."""
    lost = [r + 1 for r in range(rounds) if r not in kept]
    if not lost:
        return []
    return [f"{label}: no result in round{'s' if len(lost) > 1 else ''} {', '.join(map(str, lost))} "
            f"(see the log above); its time and ratio use the other round{'s' if len(kept) > 1 else ''} only"]


def ratio_line(label, unit, ours, theirs):
    ratio = statistics.median(ours) / statistics.median(theirs)
    line = f"Adjoint / {label} time per {unit}: {ratio:.2f}x"
    if len(ours) > 1:
        each = " ".join(f"{a / b:.2f}x" for a, b in zip(ours, theirs))
        line += f" (ratio of the medians of {len(ours)} alternating rounds; each round: {each})"
    return line


def main():
    kind, out, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ratios = []
    if kind == "train":
        epochs, model, notes = int(sys.argv[4]), sys.argv[5], sys.argv[6:]
        ours = [adjoint_train(f"{out}/adjoint{suffix(rounds, r)}.txt") for r in range(1, rounds + 1)]
        ours_ms = [ms for ms, _ in ours]
        print(f"Fashion-MNIST, {NETWORKS[model]}, Adam lr 1e-3, batch 64, {epochs} epochs"
              f"{'' if rounds == 1 else f', median of {rounds} rounds'}; "
              f"{datetime.date.today()}, {platform.machine()}, {platform.processor() or 'cpu'}")
        print("| | s/epoch | ms/step | test accuracy |")
        print("| --- | --- | --- | --- |")
        ms = statistics.median(ours_ms)
        print(f"| Adjoint | {ms * STEPS / 1000:.2f} | {ms:.3f} | {ours[-1][1]:.4f} |")
        for label, last, theirs, kept in peers(out, rounds, torch_train_ms):
            notes = notes + missing(label, rounds, kept)
            m = statistics.median(theirs)
            print(f"| {label} ({last['threads']} threads) | {m * STEPS / 1000:.2f} | {m:.3f} | "
                  f"{last['epochs'][-1]['test_accuracy']:.4f} |")
            ratios.append(ratio_line(label, "epoch", [ours_ms[r] for r in kept], theirs))
    else:
        device, notes = sys.argv[4], sys.argv[5:]
        ours = [load_json(f"{out}/adjoint{suffix(rounds, r)}.json") for r in range(1, rounds + 1)]
        if any("msPerIteration" not in a for a in ours):
            sys.exit(f"no Adjoint result in {out}")
        a = ours[-1]
        ours_ms = [x["msPerIteration"] for x in ours]
        print(f"tiny Shakespeare, GPT {a['layers']} layers, {a['heads']} heads, width {a['embed']}, "
              f"context {a['context']}, batch {a['batch']}, {a['iterations']} iterations, {device}"
              f"{'' if rounds == 1 else f', median of {rounds} rounds'}; "
              f"{datetime.date.today()}, {platform.machine()}, {platform.processor() or 'cpu'}")
        print("| | ms/iteration | validation loss | parameters |")
        print("| --- | --- | --- | --- |")
        print(f"| Adjoint ({a['backend']}) | {statistics.median(ours_ms):.1f} | {a['valLoss']:.4f} | "
              f"{a['parameters']:,} |")
        for label, t, theirs, kept in peers(out, rounds, torch_lm_ms):
            notes = notes + missing(label, rounds, kept)
            print(f"| {label} ({t['threads']} threads) | {statistics.median(theirs):.1f} | {t['valLoss']:.4f} | "
                  f"{t['parameters']:,} |")
            ratios.append(ratio_line(label, "iteration", [ours_ms[r] for r in kept], theirs))
        # The same ratio past the first evaluation interval, which holds the JIT's warm-up of a fresh JVM.
        ours_past = [past_first_interval(x) for x in ours]
        if all(ours_past):
            after = ours_past[-1][1]
            for label, _, theirs, kept in peers(out, rounds, torch_lm_past):
                ratios.append(ratio_line(label, f"iteration past iteration {after} (the JIT's warm-up)",
                                         [ours_past[r][0] for r in kept], theirs))
    if ratios or notes:
        print()
    for line in ratios + notes:
        print(line)


if __name__ == "__main__":
    main()
