"""Parity check: loads our GPT's weights (written by bench/torch/parity.ts) into the PyTorch
reference and compares the logits, so the reference is known to be the same function.

Run by parity.ts: python3 bench/torch/parity.py FILE  (prints one JSON line)
"""

import json
import re
import sys

import torch

from gpt_reference import GPT


def torch_name(name):
    """'h0.attn.wq' -> 'blocks.0.wq', 'h1.ln2.g' -> 'blocks.1.ln2_g', 'ln_f.g' -> 'ln_f_g'."""
    m = re.fullmatch(r"h(\d+)\.(ln1|ln2|attn|mlp)\.(\w+)", name)
    if m:
        layer, group, leaf = m.groups()
        return f"blocks.{layer}.{group}_{leaf}" if group.startswith("ln") else f"blocks.{layer}.{leaf}"
    return name.replace(".", "_")


def main(path):
    with open(path) as f:
        dump = json.load(f)
    model = GPT(dump["config"])
    state = model.state_dict()
    if len(state) != len(dump["params"]):
        raise SystemExit(f"{len(state)} torch parameters, {len(dump['params'])} ours")
    with torch.no_grad():
        for name, p in dump["params"].items():
            state[torch_name(name)].copy_(torch.tensor(p["data"]).reshape(p["shape"]))
    ids = torch.tensor(dump["ids"])
    with torch.no_grad():
        logits, _ = model(ids)
    ours = torch.tensor(dump["logits"]).reshape(logits.shape)
    diff = (logits - ours).abs().max().item()
    print(json.dumps({"max_abs_logit_diff": diff, "logit_scale": ours.abs().max().item()}))


if __name__ == "__main__":
    main(sys.argv[1])
