#!/usr/bin/env python3
"""The PyTorch twin of `adjoint train --data fashion-mnist [--model cnn|resnet]`: the same
model (by default the MLP 784-256-128-10 with ReLU; `--model cnn` and `--model resnet` build the
networks `adjoint train` documents for those names), the same optimizer (Adam, lr 1e-3, PyTorch defaults otherwise), the same batch (64)
and epochs (10), pixels scaled to [0, 1], a fresh shuffle every epoch, and the test set
evaluated after each epoch. Times only the training steps of each epoch (batch slicing,
forward, backward, update), as Adjoint's "ms/step" does, on all cores.

Prints one JSON object: {"torch": version, "threads": n, "epochs": [{"epoch", "seconds",
"ms_per_step", "train_loss", "test_loss", "test_accuracy"}, ...]}.

Usage: fashion_mnist.py [--data-dir DIR] [--model mlp|cnn|resnet] [--epochs N] [--batch N] [--lr F] [--seed N]
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


def build(kind):
    import torch.nn as nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if kind == "cnn":
        # Two 3x3 convolutions (32 and 64 channels, padding 1), each with ReLU and 2x2 max pooling,
        # then 128 hidden units: TrainCommand.cnn.
        return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                             nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

    class Residual(nn.Module):
        """relu(x + bn2(conv2(relu(bn1(conv1(x)))))): TrainCommand.Residual."""

        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            return (x + self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))).relu()

    class Mean(nn.Module):
        def forward(self, x):
            return x.mean((2, 3))

    # A stem at 28x28, two blocks at 14x14 (32 channels), a strided convolution to 7x7 (64
    # channels), one block there, global average pooling: TrainCommand.resnet.
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                         nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         Residual(32), Residual(32),
                         nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         Residual(64), Mean(), nn.Linear(64, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--model", choices=("mlp", "cnn", "resnet"), default="mlp")
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
    model = build(args.model)
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
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(test_x[i:i + 1000]) for i in range(0, len(test_x), 1000)])
            test_loss = F.cross_entropy(logits, test_y).item()
            accuracy = (logits.argmax(1) == test_y).float().mean().item()
        model.train()
        epochs.append({"epoch": epoch, "seconds": seconds, "ms_per_step": 1000 * seconds / steps,
                       "train_loss": loss_sum / n, "test_loss": test_loss, "test_accuracy": accuracy})
        print(f"epoch {epoch}/{args.epochs}  train loss {loss_sum / n:.4f}  test loss {test_loss:.4f}  "
              f"test accuracy {100 * accuracy:.2f}%  {1000 * seconds / steps:.3f} ms/step  {seconds:.1f} s",
              file=sys.stderr)
    json.dump({"torch": torch.__version__, "model": args.model, "threads": torch.get_num_threads(), "epochs": epochs}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
