"""PyTorch 1.13 references for StructureConformance: permute, transpose, narrow, split, cat,
stack, index_select and masked_fill, values and input gradients for a fixed cotangent.
Run: /usr/bin/python3 structure_reference.py (writes structure.safetensors)."""
import json
import struct

import torch


def main():
    torch.manual_seed(17)
    tensors = {}

    def case(name, inputs, fn):
        """Stores the inputs, the output, a random cotangent and each input's gradient."""
        leaves = [t.clone().requires_grad_(True) for t in inputs]
        y = fn(*leaves)
        u = torch.randn(y.shape)
        y.backward(u)
        for i, t in enumerate(inputs):
            tensors[f"{name}.x{i}"] = t
            tensors[f"{name}.dx{i}"] = leaves[i].grad
        tensors[f"{name}.y"] = y.detach()
        tensors[f"{name}.u"] = u

    case("permute", [torch.randn(2, 3, 4)], lambda x: x.permute(2, 0, 1))
    case("permute_negative", [torch.randn(2, 3, 4, 2)], lambda x: x.permute(-1, 1, -4, 2))
    case("transpose", [torch.randn(2, 3, 4)], lambda x: x.transpose(0, 2))
    case("transpose_negative", [torch.randn(2, 3, 4)], lambda x: x.transpose(-3, -2))
    case("narrow", [torch.randn(3, 4, 5)], lambda x: x.narrow(1, 1, 2))
    case("narrow_negative", [torch.randn(3, 4, 5)], lambda x: x.narrow(-1, 2, 3))
    # split(2, -1) of [3, 5]: pieces of 2, 2 and 1, scaled by 1, 2, 3 and joined again
    case("split", [torch.randn(3, 5)], lambda x: torch.cat([p * (i + 1) for i, p in enumerate(x.split(2, -1))], 1))
    case("cat", [torch.randn(2, 3), torch.randn(2, 1), torch.randn(2, 4)], lambda a, b, c: torch.cat([a, b, c], 1))
    case("cat_negative", [torch.randn(1, 3, 2), torch.randn(2, 3, 2)], lambda a, b: torch.cat([a, b], -3))
    case("stack", [torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)], lambda a, b, c: torch.stack([a, b, c], 1))
    case("stack_negative", [torch.randn(2, 3), torch.randn(2, 3)], lambda a, b: torch.stack([a, b], -1))
    case("index_select", [torch.randn(4, 3)], lambda x: x.index_select(0, torch.tensor([2, 0, 2, 1, 2])))
    case("index_select_negative", [torch.randn(2, 3, 2)], lambda x: x.index_select(-2, torch.tensor([1, 1, 0])))
    mask = torch.tensor([[1.0], [0.0], [1.0]])
    tensors["masked_fill.mask"] = mask
    case("masked_fill", [torch.randn(2, 3, 4)], lambda x: x.masked_fill(mask.bool(), -1.5))
    causal = torch.triu(torch.ones(4, 4), diagonal=1)
    tensors["masked_fill_inf.mask"] = causal
    case("masked_fill_inf", [torch.randn(2, 4, 4)], lambda x: x.masked_fill(causal.bool(), float("-inf")).softmax(-1))
    write("structure.safetensors", tensors)


def write(path, tensors):
    header, data, at = {}, b"", 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        data += raw
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
