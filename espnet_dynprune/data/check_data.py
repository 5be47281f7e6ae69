"""Checks of Kaldi-style S2T data directories before training (recipe stage 2).

Every problem names the file, the line and the utterance, so that the data
stage can be fixed and re-run. Audio must decode as mono at the recipe's rate,
with finite samples, and last between ``min_seconds`` and ``max_seconds`` (the
recipe's ``speech_length``: ESPnet's S2T preprocessor cuts longer audio off).
"""

import re
from pathlib import Path
from typing import Optional

import numpy as np

from espnet_dynprune.data.audio import AudioReadError, read_mono_audio
from espnet_dynprune.data.kaldi_dir import WORD_BOUNDS, word_bounds_problem

__all__ = ["MIN_SECONDS", "check_data_dir"]

MIN_SECONDS = 0.1
"""Default shortest utterance: shorter audio gives the encoder a frame or two."""

_PREFIX = re.compile(r"^<[a-z]{3}><(asr|st_[a-z]{3})>")
REQUIRED = ("wav.scp", "text", "text_prev", "text_ctc")


def _entries(path: Path) -> dict:
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        key, _, value = line.partition(" ")
        if not key:
            raise ValueError(f"{path}:{number}: empty line")
        entries[key] = (number, value.strip())
    return entries


def check_data_dir(
    data_dir: Path,
    sample_rate: int = 16000,
    min_seconds: float = MIN_SECONDS,
    max_seconds: Optional[float] = None,
) -> list[str]:
    """All problems of one data directory (an empty list when it is usable).

    Args:
        data_dir: a Kaldi-style S2T data directory.
        sample_rate: the rate every audio file must have.
        min_seconds: shorter audio is a problem.
        max_seconds: longer audio is a problem (``None``: no limit).
    """
    problems = []
    missing = [name for name in REQUIRED if not (data_dir / name).is_file()]
    if missing:
        return [f"{data_dir}: missing {missing}"]
    files = {name: _entries(data_dir / name) for name in REQUIRED}
    keys = set(files["wav.scp"])
    for name in REQUIRED[1:]:
        if set(files[name]) != keys:
            diff = sorted(keys ^ set(files[name]))[:5]
            problems.append(
                f"{data_dir / name}: utterance ids differ from wav.scp {diff}"
            )
    for key, (number, text) in files["text"].items():
        if not _PREFIX.match(text):
            problems.append(f"{data_dir}/text:{number}: {key}: no <lang><task> prefix")
        elif not _PREFIX.sub("", text).replace("<notimestamps>", "").strip():
            problems.append(f"{data_dir}/text:{number}: {key}: empty transcript")
    for key, (number, text) in files["text_ctc"].items():
        if not text:
            problems.append(f"{data_dir}/text_ctc:{number}: {key}: empty transcript")
    lengths = {}
    for key, (number, path) in files["wav.scp"].items():
        try:
            audio = read_mono_audio(path, sample_rate)
        except AudioReadError as error:
            problems.append(f"{data_dir}/wav.scp:{number}: {key}: {error}")
            continue
        lengths[key] = audio.size
        problem = _audio_problem(audio, sample_rate, min_seconds, max_seconds)
        if problem:
            problems.append(f"{data_dir}/wav.scp:{number}: {key}: {path}: {problem}")
    if (data_dir / WORD_BOUNDS).is_file():
        problems += _word_bound_problems(data_dir, files["text_ctc"], lengths)
    return problems


def _audio_problem(
    audio: np.ndarray,
    sample_rate: int,
    min_seconds: float,
    max_seconds: Optional[float],
) -> Optional[str]:
    """What is wrong with decoded mono audio (``None``: nothing)."""
    bad = int(np.count_nonzero(~np.isfinite(audio)))
    if bad:
        return f"{bad} of {audio.size} samples are NaN or infinite"
    seconds = audio.size / sample_rate
    if audio.size < round(min_seconds * sample_rate):
        return f"{seconds:.3f} s of audio, shorter than --min_seconds {min_seconds:g}"
    if max_seconds is not None and audio.size > round(max_seconds * sample_rate):
        return (
            f"{seconds:.2f} s of audio, longer than --max_seconds {max_seconds:g} "
            "(ESPnet's S2T preprocessor would cut it off)"
        )
    return None


def _word_bound_problems(
    data_dir: Path, transcripts: dict, lengths: dict[str, int]
) -> list[str]:
    """``word_bounds``: per utterance of ``text_ctc``, one ordered (start, end)
    sample pair per word, inside the audio."""
    bounds = _entries(data_dir / WORD_BOUNDS)
    if set(bounds) != set(transcripts):
        diff = sorted(set(bounds) ^ set(transcripts))[:5]
        return [f"{data_dir / WORD_BOUNDS}: utterance ids differ from text_ctc {diff}"]
    problems = []
    for key, (number, value) in bounds.items():
        where = f"{data_dir / WORD_BOUNDS}:{number}: {key}"
        try:
            samples = [int(field) for field in value.split()]
        except ValueError:
            problems.append(f"{where}: not integers")
            continue
        words = len(transcripts[key][1].split())
        problem = word_bounds_problem(samples, words, lengths.get(key))
        if problem:
            problems.append(f"{where}: {problem}")
    return problems
