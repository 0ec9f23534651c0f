"""Reference values for GptConformance, from PyTorch 1.13 (Debian python3-torch).

Run from this directory with /usr/bin/python3 gpt_reference.py; writes gpt_reference.safetensors.
The model is bench/peers/gpt.py's GPT (the PyTorch twin of `adjoint lm`) in a tiny
configuration: vocabulary 11, context 8, width 16, 2 layers, 4 heads, no dropout. Stored:
every parameter under PyTorch's names and shapes (linear weights [out, in]; the tied head is
transformer.wte.weight), the ids and targets of a batch of 3 sequences of 6 tokens (shorter
than the context), the mean cross-entropy, the logits, the gradient of the loss for every
parameter ("grad." + name), and for the tied token embedding its two parts: the gradient
through the lookup alone and through the head alone (computed on an untied copy).
"""
import copy
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 8, "bench", "peers"))
from gpt import GPT  # noqa: E402

torch.manual_seed(17)
VOCABULARY, CONTEXT, WIDTH, LAYERS, HEADS = 11, 8, 16, 2, 4
BATCH, TIME = 3, 6
model = GPT(VOCABULARY, CONTEXT, WIDTH, LAYERS, HEADS)
with torch.no_grad():
    # Random biases and norm parameters, so that each one's gradient path is exercised.
    for name, p in model.named_parameters():
        if p.dim() == 1:
            p.add_(torch.randn_like(p) * 0.1)
        else:
            p.normal_(0.0, 0.3)
tensors = {}
for name, p in model.state_dict().items():
    if name != "lm_head.weight":
        tensors[name] = p.detach().clone()
ids = torch.randint(VOCABULARY, (BATCH, TIME))
targets = torch.randint(VOCABULARY, (BATCH, TIME))
tensors["ids"] = ids.float()
tensors["targets"] = targets.float()
logits = model(ids)
loss = model(ids, targets)
loss.backward()
tensors["logits"] = logits.detach()
tensors["loss"] = loss.detach()
for name, p in model.named_parameters():
    tensors["grad." + name] = p.grad.detach().clone()

# The two uses of the tied embedding, apart: an untied copy whose head has its own weight.
untied = copy.deepcopy(model)
untied.lm_head.weight = torch.nn.Parameter(model.transformer.wte.weight.detach().clone())
untied.zero_grad()
untied(ids, targets).backward()
tensors["grad.wte.lookup"] = untied.transformer.wte.weight.grad.detach().clone()
tensors["grad.wte.head"] = untied.lm_head.weight.grad.detach().clone()

header = {}
data = b""
for key, value in tensors.items():
    raw = value.detach().contiguous().float().numpy().astype("<f4").tobytes()
    header[key] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
encoded = json.dumps(header).encode()
with open("gpt_reference.safetensors", "wb") as out:
    out.write(struct.pack("<Q", len(encoded)) + encoded + data)
