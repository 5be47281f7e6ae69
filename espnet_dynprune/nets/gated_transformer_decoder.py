"""Gated Transformer decoder: ESPnet's decoder with three gates per layer.

Gates (``DECODER_MODULES``): self-attention, source attention, FFN. A closed
module's residual update is skipped (and, with pre-norm, its layer norm too).
Every layer still returns its output, so ``forward_one_step`` keeps one cache
entry per layer and ESPnet's ``score`` / ``batch_score`` / ``BatchBeamSearch``
work unchanged. The state-dict names are ESPnet's own.

Incremental decoding (``forward_one_step``, without gradients) reuses each
layer's source-attention keys and values across steps and beams
(:mod:`espnet_dynprune.nets.source_cache`);
:meth:`GatedTransformerDecoder.use_source_cache` switches that off (ESPnet's way:
recomputed at every step).

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
        source_cache = self.source_cache
        if self.gate_plan is None and source_cache is None:
            return super().forward(tgt, tgt_mask, memory, memory_mask, cache=cache)
        self_plan, src_plan, ffn_plan = self.gate_plan or _ALL_OPEN
        batch = tgt.size(0)
        x = tgt[:, -1:, :] if step else tgt
        query_mask = tgt_mask[:, -1:, :] if step and tgt_mask is not None else tgt_mask

        def self_attention(rows):
            keys = take_rows(tgt, rows)
            if self.normalize_before:
                keys = self.norm1(keys)
            query = keys[:, -1:, :] if step else keys
            out = self.self_attn(query, keys, keys, take_rows(query_mask, rows))
            if self.concat_after:
                return self.concat_linear1(torch.cat((query, out), dim=-1))
            return self.dropout(out)

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

        if step:
            x = torch.cat([cache, x], dim=1)
        return x, tgt_mask, memory, memory_mask


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

    def forward_one_step(self, tgt: torch.Tensor, *args, **kwargs):
        """ESPnet's ``forward_one_step``, reusing source keys/values if enabled.

        Gates of ``B`` utterances are spread over their hypotheses
        (:meth:`expand_gates_to`) when ``tgt`` holds a multi-utterance beam.
        """
        self.expand_gates_to(tgt.size(0))
        args = (tgt, *args)
        caches = self._source_caches
        if not self.source_cache_enabled or torch.is_grad_enabled():
            return super().forward_one_step(*args, **kwargs)
        for layer, source_cache in zip(self.decoders, caches, strict=True):
            layer.source_cache = source_cache
        try:
            return super().forward_one_step(*args, **kwargs)
        finally:
            for layer in self.decoders:
                layer.source_cache = None
