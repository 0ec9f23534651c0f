"""Reference values for BatchNormConformance, from PyTorch 1.13 (Debian python3-torch).

Run from this directory with /usr/bin/python3 batchnorm_reference.py; writes
batchnorm_reference.safetensors. Each case stores its inputs, the cotangent u, the output,
the gradients of <u, output> and the running statistics after the call.
"""
import json
import struct

import torch
import torch.nn.functional as F

torch.manual_seed(16)
tensors = {}


def case(name, shape, training, affine, momentum, eps):
    channels = shape[1]
    x = (torch.randn(shape) * 2 + 0.5).requires_grad_(True)
    mean = torch.randn(channels) * 0.3
    var = torch.rand(channels) + 0.5
    weight = (torch.randn(channels)).requires_grad_(True) if affine else None
    bias = (torch.randn(channels)).requires_grad_(True) if affine else None
    tensors[name + ".x"] = x.detach().clone()
    tensors[name + ".running_mean"] = mean.clone()
    tensors[name + ".running_var"] = var.clone()
    if affine:
        tensors[name + ".weight"] = weight.detach().clone()
        tensors[name + ".bias"] = bias.detach().clone()
    y = F.batch_norm(x, mean, var, weight, bias, training=training, momentum=momentum, eps=eps)
    u = torch.randn(shape)
    (y * u).sum().backward()
    tensors[name + ".u"] = u
    tensors[name + ".y"] = y.detach()
    tensors[name + ".grad_x"] = x.grad
    if affine:
        tensors[name + ".grad_weight"] = weight.grad
        tensors[name + ".grad_bias"] = bias.grad
    tensors[name + ".new_running_mean"] = mean
    tensors[name + ".new_running_var"] = var


case("train4d", (2, 3, 4, 5), True, True, 0.1, 1e-5)
case("eval4d", (2, 3, 4, 5), False, True, 0.1, 1e-5)
case("train2d", (5, 3), True, False, 0.3, 1e-3)
case("eval2d", (4, 2), False, False, 0.1, 1e-5)
case("batch1", (1, 2, 3, 3), True, True, 0.5, 1e-5)

# The module: two training calls, then one in evaluation, then its state dict.
module = torch.nn.BatchNorm2d(3)
with torch.no_grad():
    module.weight.copy_(torch.randn(3))
    module.bias.copy_(torch.randn(3))
tensors["module.weight"] = module.weight.detach().clone()
tensors["module.bias"] = module.bias.detach().clone()
for step in range(2):
    x = torch.randn(4, 3, 2, 3) * 1.5 - 0.2
    tensors["module.x%d" % step] = x
    module(x)
module.eval()
x = torch.randn(2, 3, 2, 3)
tensors["module.eval_x"] = x
tensors["module.eval_y"] = module(x).detach()
for key, value in module.state_dict().items():
    tensors["module.state." + key] = value.detach().float()

header = {}
data = b""
for key, value in tensors.items():
    raw = value.detach().contiguous().float().numpy().astype("<f4").tobytes()
    header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
encoded = json.dumps(header).encode()
with open("batchnorm_reference.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(encoded)) + encoded + data)
