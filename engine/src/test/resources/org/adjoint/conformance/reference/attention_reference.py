"""Reference values for AttentionConformance, from PyTorch 1.13 (Debian python3-torch).

PyTorch 1.13 has no F.scaled_dot_product_attention, so the formula is written out here and
evaluated in float64: softmax(q·kᵀ/√d + mask)·v, the mask −∞ where key j > query i when
causal (PyTorch 2's is_causal, aligned at the top left). Run from this directory with
/usr/bin/python3 attention_reference.py; writes attention_reference.safetensors. Each case
stores q, k, v, the cotangent u, the output y and the gradients of <u, y>.
"""
import json
import math
import struct

import torch

torch.manual_seed(17)
tensors = {}


def attention(q, k, v, causal):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        t, s = scores.shape[-2], scores.shape[-1]
        mask = torch.ones(t, s, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def case(name, q_shape, k_shape, v_shape, causal):
    q = torch.randn(q_shape, dtype=torch.float64).float().double().requires_grad_(True)
    k = torch.randn(k_shape, dtype=torch.float64).float().double().requires_grad_(True)
    v = torch.randn(v_shape, dtype=torch.float64).float().double().requires_grad_(True)
    y = attention(q, k, v, causal)
    u = torch.randn(y.shape, dtype=torch.float64).float().double()
    (y * u).sum().backward()
    for key, value in (("q", q), ("k", k), ("v", v), ("u", u), ("y", y),
                       ("grad_q", q.grad), ("grad_k", k.grad), ("grad_v", v.grad)):
        tensors[name + "." + key] = value.detach()


case("heads", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), False)
case("heads_causal", (2, 2, 6, 3), (2, 2, 6, 3), (2, 2, 6, 3), True)
case("cross", (3, 4, 5), (3, 7, 5), (3, 7, 3), False)
case("cross_causal_wide", (2, 4, 5), (2, 7, 5), (2, 7, 3), True)
case("cross_causal_tall", (2, 6, 3), (2, 3, 3), (2, 3, 2), True)
case("broadcast", (2, 3, 4, 8), (3, 5, 8), (2, 1, 5, 2), False)
case("one_query", (4, 1, 6), (4, 9, 6), (4, 9, 6), True)
case("rank2_long", (33, 7), (40, 7), (40, 5), True)

header = {}
data = b""
for key, value in tensors.items():
    raw = value.detach().contiguous().float().numpy().astype("<f4").tobytes()
    header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
encoded = json.dumps(header).encode()
with open("attention_reference.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(encoded)) + encoded + data)
