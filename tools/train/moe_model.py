"""The sample models' training-time network: architecture `emo` (emo-reference.md §1) in batched PyTorch.

Pre-norm RMSNorm, no QK-norm, NeoX RoPE restarting at every document, causal attention masked
at document boundaries, SwiGLU experts with the shared expert last (weight 1.0), separate lm_head.
Two routers:
  - "emo": EMO's document-level expert pool (emo-reference.md §3): per document and layer, sum the
    standard-expert softmax over the document's tokens, draw a pool size P in [pool_min, pool_max],
    mask every expert outside the top-P to -inf, softmax again, top-(k-1) inside the pool;
  - "std": plain top-(k-1) over the standard experts.
Both add the same global (whole-batch) load-balancing loss and router z-loss. Its scores are those
of the routed softmax (lb_scores "pool", EMO's own recipe: an expert outside a document's pool
scores 0 there) or, for the emo router, the softmax over all standard experts before the pool mask
(lb_scores "all": an expert left out of every pool still feels the balancing pull).
At inference (moescope, HF) both are plain top-k: the pool exists only in training (§3.9).

Shape legend: B sequences, T tokens per sequence, N = B*T, D hidden, V vocab, E experts (last one
shared), Es = E - 1 standard, Kr routed per token, I expert width, H heads, Dh head dim, G documents.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelSpec:
    vocab: int = 8192
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    experts: int = 32          # including the one shared expert (the last)
    top_k: int = 4             # including the shared expert
    expert_width: int = 96
    context: int = 1024
    rope_theta: float = 10000.0
    eps: float = 1e-6
    eos: int = 8191

    @property
    def head_dim(self):
        return self.hidden // self.heads


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class Attention(nn.Module):
    def __init__(self, s: ModelSpec):
        super().__init__()
        self.s = s
        d = s.hidden
        self.q_proj, self.k_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.v_proj, self.o_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin, mask):
        # x [B, T, D]; cos/sin [B, 1, T, Dh]; mask [B, 1, T, T] (True = may attend)
        B, T, _ = x.shape
        H, Dh = self.s.heads, self.s.head_dim
        q = self.q_proj(x).view(B, T, H, Dh).transpose(1, 2)   # [B, H, T, Dh]
        k = self.k_proj(x).view(B, T, H, Dh).transpose(1, 2)
        v = self.v_proj(x).view(B, T, H, Dh).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [B, H, T, Dh]
        return self.o_proj(ctx.transpose(1, 2).reshape(B, T, H * Dh))


class MoE(nn.Module):
    def __init__(self, s: ModelSpec, router: str, pool_min: int, pool_max: int, lb_scores: str = "pool"):
        super().__init__()
        self.s, self.router, self.pool_min, self.pool_max = s, router, pool_min, pool_max
        self.lb_scores = lb_scores
        E, I, D = s.experts, s.expert_width, s.hidden
        self.gate = nn.Linear(D, E, bias=False)                    # router [E, D]
        self.gate_proj = nn.Parameter(torch.empty(E, I, D))
        self.up_proj = nn.Parameter(torch.empty(E, I, D))
        self.down_proj = nn.Parameter(torch.empty(E, D, I))

    def expert(self, e, x):
        return (F.silu(x @ self.gate_proj[e].T) * (x @ self.up_proj[e].T)) @ self.down_proj[e].T

    def forward(self, u, doc, num_docs, generator):
        # u [N, D]; doc [N] document index of each token. Returns y [N, D], lb loss, z loss.
        N, D = u.shape
        Es, Kr = self.s.experts - 1, self.s.top_k - 1
        z = self.gate(u)[:, :Es].float()                          # [N, Es] standard logits
        z_all = z
        if self.router == "emo" and self.training:
            with torch.no_grad():
                score = torch.zeros(num_docs, Es).index_add_(0, doc, torch.softmax(z, -1))   # [G, Es]
                pool = torch.randint(self.pool_min, self.pool_max + 1, (num_docs,), generator=generator)
                rank = score.argsort(-1, descending=True).argsort(-1)                          # [G, Es]
                outside = rank >= pool[:, None]
            z = z.masked_fill(outside[doc], float("-inf"))
        p = torch.softmax(z, -1)                                   # [N, Es]
        w, ids = p.topk(Kr, -1)                                    # [N, Kr]
        # Global load balancing over the whole batch, and the router z-loss.
        count = torch.zeros(Es).index_add_(0, ids.reshape(-1), torch.ones(N * Kr))
        scores = torch.softmax(z_all, -1) if self.lb_scores == "all" else p
        lb = (Es / Kr) * (count * scores.mean(0)).sum() / N
        zl = torch.logsumexp(z, -1).pow(2).mean()
        y = self.expert(Es, u)                                      # shared expert, weight 1.0
        flat_ids, order = ids.reshape(-1).sort()
        tok = order // Kr
        wt = w.reshape(-1)[order].to(u.dtype)
        bounds = torch.searchsorted(flat_ids, torch.arange(Es + 1))
        for e in range(Es):
            a, b = int(bounds[e]), int(bounds[e + 1])
            if a == b:
                continue
            t = tok[a:b]
            y = y.index_add(0, t, self.expert(e, u[t]) * wt[a:b, None])
        return y, lb, zl


class Block(nn.Module):
    def __init__(self, s, router, pool_min, pool_max, lb_scores="pool"):
        super().__init__()
        self.pre_attention_layernorm = RMSNorm(s.hidden, s.eps)
        self.self_attn = Attention(s)
        self.pre_feedforward_layernorm = RMSNorm(s.hidden, s.eps)
        self.mlp = MoE(s, router, pool_min, pool_max, lb_scores)


class MoEModel(nn.Module):
    def __init__(self, s: ModelSpec, router: str, pool_min: int = 4, pool_max: int = 31, lb_scores: str = "pool"):
        super().__init__()
        self.s = s
        self.embed_tokens = nn.Embedding(s.vocab, s.hidden)
        self.layers = nn.ModuleList(Block(s, router, pool_min, pool_max, lb_scores) for _ in range(s.layers))
        self.norm = RMSNorm(s.hidden, s.eps)
        self.lm_head = nn.Linear(s.hidden, s.vocab, bias=False)
        inv = 1.0 / (s.rope_theta ** (torch.arange(0, s.head_dim, 2).float() / s.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def init_weights(self, generator):
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "norm.weight":
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, 0.0, 0.02, generator=generator)

    def set_pool_min(self, pool_min: int):
        """The lower bound of EMO's pool-size draw, for a warm-up schedule (train.py --pool-warmup)."""
        for layer in self.layers:
            layer.mlp.pool_min = pool_min

    def segments(self, ids):
        """Documents in each row: a document ends with its EOS token (included), the next starts after it.
        Returns doc [B, T] (global document index), pos [B, T] (position inside the document), G."""
        B, T = ids.shape
        ends = (ids == self.s.eos).long()
        starts = torch.zeros_like(ends)
        starts[:, 1:] = ends[:, :-1]
        local = starts.cumsum(1)                                   # [B, T] doc index within the row
        per_row = local[:, -1] + 1
        offset = torch.cumsum(per_row, 0) - per_row
        doc = local + offset[:, None]
        idx = torch.arange(T).expand(B, T)
        first = torch.where(starts.bool() | (idx == 0), idx, torch.zeros_like(idx)).cummax(1).values
        return doc, idx - first, int(per_row.sum())

    def forward(self, ids, generator=None):
        # ids [B, T] -> logits [B, T, V], mean lb loss, mean z loss
        B, T = ids.shape
        doc, pos, G = self.segments(ids)
        ang = pos[..., None].float() * self.inv_freq                # [B, T, Dh/2]
        ang = torch.cat([ang, ang], -1)[:, None]                    # [B, 1, T, Dh]
        cos, sin = ang.cos(), ang.sin()
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        mask = (doc[:, :, None] == doc[:, None, :]) & causal        # [B, T, T]
        mask = mask[:, None]
        x = self.embed_tokens(ids)
        lbs, zls = [], []
        flat_doc = doc.reshape(-1)
        for blk in self.layers:
            x = x + blk.self_attn(blk.pre_attention_layernorm(x), cos, sin, mask)
            y, lb, zl = blk.mlp(blk.pre_feedforward_layernorm(x).reshape(B * T, -1), flat_doc, G, generator)
            x = x + y.view(B, T, -1)
            lbs.append(lb)
            zls.append(zl)
        return self.lm_head(self.norm(x)), torch.stack(lbs).mean(), torch.stack(zls).mean()

    def hf_state_dict(self):
        """Tensors under the EMO checkpoint names of emo-reference.md §1.1 (experts one by one)."""
        out = {"model.embed_tokens.weight": self.embed_tokens.weight, "model.norm.weight": self.norm.weight,
               "lm_head.weight": self.lm_head.weight}
        for l, blk in enumerate(self.layers):
            p = f"model.layers.{l}."
            out[p + "pre_attention_layernorm.weight"] = blk.pre_attention_layernorm.weight
            out[p + "pre_feedforward_layernorm.weight"] = blk.pre_feedforward_layernorm.weight
            for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
                out[p + f"self_attn.{n}.weight"] = getattr(blk.self_attn, n).weight
            out[p + "mlp.gate.weight"] = blk.mlp.gate.weight
            for e in range(self.s.experts):
                for n in ("gate_proj", "up_proj", "down_proj"):
                    out[p + f"mlp.experts.{e}.{n}.weight"] = getattr(blk.mlp, n)[e]
        return {k: v.detach().contiguous() for k, v in out.items()}

    def hf_config(self):
        s = self.s
        return {
            "architectures": ["EmoForCausalLM"], "model_type": "emo", "vocab_size": s.vocab,
            "hidden_size": s.hidden, "intermediate_size": s.expert_width, "num_hidden_layers": s.layers,
            "num_attention_heads": s.heads, "num_key_value_heads": s.heads, "head_dim": s.head_dim,
            "hidden_act": "silu", "max_position_embeddings": s.context, "rms_norm_eps": s.eps,
            "rope_theta": s.rope_theta, "rope_scaling": None, "attention_bias": False, "attention_dropout": 0.0,
            "num_experts": s.experts, "num_experts_per_tok": s.top_k, "num_shared_experts": 1,
            "norm_topk_prob": False, "output_router_logits": True, "router_aux_loss_coef": 0.1,
            "tie_word_embeddings": False, "bos_token_id": None, "eos_token_id": s.eos, "pad_token_id": s.eos,
            "torch_dtype": "bfloat16",
        }

