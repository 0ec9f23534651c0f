#!/usr/bin/env python3
"""Where the PyTorch peer's GPT iteration spends its time: gpt.py's model, optimizer and step
(the default configuration unless told otherwise), warmed up, then timed, then one profiled
stretch of iterations with torch.profiler on the CPU; prints the mean time of an iteration and
the operators' table sorted by their own time. Works with PyTorch 1.13 and 2.x. Restrict the
instruction set as bench/lm-compare.sh --isa avx2 does with ATEN_CPU_CAPABILITY=avx2
MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2.

Usage: gpt_profile.py [--warmup 300] [--iters 100] [--rows 30] [--threads N]
"""

import argparse
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpt  # noqa: E402  (the peer script beside this one)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    chars, train, _ = gpt.load_text(gpt.DEFAULT_DATA)
    model = gpt.GPT(len(chars), 64, 128, 4, 4, 0.0, 0.0)
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.1}, {"params": plain, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    generator = torch.Generator().manual_seed(42)
    device = torch.device("cpu")

    def step():
        x, y = gpt.windows(train, 12, 64, generator, device)
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    ms = 1000 * (time.perf_counter() - start) / max(args.iters, 1)
    print(f"pytorch {torch.__version__}, {torch.get_num_threads()} threads: {ms:.1f} ms/iteration after "
          f"{args.warmup} warm-up iterations (mean of {args.iters})")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.iters):
            step()
    print(f"profiled {args.iters} iterations (divide the totals by {args.iters} for one):")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
