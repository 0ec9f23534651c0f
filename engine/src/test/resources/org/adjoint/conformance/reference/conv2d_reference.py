"""PyTorch references for Functional.conv2d: values and gradients (ConvolutionConformance).

Run from this directory with PyTorch 1.13 (Debian python3-torch): /usr/bin/python3 conv2d_reference.py
Writes conv2d_reference.safetensors. Inputs are drawn in float32; the references are computed in
float64 from exactly those values and stored as float32. For each case NAME the file holds
NAME.input, NAME.weight, NAME.bias (when the case has one), NAME.cotangent (u), NAME.output
and the gradients of sum(output * u): NAME.grad_input, NAME.grad_weight, NAME.grad_bias.
Each case's attributes are in the metadata, NAME -> "stride,padding,dilation,groups".
"""
import json
import struct

import torch
import torch.nn.functional as F

# name: (N, C, H, W), (O, kH, kW), stride, padding, dilation, groups, bias
CASES = {
    "stride2": ((2, 3, 7, 6), (4, 3, 3), 2, 1, 1, 1, True),
    "padding2": ((1, 2, 5, 6), (3, 3, 2), 1, 2, 1, 1, True),
    "dilation2": ((2, 2, 7, 7), (2, 3, 3), 1, 1, 2, 1, False),
    "groups2": ((2, 4, 6, 5), (6, 3, 3), 1, 1, 1, 2, True),
    "depthwise": ((2, 3, 5, 5), (3, 3, 3), 1, 1, 1, 3, True),
    "depthwise_multiplier2": ((1, 3, 6, 4), (6, 2, 3), 2, 1, 1, 3, False),
    "odd_batch1": ((1, 3, 7, 5), (2, 3, 2), 2, 1, 1, 1, True),
    "pointwise": ((2, 3, 4, 5), (4, 1, 1), 1, 0, 1, 1, True),
    "pointwise_groups3": ((2, 6, 3, 5), (3, 1, 1), 1, 0, 1, 3, False),
    "pointwise_stride2_padding1": ((1, 3, 5, 4), (2, 1, 1), 2, 1, 1, 1, True),
    "mixed": ((3, 4, 9, 8), (4, 2, 3), 2, 2, 2, 2, True),
    # Groups of at least 4 channels in and out, which the CPU backend convolves as implicit GEMMs
    # (its stride-1 input gradient as a convolution with the flipped weight).
    "implicit_same": ((2, 5, 8, 7), (6, 3, 3), 1, 1, 1, 1, True),
    "implicit_groups_dilation": ((2, 8, 9, 8), (8, 3, 2), 1, 2, 2, 2, False),
    "implicit_padding_past_span": ((2, 5, 5, 6), (5, 2, 2), 1, 3, 1, 1, True),
    "implicit_stride2": ((2, 6, 9, 9), (8, 3, 3), 2, 1, 1, 1, False),
}


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def main():
    torch.manual_seed(16)
    tensors = {}
    metadata = {}
    for name, (shape, (o, kh, kw), stride, padding, dilation, groups, has_bias) in CASES.items():
        n, c, h, w = shape
        x = torch.randn(shape).double().requires_grad_()
        weight = (torch.randn(o, c // groups, kh, kw) * 0.5).double().requires_grad_()
        bias = torch.randn(o).double().requires_grad_() if has_bias else None
        y = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
        u = torch.randn(y.shape).double()
        (y * u).sum().backward()
        tensors[name + ".input"] = x
        tensors[name + ".weight"] = weight
        if has_bias:
            tensors[name + ".bias"] = bias
        tensors[name + ".cotangent"] = u
        tensors[name + ".output"] = y
        tensors[name + ".grad_input"] = x.grad
        tensors[name + ".grad_weight"] = weight.grad
        if has_bias:
            tensors[name + ".grad_bias"] = bias.grad
        metadata[name] = f"{stride},{padding},{dilation},{groups}"
    write_safetensors("conv2d_reference.safetensors", tensors, metadata)


if __name__ == "__main__":
    main()
