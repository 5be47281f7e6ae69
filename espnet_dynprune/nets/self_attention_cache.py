"""Decoder self-attention keys and values kept across decoding steps.

ESPnet's incremental decoder keeps each layer's outputs for the prefix and, at
every step, projects the whole prefix again to that layer's self-attention keys
and values. Under the causal mask a position's layer input never changes once it
is decoded, so its key and value do not either: the gated decoder projects only
the new position and appends it to the prefix's keys and values.

A layer's decoder-state entry is then ``(N, T, 2 * D)``: keys (after ``k_norm``)
and values, heads side by side, ``[keys | values]`` on the last axis. It is one
tensor per layer and hypothesis, as ESPnet's layer outputs were, so ESPnet's
``batch_score`` stacks it, and its beam searches select and reorder it with the
hypotheses. A layer whose self-attention is closed for every row keeps an empty
``(N, 0, 0)`` entry. The arithmetic is ESPnet's ``MultiHeadedAttention`` default
path (no flash attention, no SDPA), unchanged.
"""

import math
from typing import Optional

import torch

from espnet_dynprune.compat.espnet_release import MultiHeadedAttention

__all__ = ["append_positions", "attend", "no_history", "project"]


def project(attn: MultiHeadedAttention, h: torch.Tensor) -> torch.Tensor:
    """``(N, T_new, 2 * D)`` keys and values of the new positions ``h``."""
    batch, length, size = h.shape
    k = attn.linear_k(h).view(batch, length, attn.h, attn.d_k)
    k = attn.k_norm(k).reshape(batch, length, size)
    return torch.cat((k, attn.linear_v(h)), dim=-1)


def no_history(like: torch.Tensor) -> torch.Tensor:
    """The entry of a layer whose self-attention is closed: ``(N, 0, 0)``."""
    return like.new_zeros(like.size(0), 0, 0)


def append_positions(
    history: Optional[torch.Tensor],
    new: torch.Tensor,
    rows: Optional[torch.Tensor],
    batch: int,
) -> torch.Tensor:
    """The prefix's keys and values followed by those of the new positions.

    Args:
        history: ``(N, T_past, 2 * D)`` entry of the previous step (``None``: none).
        new: ``(n, T_new, 2 * D)`` keys and values of the open rows.
        rows: the open rows (``None``: all ``N``); the others get zeros, which
            they never read (a hypothesis keeps its utterance's gates).
        batch: ``N``.
    """
    if rows is not None:
        new = new.new_zeros((batch,) + tuple(new.shape[1:])).index_copy(0, rows, new)
    return new if history is None else torch.cat((history, new), dim=1)


def attend(
    attn: MultiHeadedAttention,
    query: torch.Tensor,
    keys_values: torch.Tensor,
    mask: Optional[torch.Tensor],
) -> torch.Tensor:
    """``attn(query, prefix, prefix, mask)`` with the prefix's keys and values.

    Args:
        attn: the layer's self-attention.
        query: ``(n, T_new, D)`` inputs of the new positions.
        keys_values: ``(n, T, 2 * D)`` entry of the whole prefix, new positions
            included.
        mask: ``(n or 1, T_new, T)`` mask of the new positions, or ``None``.
    """
    batch, length = keys_values.shape[:2]
    kv = keys_values.view(batch, length, 2, attn.h, attn.d_k).transpose(1, 3)
    k, v = kv.unbind(2)  # [n, H, T, d_k] each
    q = attn.linear_q(query).view(batch, -1, attn.h, attn.d_k).transpose(1, 2)
    scores = torch.matmul(attn.q_norm(q), k.transpose(-2, -1)) / math.sqrt(attn.d_k)
    return attn.forward_attention(v, scores, mask)
