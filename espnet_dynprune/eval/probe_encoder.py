"""Does the encoder output depend on the audio? A check for a collapsed encoder.

An attention decoder reaches fair teacher-forced accuracy from its language model
alone (the prefix and the previous tokens). Early in training the encoder can
then drift towards outputs that depend on the frame position only, and the CTC
branch stays on its blank plateau. This module measures that on real utterances
of equal length: per encoder stage, the spread of the hidden states across
utterances at the same frame, relative to their spread across the frames of each
utterance, and how many distinct CTC greedy outputs the utterances get.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from espnet_dynprune.models.dynprune_model import DynPruneModelMixin

__all__ = ["EncoderProbe", "StageSpread", "probe_encoder"]


@dataclass(frozen=True)
class StageSpread:
    """Spread of one encoder stage's output.

    Attributes:
        name: ``embed`` (subsampling + positional encoding) or ``layer N``.
        across_utterances: Std over utterances at the same frame, averaged.
        across_time: Std over the frames of one utterance, averaged.
    """

    name: str
    across_utterances: float
    across_time: float

    @property
    def ratio(self) -> float:
        """``across_utterances / across_time``: near 0 means position only."""
        return self.across_utterances / max(self.across_time, 1e-12)


@dataclass(frozen=True)
class EncoderProbe:
    """Result of :func:`probe_encoder`.

    Attributes:
        stages: The embedding, then every encoder layer, in order.
        ctc_outputs: The distinct CTC greedy token sequences.
        num_utterances: Utterances probed.
    """

    stages: list[StageSpread]
    ctc_outputs: list[tuple[int, ...]]
    num_utterances: int


def _hidden(output) -> torch.Tensor:
    """The ``(B, T, D)`` states in an ESPnet encoder stage's output."""
    while isinstance(output, tuple):  # ((x, pos_emb), mask) or (x, mask)
        output = output[0]
    return output


def _spread(name: str, hidden: torch.Tensor) -> StageSpread:
    return StageSpread(
        name=name,
        across_utterances=hidden.std(dim=0).mean().item(),
        across_time=hidden.std(dim=1).mean().item(),
    )


def _ctc_greedy(
    model: torch.nn.Module, encoder_out: torch.Tensor, lengths: torch.Tensor
) -> set:
    """Distinct CTC greedy outputs (repeats merged, blanks dropped)."""
    best = model.ctc.argmax(encoder_out)
    outputs = set()
    for row, length in zip(best, lengths.tolist(), strict=True):
        tokens = torch.unique_consecutive(row[:length])
        outputs.add(tuple(tokens[tokens != model.blank_id].tolist()))
    return outputs


@torch.no_grad()
def probe_encoder(model: torch.nn.Module, speech: torch.Tensor) -> EncoderProbe:
    """Runs the encoder on a batch and measures how much its output varies.

    Args:
        model: An ESPnet S2T or ASR model (``model: dynprune`` runs with every
            gate open).
        speech: ``(B, samples)`` utterances of equal length, ``B >= 2``.

    Returns:
        The spreads per stage and the distinct CTC outputs.

    Raises:
        ValueError: For fewer than two utterances.
    """
    if speech.dim() != 2 or speech.size(0) < 2:
        raise ValueError(f"need (B >= 2, samples) speech, got {tuple(speech.shape)}")
    model.eval()
    if isinstance(model, DynPruneModelMixin):
        model.set_inference_context(gate_mode="dense")
    encoder = model.encoder
    stages = [("embed", encoder.embed)] + [
        (f"layer {i}", layer) for i, layer in enumerate(encoder.encoders)
    ]
    captured = {}
    handles = [
        module.register_forward_hook(
            lambda _m, _i, out, name=name: captured.__setitem__(name, _hidden(out))
        )
        for name, module in stages
    ]
    try:
        lengths = torch.full((speech.size(0),), speech.size(1), dtype=torch.long)
        encoder_out, encoder_lengths = model.encode(speech, lengths)
    finally:
        for handle in handles:
            handle.remove()
    return EncoderProbe(
        stages=[_spread(name, captured[name]) for name, _ in stages],
        ctc_outputs=sorted(_ctc_greedy(model, encoder_out, encoder_lengths)),
        num_utterances=speech.size(0),
    )
