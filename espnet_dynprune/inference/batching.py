"""Batches of utterances with different gates: one encoder pass per gate mask.

A batch whose rows disagree on a gate runs that module on the open rows only
(``ROWS`` in ``espnet_dynprune.nets.gate_contract``): correct, but every such
module gathers and scatters rows. Grouping the utterances by their whole mask
instead runs each group as an ordinary batch under one mask, where every decision is
``OPEN`` or ``CLOSED`` and closed modules cost nothing. In context-only mode the
mask is a function of (language, task), so a group is a context.
"""

from collections.abc import Callable

import torch

__all__ = ["encode_grouped", "group_rows"]

EncodeFn = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]
]


def group_rows(masks: torch.Tensor) -> list[torch.Tensor]:
    """Row indices of a ``(B, L, M)`` gate tensor, one group per distinct mask.

    Groups are in order of first appearance, rows ascending within a group.
    """
    groups: dict[tuple[bool, ...], list[int]] = {}
    for row, key in enumerate((masks > 0.5).flatten(1).tolist()):
        groups.setdefault(tuple(key), []).append(row)
    return [torch.tensor(rows, device=masks.device) for rows in groups.values()]


def encode_grouped(
    encode: EncodeFn,
    speech: torch.Tensor,
    speech_lengths: torch.Tensor,
    masks: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encode a batch group by group, each group under its own ``(1, L, M)`` mask.

    Args:
        encode: ``encode(speech, lengths, mask)`` of one group, returning the
            ``(N, T, D)`` encoder output and its ``(N,)`` lengths.
        speech: ``(B, S)`` padded audio.
        speech_lengths: ``(B,)`` samples per utterance.
        masks: ``(B, L, M)`` gates per utterance, 1 = module runs.
    Returns:
        The ``(B, T, D)`` encoder output (zero-padded) and its ``(B,)`` lengths,
        rows in the input order.
    """
    groups = []
    for rows in group_rows(masks):
        group_lengths = speech_lengths[rows]
        group_speech = speech[rows, : int(group_lengths.max())]
        groups.append((rows, *encode(group_speech, group_lengths, masks[rows[:1]])))
    frames = max(enc.size(1) for _, enc, _ in groups)
    first = groups[0][1]
    out = first.new_zeros(speech.size(0), frames, first.size(2))
    out_lengths = groups[0][2].new_zeros(speech.size(0))
    for rows, enc, enc_lengths in groups:
        out[rows, : enc.size(1)] = enc
        out_lengths[rows] = enc_lengths
    return out, out_lengths
