#!/usr/bin/env python3
"""PyTorch's twin of the JMH ConvBench: F.conv2d forward (no grad), and forward plus backward
from the sum of the output (gradients of input, weight and bias), 3x3, stride 1, padding 1,
at the shapes named N x C x H x W - O: the CNN of `adjoint train --model cnn` at batch 64 and a
ResNet block at batch 32. Warm-up, then the median of timed repetitions, in ms, on all cores.

Prints one JSON object: {"torch": version, "threads": n, "results": {shape: {"forward_ms",
"forward_backward_ms"}}}.

Usage: conv.py [--shapes S,S,...] [--repeats N]
"""

import argparse
import json
import os
import statistics
import time

SHAPES = ["64x1x28x28-32", "64x32x14x14-64", "32x64x32x32-64"]


def timed(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    results = {}
    for shape in args.shapes.split(","):
        n, c, h, w, o = (int(v) for v in shape.replace("-", "x").split("x"))
        x = torch.randn(n, c, h, w, requires_grad=True)
        weight = (torch.randn(o, c, 3, 3) * (2.0 / (c * 9)) ** 0.5).requires_grad_()
        bias = torch.zeros(o, requires_grad=True)

        def forward():
            with torch.no_grad():
                return F.conv2d(x, weight, bias, 1, 1)

        def forward_backward():
            x.grad = weight.grad = bias.grad = None
            F.conv2d(x, weight, bias, 1, 1).sum().backward()

        results[shape] = {"forward_ms": timed(forward, args.repeats),
                          "forward_backward_ms": timed(forward_backward, args.repeats)}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
