"""Source-attention keys and values computed once per utterance, not per step.

ESPnet's decoder projects the whole encoder output to keys and values in every
layer at every decoding step and for every hypothesis. The projections depend
only on the encoder output, so one layer computes them once per utterance and
reuses them. ``BatchBeamSearch`` passes the encoder output expanded over the
hypotheses (batch stride 0): then the projection runs on one row and broadcasts.
The arithmetic is ESPnet's ``MultiHeadedAttention`` default path, unchanged.

The cache holds the encoder output it was computed from, so its memory cannot be
freed and reused by another utterance's output at the same address: a new
utterance (another tensor, shape or view) is always recomputed.
"""

import math
from typing import Optional

import torch

from espnet_dynprune.compat.espnet_release import MultiHeadedAttention

__all__ = ["SourceKVCache"]


def _distinct_rows(memory: torch.Tensor) -> torch.Tensor:
    """The rows that differ: one row when the batch is an expanded view."""
    return memory[:1] if memory.size(0) == 1 or memory.stride(0) == 0 else memory


def _same_view(
    tensor: torch.Tensor, cached: Optional[torch.Tensor], cached_version: int
) -> bool:
    """Same memory, shape and strides (``cached`` keeps its memory alive), not
    written in place since (views share ``_version``, so it is kept apart)."""
    return (
        cached is not None
        and tensor.data_ptr() == cached.data_ptr()
        and tensor._version == cached_version
        and tensor.shape == cached.shape
        and tensor.stride() == cached.stride()
        and tensor.dtype == cached.dtype
        and tensor.device == cached.device
    )


class SourceKVCache:
    """Keys and values of one layer's source attention for the current utterance."""

    def __init__(self) -> None:
        self._source: Optional[torch.Tensor] = None
        self._source_version = -1
        self._kv: Optional[tuple[torch.Tensor, torch.Tensor]] = None

    def clear(self) -> None:
        """Forget the cached utterance."""
        self._source = self._kv = None

    @staticmethod
    def supports(attn: torch.nn.Module) -> bool:
        """Only the default (non-flash, non-SDPA) ``MultiHeadedAttention`` path."""
        return (
            type(attn) is MultiHeadedAttention
            and not attn.use_flash_attn
            and not getattr(attn, "use_sdpa", False)
        )

    def _keys_values(
        self, attn: MultiHeadedAttention, memory: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        rows = _distinct_rows(memory)
        if not _same_view(rows, self._source, self._source_version):
            batch = rows.size(0)
            k = attn.linear_k(rows).view(batch, -1, attn.h, attn.d_k).transpose(1, 2)
            v = attn.linear_v(rows).view(batch, -1, attn.h, attn.d_k).transpose(1, 2)
            self._source, self._kv = rows, (attn.k_norm(k), v)
            self._source_version = rows._version
        return self._kv

    def attend(
        self,
        attn: MultiHeadedAttention,
        query: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: Optional[torch.Tensor],
        rows: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """``attn(query, memory, memory, memory_mask)`` with cached keys and values.

        Args:
            attn: the layer's source attention.
            query: ``(N, T_out, D)`` queries (already restricted to ``rows``).
            memory: ``(B, T_in, D)`` encoder output of the whole batch.
            memory_mask: ``(N, 1, T_in)`` mask for the queried rows, or ``None``.
            rows: rows of the batch that are queried (``None``: all).
        """
        k, v = self._keys_values(attn, memory)  # [1 or B, H, T_in, d_k]
        if rows is not None and k.size(0) > 1:
            k, v = k[rows], v[rows]
        batch = query.size(0)
        q = attn.linear_q(query).view(batch, -1, attn.h, attn.d_k).transpose(1, 2)
        scores = torch.matmul(attn.q_norm(q), k.transpose(-2, -1)) / math.sqrt(attn.d_k)
        return attn.forward_attention(v.expand(batch, -1, -1, -1), scores, memory_mask)
