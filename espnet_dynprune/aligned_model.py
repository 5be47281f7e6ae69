"""``model: word_aligned``: ESPnet's S2T model plus a loss on known word timings.

Training adds ``word_alignment_weight`` x the cross-entropy of the CTC head
against the path that :func:`~espnet_dynprune.word_alignment.frame_targets`
builds from ``word_bounds`` (summed over frames, averaged over utterances, as
ESPnet sums its CTC loss), reported as ``loss_word_align``. Without a
``word_bounds`` input (decoding, or a data set without the file) it is
``ESPnetS2TModel`` unchanged, and its state dict is ESPnet's: a ``model:
espnet`` or ``model: dynprune`` run can start from it with ``--init_param``.

The timings index the raw audio, so the S2T preprocessor must not shift it:
``speech_init_silence: 0`` and segments no longer than ``speech_length``.
"""

import logging
from typing import Dict, Optional, Tuple

import torch
from espnet2.s2t.espnet_model import ESPnetS2TModel
from espnet2.tasks.s2t import S2TTask
from espnet2.torch_utils.device_funcs import force_gatherable

from espnet_dynprune.word_alignment import IGNORE_INDEX, frame_targets, word_start_mask

__all__ = ["WORD_BOUNDS", "ESPnetWordAlignedS2TModel", "WordBoundsS2TTask"]

WORD_BOUNDS = "word_bounds"
"""Data name (and file name in a data directory) of the word timings."""

logger = logging.getLogger(__name__)


class ESPnetWordAlignedS2TModel(ESPnetS2TModel):
    """``ESPnetS2TModel`` with a frame-level CTC-path loss from word timings.

    Args:
        word_alignment_weight: weight of the loss (0 turns it off).
        **kwargs: every option of ``ESPnetS2TModel``.
    """

    def __init__(self, word_alignment_weight: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        if word_alignment_weight < 0:
            raise ValueError(
                "model_conf.word_alignment_weight must be >= 0, "
                f"got {word_alignment_weight}"
            )
        if word_alignment_weight > 0 and self.ctc is None:
            raise ValueError(
                "model_conf.word_alignment_weight trains the CTC head: "
                "set ctc_weight > 0, or word_alignment_weight: 0"
            )
        self.word_alignment_weight = word_alignment_weight
        self.register_buffer(
            "_word_start", word_start_mask(self.token_list), persistent=False
        )
        self._encoded: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        self._warned = False

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """ESPnet's ``encode``; keeps its output for the alignment loss."""
        self._encoded = super().encode(speech, speech_lengths)
        return self._encoded

    def word_alignment_loss(
        self,
        encoder_out: torch.Tensor,
        encoder_lengths: torch.Tensor,
        speech_lengths: torch.Tensor,
        text_ctc: torch.Tensor,
        text_ctc_lengths: torch.Tensor,
        word_bounds: torch.Tensor,
        word_bounds_lengths: torch.Tensor,
    ) -> torch.Tensor:
        """Cross-entropy of the CTC head against the word-aligned path, summed
        over frames and averaged over utterances."""
        targets = frame_targets(
            text_ctc,
            text_ctc_lengths,
            word_bounds,
            word_bounds_lengths,
            speech_lengths,
            encoder_lengths,
            self._word_start,
            self.blank_id,
        )
        logits = self.ctc.ctc_lo(encoder_out[:, : targets.size(1)])
        return torch.nn.functional.cross_entropy(
            logits.transpose(1, 2),
            targets,
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        ) / encoder_out.size(0)

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
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """ESPnet's S2T forward, plus the word-alignment loss if bounds are given."""
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
        if word_bounds is None or self.word_alignment_weight == 0:
            if self.training and self.word_alignment_weight and not self._warned:
                logger.warning(
                    "model: word_aligned got no word_bounds input: training "
                    "without the word-alignment loss"
                )
                self._warned = True
            return loss, stats, weight
        align_loss = self.word_alignment_loss(
            *encoded,
            speech_lengths,
            text_ctc,
            text_ctc_lengths,
            word_bounds,
            word_bounds_lengths,
        )
        loss = loss + self.word_alignment_weight * align_loss
        stats["loss_word_align"] = align_loss.detach()
        stats["loss"] = loss.detach()
        return force_gatherable((loss, stats, weight), loss.device)


class WordBoundsS2TTask(S2TTask):
    """ESPnet's ``S2TTask`` that also accepts a ``word_bounds`` training input."""

    @classmethod
    def optional_data_names(
        cls, train: bool = True, inference: bool = False
    ) -> Tuple[str, ...]:
        names = super().optional_data_names(train, inference)
        return names if inference else names + (WORD_BOUNDS,)
