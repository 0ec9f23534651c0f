"""Reference values for NormalizationConformance (gelu and layerNorm), from PyTorch 1.13
(Debian python3-torch).

Run from this directory with /usr/bin/python3 normalization_reference.py; writes
normalization_reference.safetensors. Everything is computed in float64 from float32 inputs
and stored as float32, so the references are the exact functions rounded once.

gelu: inputs from −14 to 14 (the tails included) with their first and second derivatives,
from erfc (see below: PyTorch's own gelu cancels in the negative tail, in float32 below
about −5 and in float64 below about −8).
layerNorm cases: the input x, weight and bias where the case has them, the cotangent u, the
output y and the gradients of <u, y>.
"""
import json
import struct

import torch
import torch.nn.functional as F

torch.manual_seed(17)
tensors = {}

# gelu on a range with the tails, and the two derivatives. F.gelu is 0.5·x·(1 + erf(x/√2)),
# which cancels even in float64 below about −8 (1 + erf rounds to 0), so the values are
# x·Φ(x) with Φ(x) = erfc(−x/√2)/2, and the derivatives Φ(x) + x·φ(x) and φ(x)·(2 − x²);
# where F.gelu and its autograd derivatives do not cancel they must agree with these.
x = torch.cat([torch.linspace(-14, 14, 113), torch.tensor([-20.0, -9.5, -6.25, -0.75179, -1e-3, 0.0, 1e-3, 20.0])])
x = x.float()
xd = x.double()
cdf = 0.5 * torch.special.erfc(-xd / 2 ** 0.5)
density = torch.exp(-0.5 * xd * xd) / (2 * torch.pi) ** 0.5
y = xd * cdf
first = cdf + xd * density
second = density * (2 - xd * xd)
check = xd.clone().requires_grad_(True)
torch_y = F.gelu(check)
(torch_first,) = torch.autograd.grad(torch_y.sum(), check, create_graph=True)
(torch_second,) = torch.autograd.grad(torch_first.sum(), check)
safe = xd > -5
assert torch.allclose(torch_y[safe].detach(), y[safe], rtol=1e-9, atol=1e-12)
assert torch.allclose(torch_first[safe].detach(), first[safe], rtol=1e-9, atol=1e-12)
assert torch.allclose(torch_second[safe], second[safe], rtol=1e-9, atol=1e-12)
tensors["gelu.x"] = x
tensors["gelu.y"] = y
tensors["gelu.grad"] = first
tensors["gelu.grad2"] = second


def case(name, shape, axes, weight, bias, eps, scale=1.0, shift=0.0):
    x = (torch.randn(shape) * scale + shift).float()
    normalized = tuple(shape[len(shape) - axes:])
    w = (torch.randn(normalized) * 0.5 + 1).float() if weight else None
    b = torch.randn(normalized).float() if bias else None
    u = torch.randn(shape).float()
    tensors[name + ".x"] = x
    tensors[name + ".u"] = u
    xd = x.double().requires_grad_(True)
    wd = w.double().requires_grad_(True) if weight else None
    bd = b.double().requires_grad_(True) if bias else None
    if weight:
        tensors[name + ".weight"] = w
    if bias:
        tensors[name + ".bias"] = b
    y = F.layer_norm(xd, normalized, wd, bd, eps)
    (y * u.double()).sum().backward()
    tensors[name + ".y"] = y.detach()
    tensors[name + ".grad_x"] = xd.grad
    if weight:
        tensors[name + ".grad_weight"] = wd.grad
    if bias:
        tensors[name + ".grad_bias"] = bd.grad


case("last", (4, 7), 1, True, True, 1e-5)
case("several", (3, 5, 6), 2, True, True, 1e-5)
case("plain", (2, 3, 9), 1, False, False, 1e-5)
case("weightOnly", (6, 5), 1, True, False, 1e-3)
case("biasOnly", (2, 2, 3, 5), 3, False, True, 1e-5)
case("all", (3, 4), 2, True, True, 1e-5)
case("wide", (13, 131), 1, True, True, 1e-5)
case("shifted", (5, 33), 1, True, True, 1e-5, scale=3.0, shift=50.0)
case("constantRows", (3, 8), 1, True, True, 1e-2, scale=0.0, shift=2.0)

# The module: PyTorch's parameter names, order and initial values.
module = torch.nn.LayerNorm((5, 6))
for key, value in module.state_dict().items():
    tensors["module.state." + key] = value.detach().float()

header = {}
data = b""
for key, value in tensors.items():
    raw = value.detach().contiguous().float().numpy().astype("<f4").tobytes()
    header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
encoded = json.dumps(header).encode()
with open("normalization_reference.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(encoded)) + encoded + data)
