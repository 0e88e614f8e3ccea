"""The GPT of server/src/model/gpt.ts in PyTorch, weight for weight, for the throughput reference.

Parameter names follow GPT.paramNames() so the counts can be compared line by line. Embedding is
an index lookup here (the tfjs model uses one-hot x table only because tf.gather has no gradient
on wasm); the arithmetic is the same.
"""

import math

import torch
import torch.nn.functional as F

NEG_INF = -1e9


class GPT(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        V, C, L, FF = cfg["vocabSize"], cfg["dModel"], cfg["nLayers"], cfg["dFF"]
        resid_std = 0.02 / math.sqrt(2 * L)

        def normal(*shape, std=0.02):
            return torch.nn.Parameter(torch.randn(*shape) * std)

        def ones(n):
            return torch.nn.Parameter(torch.ones(n))

        def zeros(n):
            return torch.nn.Parameter(torch.zeros(n))

        self.tok_emb = normal(V, C)
        self.blocks = torch.nn.ModuleList()
        for _ in range(L):
            b = torch.nn.Module()
            b.ln1_g, b.ln1_b = ones(C), zeros(C)
            b.wq, b.wk, b.wv = normal(C, C), normal(C, C), normal(C, C)
            b.wo = normal(C, C, std=resid_std)
            b.ln2_g, b.ln2_b = ones(C), zeros(C)
            b.w1, b.b1 = normal(C, FF), zeros(FF)
            b.w2, b.b2 = normal(FF, C, std=resid_std), zeros(C)
            self.blocks.append(b)
        self.ln_f_g, self.ln_f_b = ones(C), zeros(C)
        self.head = normal(C, V)

    def rope(self, start, length):
        hs = self.cfg["dModel"] // self.cfg["nHeads"]
        i = torch.arange(hs // 2, dtype=torch.float32)
        inv = 1.0 / torch.pow(float(self.cfg["ropeBase"]), 2 * i / hs)
        angle = torch.arange(start, start + length, dtype=torch.float32)[:, None] * inv[None, :]
        return torch.cos(angle), torch.sin(angle)

    def forward(self, ids, start_pos=0, cache=None, key_mask=None):
        """ids (B, T) -> logits (B, T, V) and the per-layer (k, v) cache."""
        cfg = self.cfg
        B, T = ids.shape
        C, H = cfg["dModel"], cfg["nHeads"]
        hs = C // H
        past = cache[0][0].shape[2] if cache else 0
        Tk = past + T
        bias = torch.triu(torch.full((T, Tk), NEG_INF), diagonal=past + 1)[None, None]
        if key_mask is not None:
            bias = bias + ((1 - key_mask) * NEG_INF)[:, None, None, :]
        cos, sin = self.rope(start_pos, T)

        def heads(t):
            return t.view(B, T, H, hs).transpose(1, 2)

        def rot(x):
            x1, x2 = x[..., : hs // 2], x[..., hs // 2 :]
            return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)

        x = self.tok_emb[ids]
        new_cache = []
        for l, b in enumerate(self.blocks):
            h = F.layer_norm(x, (C,), b.ln1_g, b.ln1_b, 1e-5)
            q, k, v = rot(heads(h @ b.wq)), rot(heads(h @ b.wk)), heads(h @ b.wv)
            if cache:
                k = torch.cat([cache[l][0], k], 2)
                v = torch.cat([cache[l][1], v], 2)
            new_cache.append((k, v))
            att = torch.softmax((q @ k.transpose(-2, -1)) * (1 / math.sqrt(hs)) + bias, dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ b.wo
            h2 = F.layer_norm(x, (C,), b.ln2_g, b.ln2_b, 1e-5)
            x = x + F.gelu(h2 @ b.w1 + b.b1, approximate="tanh") @ b.w2 + b.b2
        hidden = F.layer_norm(x, (C,), self.ln_f_g, self.ln_f_b, 1e-5)
        return hidden @ self.head, new_cache


def adamw_for(model, lr):
    """AdamW as server/src/train/optimizer.ts: decoupled decay only on matrices (rank >= 2)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8)


def train_step(model, opt, inputs, targets, max_grad_norm=1.0):
    """One step of trainStep (lmStep.ts): mean NLL, global-norm clip, AdamW."""
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    opt.step()
    return loss.item()


@torch.no_grad()
def generate(model, prompts, new_tokens):
    """Batched KV-cache sampling as sampling.ts: prefill, then one token per step (temperature 1)."""
    B, P = prompts.shape
    mask = torch.ones(B, P)
    logits, cache = model(prompts, 0, None, mask)
    out = []
    for t in range(new_tokens):
        probs = torch.softmax(logits[:, -1, :], dim=-1)
        nxt = torch.multinomial(probs, 1)
        out.append(nxt)
        if t == new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones(B, 1)], 1)
        logits, cache = model(nxt, P + t, cache, mask)
    return torch.cat(out, 1)
