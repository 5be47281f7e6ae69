"""``model: word_aligned``: ESPnet's S2T model plus losses on known word timings.

Training adds ``word_alignment_weight`` x the cross-entropy of the CTC head
against the path that :func:`~espnet_dynprune.nets.word_alignment.frame_targets`
builds from ``word_bounds`` (summed over frames, averaged over utterances, as
ESPnet sums its CTC loss), reported as ``loss_word_align``; and, if
``source_attention_weight`` > 0, that weight x minus the log of the decoder's
source-attention mass on each transcript token's frames (ASR utterances only:
a translation's tokens have no known frames), reported as ``loss_src_attn``.
Like CTC joint training, it speeds up what an attention decoder otherwise
learns slowly: where to look. Without a
``word_bounds`` input (decoding, or a data set without the file) it is
``ESPnetS2TModel`` unchanged, and its state dict is ESPnet's: a ``model:
espnet`` or ``model: dynprune`` run can start from it with ``--init_param``.

The timings index the raw audio, so the S2T preprocessor must not shift it:
``speech_init_silence: 0`` and segments no longer than ``speech_length``.
"""

import logging
from typing import Optional

import torch
from espnet2.s2t.espnet_model import ESPnetS2TModel
from espnet2.torch_utils.device_funcs import force_gatherable

from espnet_dynprune.nets.word_alignment import (
    IGNORE_INDEX,
    Spans,
    frame_targets,
    token_spans,
    word_start_mask,
)

__all__ = ["WORD_BOUNDS", "ESPnetWordAlignedS2TModel"]

WORD_BOUNDS = "word_bounds"
"""Data name (and file name in a data directory) of the word timings."""

logger = logging.getLogger(__name__)


class ESPnetWordAlignedS2TModel(ESPnetS2TModel):
    """``ESPnetS2TModel`` with frame-level losses from word timings.

    Args:
        word_alignment_weight: weight of the CTC-path loss (0: off).
        source_attention_weight: weight of the source-attention loss (0: off).
        **kwargs: every option of ``ESPnetS2TModel``.
    """

    TRAINING_OPTIONS = ("word_alignment_weight", "source_attention_weight")
    """The options that ``ESPnetS2TModel`` lacks: they shape training only."""

    def __init__(
        self,
        word_alignment_weight: float = 1.0,
        source_attention_weight: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (
            ("word_alignment_weight", word_alignment_weight),
            ("source_attention_weight", source_attention_weight),
        ):
            if value < 0:
                raise ValueError(f"model_conf.{name} must be >= 0, got {value}")
        if word_alignment_weight > 0 and self.ctc is None:
            raise ValueError(
                "model_conf.word_alignment_weight trains the CTC head: "
                "set ctc_weight > 0, or word_alignment_weight: 0"
            )
        self.word_alignment_weight = word_alignment_weight
        self.source_attention_weight = source_attention_weight
        self.register_buffer(
            "_word_start", word_start_mask(self.token_list), persistent=False
        )
        self._encoded: Optional[tuple[torch.Tensor, torch.Tensor]] = None
        self._warned = False

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ESPnet's ``encode``; keeps its output for the alignment loss."""
        self._encoded = super().encode(speech, speech_lengths)
        return self._encoded

    def word_alignment_loss(
        self,
        encoder_out: torch.Tensor,
        encoder_lengths: torch.Tensor,
        spans: Spans,
        text_ctc: torch.Tensor,
    ) -> torch.Tensor:
        """Cross-entropy of the CTC head against the word-aligned path, summed
        over frames and averaged over utterances."""
        targets = frame_targets(spans, text_ctc, encoder_lengths, self.blank_id)
        logits = self.ctc.ctc_lo(encoder_out)
        return torch.nn.functional.cross_entropy(
            logits.transpose(1, 2),
            targets,
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        ) / encoder_out.size(0)

    def source_attention_loss(
        self,
        spans: Spans,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        text_ctc: torch.Tensor,
        text_ctc_lengths: torch.Tensor,
    ) -> torch.Tensor:
        """Minus the log of the source-attention mass (head mean, each decoder
        layer) on each transcript token's frames (one frame of slack each side),
        in the last teacher-forced decoder pass; summed over tokens, averaged
        over layers and utterances. Only utterances whose target is their CTC
        transcript (ASR) take part."""
        layers = [layer.src_attn.attn for layer in self.decoder.decoders]
        if any(attention is None for attention in layers):
            raise RuntimeError(
                "source_attention_weight needs the decoder's attention weights: "
                "set decoder_conf.use_flash_attn: false"
            )
        attention = torch.stack(layers).mean(2)  # (layers, B, L_in, T)
        mask = torch.zeros_like(attention[0])
        for index, utterance in enumerate(spans):
            length = int(text_ctc_lengths[index])
            prefix = int(text_lengths[index]) - length
            transcript = text_ctc[index, :length]
            if utterance is None or prefix < 0:
                continue
            if not torch.equal(text[index, prefix : prefix + length], transcript):
                continue  # a translation: its tokens have no known frames
            for position, (lo, hi) in enumerate(utterance, start=prefix):
                mask[index, position, max(lo - 1, 0) : hi + 1] = 1.0
        guided = mask.sum(-1) > 0  # (B, L_in)
        mass = (attention * mask).sum(-1)[:, guided]
        return -mass.clamp_min(1e-6).log().sum() / (len(layers) * text.size(0))

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        text_prev: torch.Tensor,
        text_prev_lengths: torch.Tensor,
        text_ctc: torch.Tensor,
        text_ctc_lengths: torch.Tensor,
        word_bounds: Optional[torch.Tensor] = None,
        word_bounds_lengths: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """ESPnet's S2T forward, plus the word-timing losses if bounds are given."""
        loss, stats, weight = super().forward(
            speech,
            speech_lengths,
            text,
            text_lengths,
            text_prev,
            text_prev_lengths,
            text_ctc,
            text_ctc_lengths,
            **kwargs,
        )
        encoded, self._encoded = self._encoded, None
        weighted = self.word_alignment_weight > 0 or self.source_attention_weight > 0
        if word_bounds is None or not weighted:
            if self.training and weighted and not self._warned:
                logger.warning(
                    "model: word_aligned got no word_bounds input: training "
                    "without the word-timing losses"
                )
                self._warned = True
            return loss, stats, weight
        encoder_out, encoder_lengths = encoded
        spans = token_spans(
            text_ctc,
            text_ctc_lengths,
            word_bounds,
            word_bounds_lengths,
            speech_lengths,
            encoder_lengths,
            self._word_start,
        )
        if self.word_alignment_weight > 0:
            align_loss = self.word_alignment_loss(
                encoder_out, encoder_lengths, spans, text_ctc
            )
            loss = loss + self.word_alignment_weight * align_loss
            stats["loss_word_align"] = align_loss.detach()
        if self.source_attention_weight > 0:
            attention_loss = self.source_attention_loss(
                spans, text, text_lengths, text_ctc, text_ctc_lengths
            )
            loss = loss + self.source_attention_weight * attention_loss
            stats["loss_src_attn"] = attention_loss.detach()
        stats["loss"] = loss.detach()
        return force_gatherable((loss, stats, weight), loss.device)
