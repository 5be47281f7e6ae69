"""Gated Transformer decoder: ESPnet's decoder with three gates per layer.

Gates (``DECODER_MODULES``): self-attention, source attention, FFN. A closed
module's residual update is skipped (and, with pre-norm, its layer norm too).
``forward_one_step`` keeps one cache entry (a tensor) per layer, so ESPnet's
``score`` / ``batch_score`` / ``BatchBeamSearch`` work unchanged. The state-dict
names are ESPnet's own.

Incremental decoding (``forward_one_step``, without gradients) reuses each
layer's source-attention keys and values across steps and beams
(:mod:`espnet_dynprune.nets.source_cache`), and each layer's entry holds the
prefix's self-attention keys and values instead of its outputs, so a step
projects only the new position
(:mod:`espnet_dynprune.nets.self_attention_cache`).
:meth:`GatedTransformerDecoder.use_source_cache` and
:meth:`GatedTransformerDecoder.use_self_attention_cache` switch them off
(ESPnet's way: recomputed at every step).

``pruned_modules`` (one list of module names per layer) builds the decoder
without those modules: a per-context export, whose layers always run that plan.
``exported_context`` (the export's context) makes every decoding prompt of
another context an error (:mod:`espnet_dynprune.nets.exported_context`).
"""

from collections.abc import Callable, Sequence
from typing import Optional

import torch
from espnet2.asr.decoder.transformer_decoder import TransformerDecoder
from typeguard import typechecked

from espnet_dynprune.compat.espnet_release import DecoderLayer
from espnet_dynprune.nets.exported_context import ExportedContext
from espnet_dynprune.nets.gate_contract import (
    DECODER_MODULES,
    OPEN,
    GatedStackMixin,
    add_update,
    run_gated,
    take_rows,
)
from espnet_dynprune.nets.self_attention_cache import (
    append_positions,
    attend,
    no_history,
    project,
)
from espnet_dynprune.nets.source_cache import SourceKVCache

_ALL_OPEN = [OPEN] * len(DECODER_MODULES)

__all__ = ["GatedDecoderLayer", "GatedTransformerDecoder"]


class GatedDecoderLayer(DecoderLayer):
    """Transformer decoder layer that honours ``gate_plan``.

    Created by re-classing ESPnet's layer in place (no new parameters).
    """

    gate_plan = None
    source_cache = None

    def module_attributes(self, name: str) -> tuple[str, ...]:
        """Submodules that only the gated module ``name`` uses.

        Its layer norm only with pre-norm (post-norm applies it to every layer
        output), its concat projection only with ``concat_after``.
        """
        index = DECODER_MODULES.index(name)
        attrs = (("self_attn", "src_attn", "feed_forward")[index],)
        if self.normalize_before:
            attrs += (f"norm{index + 1}",)
        if self.concat_after and index < 2:
            attrs += (f"concat_linear{index + 1}",)
        return attrs

    def forward(self, tgt, tgt_mask, memory, memory_mask, cache=None):
        """Same contract as ESPnet's ``DecoderLayer.forward`` (no sequential attn)."""
        step = cache is not None
        if self.gate_plan is None and self.source_cache is None:
            return super().forward(tgt, tgt_mask, memory, memory_mask, cache=cache)
        x = tgt[:, -1:, :] if step else tgt
        query_mask = tgt_mask[:, -1:, :] if step and tgt_mask is not None else tgt_mask

        def self_attention(rows):
            keys = take_rows(tgt, rows)
            if self.normalize_before:
                keys = self.norm1(keys)
            query = keys[:, -1:, :] if step else keys
            out = self.self_attn(query, keys, keys, take_rows(query_mask, rows))
            return self._self_attention_update(query, out)

        x = self._gated_updates(x, self_attention, memory, memory_mask)
        if step:
            x = torch.cat([cache, x], dim=1)
        return x, tgt_mask, memory, memory_mask

    def forward_new_positions(
        self,
        x: torch.Tensor,
        query_mask: Optional[torch.Tensor],
        memory: torch.Tensor,
        memory_mask: Optional[torch.Tensor],
        history: Optional[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer on the new positions only, with the prefix's self-attention
        keys and values (:mod:`espnet_dynprune.nets.self_attention_cache`).

        Args:
            x: ``(N, T_new, D)`` layer inputs of the new positions.
            query_mask: ``(N or 1, T_new, T)`` self-attention mask of those.
            memory: ``(N, T_in, D)`` encoder output.
            memory_mask: ``(N, 1, T_in)`` or ``None``.
            history: this layer's entry of the previous step (``None``: none).
        Returns:
            ``(N, T_new, D)`` outputs and the layer's new entry.
        """
        batch = x.size(0)
        entry = history

        def self_attention(rows):
            nonlocal entry
            h = take_rows(x, rows)
            if self.normalize_before:
                h = self.norm1(h)
            entry = append_positions(history, project(self.self_attn, h), rows, batch)
            mask = take_rows(query_mask, rows)
            out = attend(self.self_attn, h, take_rows(entry, rows), mask)
            return self._self_attention_update(h, out)

        x = self._gated_updates(x, self_attention, memory, memory_mask)
        return x, no_history(x) if entry is None else entry

    def _self_attention_update(
        self, query: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """Residual update from the self-attention output (ESPnet's arithmetic)."""
        if self.concat_after:
            return self.concat_linear1(torch.cat((query, out), dim=-1))
        return self.dropout(out)

    def _gated_updates(
        self,
        x: torch.Tensor,
        self_attention: Callable[[Optional[torch.Tensor]], torch.Tensor],
        memory: torch.Tensor,
        memory_mask: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """The three residual updates of the query positions ``x``, as gated."""
        self_plan, src_plan, ffn_plan = self.gate_plan or _ALL_OPEN
        batch = x.size(0)
        source_cache = self.source_cache

        def source_attention(rows):
            h = take_rows(x, rows)
            if self.normalize_before:
                h = self.norm2(h)
            mask = take_rows(memory_mask, rows)
            if source_cache is not None:
                out = source_cache.attend(self.src_attn, h, memory, mask, rows)
            else:
                mem = take_rows(memory, rows)
                out = self.src_attn(h, mem, mem, mask)
            if self.concat_after:
                return self.concat_linear2(torch.cat((h, out), dim=-1))
            return self.dropout(out)

        def feed_forward(rows):
            h = take_rows(x, rows)
            if self.normalize_before:
                h = self.norm3(h)
            return self.dropout(self.feed_forward(h))

        for decision, branch, norm in (
            (self_plan, self_attention, self.norm1),
            (src_plan, source_attention, self.norm2),
            (ffn_plan, feed_forward, self.norm3),
        ):
            x = add_update(x, run_gated(decision, branch, batch))
            if not self.normalize_before:
                x = norm(x)
        return x


class GatedTransformerDecoder(GatedStackMixin, TransformerDecoder):
    """``TransformerDecoder`` with a gate per module per layer.

    Takes every option of ESPnet's ``transformer`` decoder (same YAML keys, same
    state-dict names).

    Args:
        vocab_size: output vocabulary size.
        encoder_output_size: size of the encoder output (the memory).
        *args: ESPnet's ``TransformerDecoder`` options, in its order.
        pruned_modules: per layer, names from ``DECODER_MODULES`` to build
            without (a per-context export); ``None`` keeps every module.
        exported_context: the fields of :class:`ExportedContext` (a
            per-context export): prompts of other contexts are refused.
        **kwargs: every option of ESPnet's ``TransformerDecoder``.
    """

    gate_modules = DECODER_MODULES
    # Called with every hypothesis primer of a beam search that scores with this
    # decoder (the owning model sets it: the primer names the context).
    primer_listener: Optional[Callable[[object], None]] = None

    @typechecked
    def __init__(
        self,
        vocab_size: int,
        encoder_output_size: int,
        *args,
        pruned_modules: Optional[list[list[str]]] = None,
        exported_context: Optional[dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(vocab_size, encoder_output_size, *args, **kwargs)
        self.exported_context = (
            None if exported_context is None else ExportedContext(**exported_context)
        )
        for layer in self.decoders:
            layer.__class__ = GatedDecoderLayer
        if pruned_modules is not None:
            self.remove_modules(pruned_modules, "decoder_conf.pruned_modules")
        self._source_caches = [
            SourceKVCache() if SourceKVCache.supports(layer.src_attn) else None
            for layer in self.decoders
        ]
        self.source_cache_enabled = True
        self.self_attention_cache_enabled = True

    def gated_layers(self) -> Sequence[torch.nn.Module]:
        """The decoder layers, in order."""
        return list(self.decoders)

    def observe_hyp_primer(self, primer) -> None:
        """A beam search was primed (``BeamSearch.set_hyp_primer``): tell the model.

        Raises:
            ValueError: an export decoding a context it was not built for.
        """
        if self.exported_context is not None:
            self.exported_context.check(primer)
        if self.primer_listener is not None:
            self.primer_listener(primer)

    def use_source_cache(self, enabled: bool = True) -> None:
        """Reuse source keys/values across steps (default), or recompute them."""
        self.source_cache_enabled = enabled
        for cache in self._source_caches:
            if cache is not None:
                cache.clear()

    def use_self_attention_cache(self, enabled: bool = True) -> None:
        """Keep the prefix's self-attention keys/values (default), or recompute
        them from the layer outputs at every step (ESPnet's way).

        The two keep different decoder states: switch between searches.
        """
        self.self_attention_cache_enabled = enabled

    def forward_one_step(
        self,
        tgt: torch.Tensor,
        tgt_mask: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: Optional[torch.Tensor] = None,
        *,
        cache: Optional[list[torch.Tensor]] = None,
        return_hs: bool = False,
    ):
        """ESPnet's ``forward_one_step``, with the caches that are enabled.

        Without gradients, source keys/values are reused across steps, and the
        prefix's self-attention keys/values are kept in ``cache`` (one entry per
        layer, see :mod:`espnet_dynprune.nets.self_attention_cache`) in place
        of ESPnet's layer outputs. Gates of ``B`` utterances are spread over
        their hypotheses (:meth:`expand_gates_to`) when ``tgt`` holds a
        multi-utterance beam.
        """
        self.expand_gates_to(tgt.size(0))
        args = (tgt, tgt_mask, memory, memory_mask)
        kwargs = dict(cache=cache, return_hs=return_hs)
        if torch.is_grad_enabled():
            return super().forward_one_step(*args, **kwargs)
        step = (
            self._forward_new_positions
            if self._self_attention_cache_applies()
            else super().forward_one_step
        )
        if not self.source_cache_enabled:
            return step(*args, **kwargs)
        for layer, source_cache in zip(self.decoders, self._source_caches, strict=True):
            layer.source_cache = source_cache
        try:
            return step(*args, **kwargs)
        finally:
            for layer in self.decoders:
                layer.source_cache = None

    def _self_attention_cache_applies(self) -> bool:
        """Enabled, and every self-attention runs ESPnet's default path."""
        return self.self_attention_cache_enabled and all(
            layer.self_attn is None or SourceKVCache.supports(layer.self_attn)
            for layer in self.decoders
        )

    def _forward_new_positions(
        self,
        tgt: torch.Tensor,
        tgt_mask: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: Optional[torch.Tensor] = None,
        *,
        cache: Optional[list[torch.Tensor]] = None,
        return_hs: bool = False,
    ):
        """``forward_one_step`` computing only the positions not yet in ``cache``.

        That is the whole prefix at the first step (``cache`` is ``None``), then
        the last position. Only the last layer's last output is read, so no
        layer keeps its outputs; ``cache`` holds each layer's self-attention
        keys and values.
        """
        new = tgt.size(1) if cache is None else 1
        x = self.embed(tgt)[:, -new:]  # position-wise: earlier ones are unused
        query_mask = None if tgt_mask is None else tgt_mask[:, -new:, :]
        new_cache = []
        for layer, history in zip(
            self.decoders, cache or [None] * len(self.decoders), strict=True
        ):
            x, entry = layer.forward_new_positions(
                x, query_mask, memory, memory_mask, history
            )
            new_cache.append(entry)
        # ESPnet's output head, as in TransformerDecoder.forward_one_step
        y = self.after_norm(x[:, -1]) if self.normalize_before else x[:, -1]
        hidden = y
        if self.output_layer is not None:
            y = torch.log_softmax(self.output_layer(y), dim=-1)
        if return_hs:
            return (y, hidden), new_cache
        return y, new_cache
