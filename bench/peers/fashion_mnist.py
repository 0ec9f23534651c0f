#!/usr/bin/env python3
"""The PyTorch twin of `adjoint train --data fashion-mnist`: the same MLP (784-256-128-10,
ReLU), the same optimizer (Adam, lr 1e-3, PyTorch defaults otherwise), the same batch (64)
and epochs (10), pixels scaled to [0, 1], a fresh shuffle every epoch, and the test set
evaluated after each epoch. Times only the training steps of each epoch (batch slicing,
forward, backward, update), as Adjoint's "ms/step" does, on all cores.

Prints one JSON object: {"torch": version, "threads": n, "epochs": [{"epoch", "seconds",
"ms_per_step", "train_loss", "test_loss", "test_accuracy"}, ...]}.

Usage: fashion_mnist.py [--data-dir DIR] [--epochs N] [--batch N] [--lr F] [--seed N]
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time


def read_idx(path):
    import numpy as np
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    sys.exit(f"{stem}[.gz] not found in {directory}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(args.seed)

    def load(prefix):
        images = read_idx(find(args.data_dir, prefix + "-images-idx3-ubyte"))
        labels = read_idx(find(args.data_dir, prefix + "-labels-idx1-ubyte"))
        x = torch.from_numpy(images.reshape(len(images), -1).astype("float32") / 255.0)
        return x, torch.from_numpy(labels.astype("int64"))

    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    n = len(train_x)
    steps = (n + args.batch - 1) // args.batch
    epochs = []
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(n)
        loss_sum = 0.0
        start = time.perf_counter()
        for s in range(steps):
            index = order[s * args.batch:(s + 1) * args.batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            logits = model(test_x)
            test_loss = F.cross_entropy(logits, test_y).item()
            accuracy = (logits.argmax(1) == test_y).float().mean().item()
        epochs.append({"epoch": epoch, "seconds": seconds, "ms_per_step": 1000 * seconds / steps,
                       "train_loss": loss_sum / n, "test_loss": test_loss, "test_accuracy": accuracy})
        print(f"epoch {epoch}/{args.epochs}  train loss {loss_sum / n:.4f}  test loss {test_loss:.4f}  "
              f"test accuracy {100 * accuracy:.2f}%  {1000 * seconds / steps:.3f} ms/step  {seconds:.1f} s",
              file=sys.stderr)
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": epochs}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
