"""PyTorch 1.13 references for PoolingConformance: max_pool2d and avg_pool2d (count_include_pad=True),
values and input gradients for a fixed cotangent. Run: python3 pooling_reference.py (writes pooling.safetensors)."""
import json
import struct

import torch
import torch.nn.functional as F

# name: (input shape, kernel, stride, padding, ties)
CASES = {
    "k2s2": ((2, 3, 6, 6), 2, 2, 0, False),
    "k3s2p1": ((2, 2, 7, 7), 3, 2, 1, False),
    "k3s1": ((1, 2, 5, 6), 3, 1, 0, False),
    "odd": ((1, 3, 7, 5), 2, 2, 0, False),
    "oddpad": ((3, 1, 5, 4), 3, 2, 1, False),
    "ties": ((2, 2, 5, 5), 3, 1, 1, True),
}

def main():
    torch.manual_seed(16)
    tensors = {}
    for name, (shape, kernel, stride, padding, ties) in CASES.items():
        if ties:
            x = torch.randint(0, 3, shape).float()  # few distinct values: most windows hold a tie
        else:
            x = torch.randn(shape)
        tensors[name + ".x"] = x
        for op, fn in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
            leaf = x.clone().requires_grad_(True)
            y = fn(leaf, kernel, stride, padding)
            u = torch.randn(y.shape)
            y.backward(u)
            tensors[name + "." + op + ".u"] = u
            tensors[name + "." + op + ".y"] = y.detach()
            tensors[name + "." + op + ".dx"] = leaf.grad
    write("pooling.safetensors", tensors)

def write(path, tensors):
    header, data, at = {}, b"", 0
    for name, t in tensors.items():
        raw = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        data += raw
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

if __name__ == "__main__":
    main()
