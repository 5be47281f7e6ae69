"""Europarl-ST (v1.1) in its published layout -> Kaldi-style S2T data directories.

The corpus directory holds, per source language ``src`` (ISO 639-1)::

    {root}/{src}/audios/{audio_id}.m4a              # one talk per file
    {root}/{src}/{tgt}/{split}/segments.lst         # "<audio_id> <start> <end>" (s)
    {root}/{src}/{tgt}/{split}/segments.{src}       # transcript, line by line
    {root}/{src}/{tgt}/{split}/segments.{tgt}       # translation, line by line

Each source language gives ASR utterances (target: ``segments.{src}``) and ST
utterances into English (target: ``segments.en``), both from ``{src}/en/``.
Every talk is decoded once (:mod:`espnet_dynprune.data.audio`) and each
segment is written as 16 kHz 16-bit FLAC, so that training reads it with
soundfile like any ESPnet ``sound`` entry. Data directories: ``train`` and
``dev`` (every language and task), ``test_<lang>_<task>`` (e.g.
``test_deu_st_eng``), as in the other recipes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from espnet_dynprune.data.audio import read_compressed_audio
from espnet_dynprune.data.kaldi_dir import KaldiEntry, write_data_dir
from espnet_dynprune.data.languages import ENGLISH, TaskPair

__all__ = [
    "ISO639_3",
    "SPLITS",
    "Segment",
    "prepare_europarl_st",
    "read_split",
]

logger = logging.getLogger(__name__)

ISO639_3: dict[str, str] = {"de": "deu", "fr": "fra", "it": "ita", "es": "spa"}
"""Europarl-ST source languages (ISO 639-1) and their OWSM symbols (639-3)."""

SPLITS: dict[str, str] = {"train": "train", "dev": "dev", "test": "test"}
"""Europarl-ST split -> data directory (``test`` is split per language and task)."""

SAMPLE_RATE = 16000
_TARGET = "en"


@dataclass(frozen=True)
class Segment:
    """One line of ``segments.lst`` with its transcript and translation."""

    audio_id: str
    start: float
    end: float
    transcript: str
    translation: str


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise ValueError(f"{path}: missing (is the Europarl-ST path in db.sh right?)")
    return path.read_text(encoding="utf-8").splitlines()


def read_split(root: Path, src: str, split: str) -> list[Segment]:
    """The segments of ``{root}/{src}/en/{split}``.

    Raises:
        ValueError: a missing file, unequal line counts or a malformed line
            (names the file and line).
    """
    directory = root / src / _TARGET / split
    listing = _lines(directory / "segments.lst")
    transcripts = _lines(directory / f"segments.{src}")
    translations = _lines(directory / f"segments.{_TARGET}")
    if not len(listing) == len(transcripts) == len(translations):
        raise ValueError(
            f"{directory}: segments.lst, segments.{src} and segments.{_TARGET} have "
            f"{len(listing)}, {len(transcripts)} and {len(translations)} lines"
        )
    segments = []
    for number, line in enumerate(listing, 1):
        fields = line.split()
        try:
            audio_id, start, end = fields[0], float(fields[1]), float(fields[2])
        except (IndexError, ValueError) as error:
            raise ValueError(
                f"{directory / 'segments.lst'}:{number}: expected "
                f"'<audio_id> <start> <end>', got {line!r}"
            ) from error
        if not 0 <= start < end:
            raise ValueError(
                f"{directory / 'segments.lst'}:{number}: bad times {start} {end}"
            )
        segments.append(
            Segment(
                audio_id,
                start,
                end,
                " ".join(transcripts[number - 1].split()),
                " ".join(translations[number - 1].split()),
            )
        )
    return segments


def _write_segments(
    root: Path, src: str, segments: Sequence[Segment], wav_dir: Path
) -> dict[Segment, tuple[Path, int]]:
    """Decode each talk once; write every segment as FLAC; (path, samples) each."""
    written: dict[Segment, tuple[Path, int]] = {}
    by_talk: dict[str, list[Segment]] = {}
    for segment in segments:
        by_talk.setdefault(segment.audio_id, []).append(segment)
    for audio_id, talk_segments in sorted(by_talk.items()):
        out_dir = wav_dir / src / audio_id
        pending = [s for s in talk_segments if not _flac(out_dir, s).is_file()]
        audio = None
        if pending:
            audio = read_compressed_audio(
                root / src / "audios" / f"{audio_id}.m4a", SAMPLE_RATE
            )
            out_dir.mkdir(parents=True, exist_ok=True)
        for segment in talk_segments:
            path = _flac(out_dir, segment)
            if segment in pending:
                begin = int(round(segment.start * SAMPLE_RATE))
                clip = audio[begin : int(round(segment.end * SAMPLE_RATE))]
                if clip.size == 0:
                    raise ValueError(
                        f"{root / src / 'audios' / audio_id}.m4a: segment "
                        f"{segment.start}-{segment.end} s is past the end of the "
                        f"audio ({len(audio) / SAMPLE_RATE:.2f} s)"
                    )
                tmp = path.with_name(f".{path.name}")
                sf.write(tmp, clip, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
                tmp.replace(path)
            written[segment] = (path.resolve(), sf.info(path).frames)
    return written


def _flac(out_dir: Path, segment: Segment) -> Path:
    start, end = round(segment.start * 100), round(segment.end * 100)
    return out_dir / f"{start:07d}_{end:07d}.flac"


def _pair(src: str, task: str) -> TaskPair:
    """``deu`` + ``asr`` or ``deu`` + ``st_eng`` for ``de`` and a task."""
    return TaskPair(ISO639_3[src], "asr" if task == "asr" else f"st_{ENGLISH}")


def _entries(
    src: str,
    segments: Iterable[Segment],
    audio: dict[Segment, tuple[Path, int]],
    tasks: Sequence[str],
) -> list[KaldiEntry]:
    entries = []
    for segment in segments:
        path, samples = audio[segment]
        start, end = round(segment.start * 100), round(segment.end * 100)
        for task in tasks:
            target = segment.transcript if task == "asr" else segment.translation
            entries.append(
                KaldiEntry(
                    utt_id=f"{segment.audio_id}-{start:07d}-{end:07d}-{task}",
                    speaker=segment.audio_id,
                    wav_path=str(path),
                    num_samples=samples,
                    pair=_pair(src, task),
                    target=target,
                    source=segment.transcript,
                )
            )
    return entries


def prepare_europarl_st(
    root: Path,
    out_dir: Path,
    langs: Sequence[str] = ("de", "fr", "it"),
    tasks: Sequence[str] = ("asr", "st"),
) -> dict[str, int]:
    """Write ``train``, ``dev`` and ``test_<lang>_<task>`` under ``out_dir``.

    Args:
        root: the Europarl-ST directory (``EUROPARL_ST`` in ``db.sh``).
        out_dir: data directory; segment audio goes to ``out_dir/wav``.
        langs: source languages, ISO 639-1 (keys of :data:`ISO639_3`).
        tasks: ``asr`` and/or ``st`` (translation into English).
    Returns:
        Utterances per written data directory.
    Raises:
        ValueError: an unknown language or task, or a problem with a corpus
            file (the message names it).
    """
    unknown = sorted(set(langs) - set(ISO639_3)) + sorted(set(tasks) - {"asr", "st"})
    if unknown or not langs or not tasks:
        raise ValueError(
            f"languages must be among {sorted(ISO639_3)} and tasks among "
            f"['asr', 'st']; got {list(langs)} and {list(tasks)}"
        )
    dirs: dict[str, list[KaldiEntry]] = {}
    for src in langs:
        for split, name in SPLITS.items():
            segments = read_split(root, src, split)
            audio = _write_segments(root, src, segments, out_dir / "wav")
            logger.info("%s %s: %d segments", src, split, len(segments))
            if split != "test":
                dirs.setdefault(name, []).extend(_entries(src, segments, audio, tasks))
                continue
            for task in tasks:
                name = f"test_{_pair(src, task).name}"
                dirs[name] = _entries(src, segments, audio, [task])
    for name, entries in dirs.items():
        write_data_dir(out_dir / name, entries)
    return {name: len(entries) for name, entries in sorted(dirs.items())}
