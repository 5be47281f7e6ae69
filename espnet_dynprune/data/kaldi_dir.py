"""Kaldi-style data directories in the layout of ESPnet's ``s2t1`` recipes.

A directory holds one line per utterance, sorted by utterance id, in
``wav.scp``, ``text`` (S2T target with its ``<lang><task><notimestamps>``
prefix), ``text_prev`` (``<na>``: no previous sentence), ``text_ctc``
(source-language transcript), ``utt2spk``, ``utt2num_samples``, ``utt2lang``
and ``utt2task``, plus ``spk2utt``; and ``word_bounds`` (the first and
end sample of each word of ``text_ctc``, ESPnet ``text_int``) when every
utterance has them.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from espnet_dynprune.data.languages import NA_SYMBOL, TaskPair

__all__ = [
    "DATA_FILES",
    "WORD_BOUNDS",
    "KaldiEntry",
    "word_bounds_problem",
    "write_data_dir",
]

DATA_FILES: tuple[str, ...] = (
    "wav.scp",
    "text",
    "text_prev",
    "text_ctc",
    "utt2spk",
    "spk2utt",
    "utt2num_samples",
    "utt2lang",
    "utt2task",
)
"""Files written by :func:`write_data_dir`."""

WORD_BOUNDS = "word_bounds"
"""Optional file: the word timings of ``model: word_aligned``."""


def word_bounds_problem(
    bounds: Sequence[int], num_words: int, num_samples: int | None
) -> str | None:
    """What is wrong with one utterance's word bounds (``None``: nothing): one
    ordered (start, end) sample pair per word, inside ``num_samples``."""
    if len(bounds) != 2 * num_words:
        return f"{len(bounds)} values for {num_words} words"
    if list(bounds) != sorted(bounds) or min(bounds, default=0) < 0:
        return "bounds out of order"
    if num_samples is not None and bounds[-1] > num_samples:
        return f"bounds past the audio ({num_samples} samples)"
    return None


@dataclass(frozen=True)
class KaldiEntry:
    """One utterance of a data directory.

    Attributes:
        utt_id: Utterance id; it must start with ``speaker`` followed by ``-``.
        speaker: Speaker id.
        wav_path: Path written to ``wav.scp``.
        num_samples: Length of the audio in samples.
        pair: Source language and task.
        target: Target text without prefix (transcript or translation).
        source: Source-language transcript.
        word_bounds: (start, end) sample pairs, flattened, one pair per word of
            ``source``; ``None`` if unknown.
    """

    utt_id: str
    speaker: str
    wav_path: str
    num_samples: int
    pair: TaskPair
    target: str
    source: str
    word_bounds: tuple[int, ...] | None = None


def _check(entry: KaldiEntry) -> None:
    """Raises ``ValueError`` naming the utterance if an entry is unusable."""
    if not entry.target.strip() or not entry.source.strip():
        raise ValueError(f"utterance {entry.utt_id}: empty transcript")
    if not entry.utt_id.startswith(f"{entry.speaker}-"):
        raise ValueError(
            f"utterance {entry.utt_id}: id must start with its speaker {entry.speaker}-"
        )
    for field in (entry.utt_id, entry.speaker, entry.wav_path):
        if not field or any(char.isspace() for char in field):
            raise ValueError(f"utterance {entry.utt_id}: whitespace in {field!r}")
    if "\n" in entry.target or "\n" in entry.source:
        raise ValueError(f"utterance {entry.utt_id}: line break in a transcript")
    if entry.num_samples <= 0:
        raise ValueError(f"utterance {entry.utt_id}: no audio samples")
    problem = None
    if entry.word_bounds is not None:
        problem = word_bounds_problem(
            entry.word_bounds, len(entry.source.split()), entry.num_samples
        )
    if problem:
        raise ValueError(
            f"utterance {entry.utt_id}: word_bounds must be ordered (start, end) "
            f"pairs inside the audio, one per word of the transcript ({problem})"
        )


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Writes lines atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    os.replace(tmp, path)


def write_data_dir(directory: Path, entries: Iterable[KaldiEntry]) -> None:
    """Writes a data directory, validating every entry first.

    Args:
        directory: Created if missing; files of :data:`DATA_FILES` are replaced.
        entries: The utterances, in any order.

    Raises:
        ValueError: On an empty transcript, a duplicate id or another malformed
            entry; the message names the utterance and nothing is written.
    """
    by_id: dict[str, KaldiEntry] = {}
    for entry in entries:
        _check(entry)
        if entry.utt_id in by_id:
            raise ValueError(f"utterance {entry.utt_id}: duplicate id")
        by_id[entry.utt_id] = entry
    ordered = [by_id[utt_id] for utt_id in sorted(by_id)]
    speakers: dict[str, list[str]] = defaultdict(list)
    for entry in ordered:
        speakers[entry.speaker].append(entry.utt_id)

    directory.mkdir(parents=True, exist_ok=True)
    columns = {
        "wav.scp": lambda e: e.wav_path,
        "text": lambda e: f"{e.pair.prefix} {e.target}",
        "text_prev": lambda e: NA_SYMBOL,
        "text_ctc": lambda e: e.source,
        "utt2spk": lambda e: e.speaker,
        "utt2num_samples": lambda e: str(e.num_samples),
        "utt2lang": lambda e: e.pair.lang,
        "utt2task": lambda e: e.pair.task,
    }
    for name, column in columns.items():
        _write_lines(directory / name, (f"{e.utt_id} {column(e)}" for e in ordered))
    bounds = directory / WORD_BOUNDS
    if all(entry.word_bounds is not None for entry in ordered):
        _write_lines(
            bounds,
            (f"{e.utt_id} {' '.join(map(str, e.word_bounds))}" for e in ordered),
        )
    else:
        bounds.unlink(missing_ok=True)
    _write_lines(
        directory / "spk2utt",
        (f"{spk} {' '.join(utts)}" for spk, utts in sorted(speakers.items())),
    )
