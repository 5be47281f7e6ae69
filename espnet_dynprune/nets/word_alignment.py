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

from collections.abc import Sequence
from typing import Optional

import torch

__all__ = [
    "IGNORE_INDEX",
    "WORD_START",
    "Spans",
    "frame_targets",
    "token_spans",
    "word_start_mask",
]

IGNORE_INDEX = -100
"""Target of the frames of an utterance whose words and timings disagree."""

WORD_START = "\u2581"
"""sentencepiece's word-boundary mark."""


def word_start_mask(token_list: Sequence[str]) -> torch.Tensor:
    """``(V,)`` bool: which tokens start a word."""
    return torch.tensor([token.startswith(WORD_START) for token in token_list])


Spans = list[Optional[list[tuple[int, int]]]]
"""Per utterance, the encoder frames ``[lo, hi)`` of each CTC token, or ``None``."""


def _utterance_spans(
    tokens: list[int],
    bounds: list[int],
    word_start: list[bool],
    num_frames: int,
    samples_per_frame: float,
) -> Optional[list[tuple[int, int]]]:
    """Token spans of one utterance; ``None`` if its words and bounds disagree."""
    starts = [index for index, token in enumerate(tokens) if word_start[token]]
    if not starts or starts[0] != 0 or 2 * len(starts) != len(bounds):
        return None
    spans = []
    cursor = 0  # first free frame: every token gets at least one, in order
    ends = starts[1:] + [len(tokens)]
    for word, (first, last) in enumerate(zip(starts, ends, strict=True)):
        begin = min(bounds[2 * word] / samples_per_frame, num_frames)
        end = min(bounds[2 * word + 1] / samples_per_frame, num_frames)
        count = last - first
        edges = [round(begin + (end - begin) * k / count) for k in range(count + 1)]
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            lo = max(lo, cursor)
            cursor = max(hi, lo + 1)
            spans.append((lo, cursor))
    return spans


def token_spans(
    text_ctc: torch.Tensor,
    text_ctc_lengths: torch.Tensor,
    word_bounds: torch.Tensor,
    word_bounds_lengths: torch.Tensor,
    speech_lengths: torch.Tensor,
    encoder_lengths: torch.Tensor,
    word_start: torch.Tensor,
) -> Spans:
    """Where each CTC token is, in encoder frames: each word's tokens share its
    frames evenly (at least one frame each, in order).

    Args:
        text_ctc: ``(B, L)`` CTC token ids, padded.
        text_ctc_lengths: ``(B,)``.
        word_bounds: ``(B, 2W)`` word (start, end) samples, padded.
        word_bounds_lengths: ``(B,)``.
        speech_lengths: ``(B,)`` input samples, for samples per encoder frame.
        encoder_lengths: ``(B,)`` encoder frames.
        word_start: from :func:`word_start_mask`.

    Returns:
        Per utterance the spans, ``None`` where its number of words differs
        from its number of bound pairs.
    """
    flags = word_start.tolist()
    spans: Spans = []
    for index in range(text_ctc.size(0)):
        num_frames = int(encoder_lengths[index])
        spans.append(
            _utterance_spans(
                text_ctc[index, : int(text_ctc_lengths[index])].tolist(),
                word_bounds[index, : int(word_bounds_lengths[index])].tolist(),
                flags,
                num_frames,
                float(speech_lengths[index]) / num_frames,
            )
        )
    return spans


def frame_targets(
    spans: Spans,
    text_ctc: torch.Tensor,
    encoder_lengths: torch.Tensor,
    blank_id: int = 0,
) -> torch.Tensor:
    """The word-aligned CTC path, one target per encoder frame.

    Returns:
        ``(B, T)`` long targets: each token over its span, blank elsewhere;
        :data:`IGNORE_INDEX` past each utterance's frames and everywhere in an
        utterance without spans.
    """
    batch, frames = text_ctc.size(0), int(encoder_lengths.max())
    targets = torch.full((batch, frames), IGNORE_INDEX, dtype=torch.long)
    for index, utterance in enumerate(spans):
        if utterance is None:
            continue
        num_frames = int(encoder_lengths[index])
        targets[index, :num_frames] = blank_id
        for token, (lo, hi) in zip(text_ctc[index].tolist(), utterance, strict=False):
            targets[index, lo : min(hi, num_frames)] = token
    return targets.to(text_ctc.device)
