"""Frame-level CTC targets from word timings (``model: word_aligned``).

CTC trained from scratch spends thousands of steps on its blank plateau before
the encoder starts to align (the default recipe's dense baseline leaves it
after about 6000 steps, twice its budget). Where the word timings are known
(the synthesizer announces each word; on real data a forced aligner's CTM
gives them), one CTC path is known too: each word's tokens spread evenly over
the word's frames, blank elsewhere. Cross-entropy of the CTC head against that
path supervises every frame from the first step.

``word_bounds`` holds per utterance the (start, end) sample pair of each word
of ``text_ctc``, flattened (ESPnet ``text_int``); a word is a token that starts
with sentencepiece's ``▁`` and the tokens after it up to the next such token.
"""

from typing import Optional, Sequence

import torch

__all__ = ["IGNORE_INDEX", "WORD_START", "frame_targets", "word_start_mask"]

IGNORE_INDEX = -100
"""Target of the frames of an utterance whose words and timings disagree."""

WORD_START = "\u2581"
"""sentencepiece's word-boundary mark."""


def word_start_mask(token_list: Sequence[str]) -> torch.Tensor:
    """``(V,)`` bool: which tokens start a word."""
    return torch.tensor([token.startswith(WORD_START) for token in token_list])


def _utterance_targets(
    tokens: torch.Tensor,
    bounds: torch.Tensor,
    word_start: torch.Tensor,
    num_frames: int,
    samples_per_frame: float,
    blank_id: int,
) -> Optional[torch.Tensor]:
    """Targets of one utterance; ``None`` if its words and bounds disagree."""
    starts = torch.nonzero(word_start[tokens]).flatten().tolist()
    if not starts or starts[0] != 0 or 2 * len(starts) != bounds.numel():
        return None
    targets = torch.full((num_frames,), blank_id, dtype=torch.long)
    ends = starts[1:] + [tokens.numel()]
    cursor = 0  # first free frame: every token gets at least one, in order
    for word, (first, last) in enumerate(zip(starts, ends, strict=True)):
        begin = min(int(bounds[2 * word]) / samples_per_frame, num_frames)
        end = min(int(bounds[2 * word + 1]) / samples_per_frame, num_frames)
        edges = torch.linspace(begin, end, last - first + 1).round().long().tolist()
        word_tokens = tokens[first:last].tolist()
        for token, lo, hi in zip(word_tokens, edges[:-1], edges[1:], strict=True):
            lo = max(lo, cursor)
            cursor = max(hi, lo + 1)
            targets[lo:cursor] = token
    return targets[:num_frames]


def frame_targets(
    text_ctc: torch.Tensor,
    text_ctc_lengths: torch.Tensor,
    word_bounds: torch.Tensor,
    word_bounds_lengths: torch.Tensor,
    speech_lengths: torch.Tensor,
    encoder_lengths: torch.Tensor,
    word_start: torch.Tensor,
    blank_id: int = 0,
) -> torch.Tensor:
    """The CTC path of each utterance, one target per encoder frame.

    Args:
        text_ctc: ``(B, L)`` CTC token ids, padded.
        text_ctc_lengths: ``(B,)``.
        word_bounds: ``(B, 2W)`` word (start, end) samples, padded.
        word_bounds_lengths: ``(B,)``.
        speech_lengths: ``(B,)`` input samples, for samples per encoder frame.
        encoder_lengths: ``(B,)`` encoder frames.
        word_start: from :func:`word_start_mask`.
        blank_id: CTC blank, the target outside words.

    Returns:
        ``(B, T)`` long targets; :data:`IGNORE_INDEX` past each utterance's
        frames, and everywhere in an utterance whose number of words differs
        from its number of bound pairs.
    """
    batch, frames = text_ctc.size(0), int(encoder_lengths.max())
    targets = torch.full((batch, frames), IGNORE_INDEX, dtype=torch.long)
    word_start = word_start.cpu()
    for index in range(batch):
        num_frames = int(encoder_lengths[index])
        utterance = _utterance_targets(
            text_ctc[index, : int(text_ctc_lengths[index])].cpu(),
            word_bounds[index, : int(word_bounds_lengths[index])].cpu(),
            word_start,
            num_frames,
            float(speech_lengths[index]) / num_frames,
            blank_id,
        )
        if utterance is not None:
            targets[index, :num_frames] = utterance
    return targets.to(text_ctc.device)
