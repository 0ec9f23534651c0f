#!/usr/bin/env python3
"""The PyTorch twin of `adjoint lm`: a minimal GPT (nanoGPT's layout: token and position
embeddings, pre-norm blocks of causal self-attention and a 4x MLP with exact GELU, a final
LayerNorm, the head tied to the token embedding; biases on), trained on the same tiny
Shakespeare (first 90% of the characters for training, the last 10% held out) with the same
configuration and optimizer: AdamW (betas 0.9, 0.99; weight decay 0.1 on matrices only), the
global gradient norm clipped to 1, lr 1e-3 with 100 warm-up iterations and a cosine to lr/10,
random context windows per batch. Works with PyTorch 1.13 (attention composed of matmul,
mask and softmax) and 2.x (F.scaled_dot_product_attention).

Times the training iterations only (batch, forward, backward, clipping, update), as
`adjoint lm`'s msPerIteration does, on PyTorch's default thread count (or --threads N).
Progress goes to standard error; standard output gets one JSON object: {"torch", "threads", "device", "iterations",
"parameters", "msPerIteration", "trainLoss", "valLoss", "curve": [...]}, valLoss over every
held-out character as `adjoint lm` computes it.

Usage: gpt.py [--layers 4] [--heads 4] [--embed 128] [--context 64] [--batch 12] [--iters 2000]
              [--lr 1e-3] [--dropout 0] [--attention-dropout 0] [--seed 42] [--eval-interval 250] [--eval-batches 20]
              [--device cpu|cuda] [--threads N] [--data FILE.txt[.gz]]
"""

import argparse
import gzip
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "main", "resources", "org",
                            "adjoint", "bench", "data", "tinyshakespeare.txt.gz")


class Attention(nn.Module):
    def __init__(self, width, heads, dropout, attention_dropout=0.0):
        super().__init__()
        self.heads = heads
        self.attention_dropout = attention_dropout  # nanoGPT's attn_dropout, on the weights
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        dropping = self.attention_dropout if self.training else 0.0
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropping, is_causal=True)
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            weights = scores.masked_fill(mask, float("-inf")).softmax(-1)
            y = F.dropout(weights, dropping, self.training) @ v
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(b, t, c)))


class Mlp(nn.Module):
    def __init__(self, width, dropout):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, width, heads, dropout, attention_dropout=0.0):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads, dropout, attention_dropout)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = Mlp(width, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocabulary, context, width, layers, heads, dropout=0.0, attention_dropout=0.0):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocabulary, width),
            wpe=nn.Embedding(context, width),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([Block(width, heads, dropout, attention_dropout) for _ in range(layers)]),
            ln_f=nn.LayerNorm(width)))
        self.lm_head = nn.Linear(width, vocabulary, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
            elif p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def forward(self, ids, targets=None):
        t = ids.shape[1]
        x = self.transformer.wte(ids) + self.transformer.wpe.weight[:t]
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def rate(step, base, floor, warmup, total):
    """CosineDecay of Adjoint: linear warm-up from base/warmup, then a cosine to floor at total."""
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total:
        return floor
    progress = (step - warmup) / (total - warmup)
    return floor + (base - floor) * (1 + math.cos(math.pi * progress)) / 2


def load_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode("utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(len(ids) * 0.9)
    return chars, ids[:n], ids[n:]


def windows(part, batch, context, generator, device):
    starts = torch.randint(len(part) - context, (batch,), generator=generator)
    x = torch.stack([part[s:s + context] for s in starts.tolist()])
    y = torch.stack([part[s + 1:s + context + 1] for s in starts.tolist()])
    return x.to(device), y.to(device)


@torch.no_grad()
def held_out_loss(model, part, context, device):
    model.eval()
    n = (len(part) - 1) // context
    total, count = 0.0, 0
    per_batch = max(1, 65536 // context)
    for first in range(0, n, per_batch):
        m = min(per_batch, n - first)
        x = part[first * context:(first + m) * context].view(m, context).to(device)
        y = part[first * context + 1:(first + m) * context + 1].view(m, context).to(device)
        total += model(x, y).item() * m * context
        count += m * context
    rest = len(part) - 1 - n * context
    if rest > 0:
        x = part[n * context:n * context + rest].view(1, rest).to(device)
        y = part[n * context + 1:].view(1, rest).to(device)
        total += model(x, y).item() * rest
        count += rest
    model.train()
    return total / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--grad-clip", type=float, default=1.0)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--attention-dropout", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--eval-interval", type=int, default=250)
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args()
    # PyTorch's own thread count unless told otherwise: Debian's PyTorch 1.13 starts with one
    # intra-op thread, and on the 2-core EPYC of 2026-12-02 two made its iteration 2.5x slower
    # (170 against 67 ms), so its default is the fair peer here.
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    chars, train, val = load_text(args.data)
    model = GPT(len(chars), args.context, args.embed, args.layers, args.heads, args.dropout,
                args.attention_dropout).to(device)
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": args.weight_decay},
                                   {"params": plain, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99), eps=1e-8)
    warmup = min(args.warmup, max(args.iters - 1, 0))
    generator = torch.Generator().manual_seed(args.seed)
    curve, train_seconds, interval_seconds, interval_steps = [], 0.0, 0.0, 0
    parameters = sum(p.numel() for p in model.parameters())
    print(f"pytorch {torch.__version__} ({torch.get_num_threads()} threads, {device}): GPT {args.layers} layers, "
          f"{args.heads} heads, width {args.embed}, context {args.context}, {parameters:,} parameters", file=sys.stderr)
    for step in range(args.iters):
        start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = rate(step, args.lr, args.lr / 10, warmup, args.iters)
        x, y = windows(train, args.batch, args.context, generator, device)
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        loss.item()  # waits for the device
        seconds = time.perf_counter() - start
        train_seconds += seconds
        interval_seconds += seconds
        interval_steps += 1
        if (step + 1) % args.eval_interval == 0 or step + 1 == args.iters:
            model.eval()
            losses = []
            with torch.no_grad():
                eval_generator = torch.Generator().manual_seed(args.seed * 31 + step + 1)
                for part in (train, val):
                    losses.append(sum(model(*windows(part, args.batch, args.context, eval_generator, device)).item()
                                      for _ in range(args.eval_batches)) / args.eval_batches)
            model.train()
            ms = 1000 * interval_seconds / interval_steps
            curve.append({"iteration": step + 1, "trainLoss": losses[0], "valLoss": losses[1], "msPerIteration": ms})
            print(f"iteration {step + 1}/{args.iters}  train loss {losses[0]:.4f}  val loss {losses[1]:.4f}  "
                  f"{ms:.1f} ms/iteration", file=sys.stderr)
            interval_seconds, interval_steps = 0.0, 0
    val_loss = held_out_loss(model, val, args.context, device)
    print(f"validation loss {val_loss:.4f} over all {len(val):,} held-out characters", file=sys.stderr)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
                      "iterations": args.iters, "parameters": parameters,
                      "msPerIteration": 1000 * train_seconds / max(args.iters, 1),
                      "trainLoss": curve[-1]["trainLoss"] if curve else None, "valLoss": val_loss, "curve": curve}))


if __name__ == "__main__":
    main()
