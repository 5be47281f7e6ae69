"""Build the synthetic multilingual S2T corpus: plan, synthesize, write data dirs.

The corpus has ASR in English, German, French, Italian and Spanish and speech
translation from the four others into English, spoken by eSpeak NG voices
(11 variants per language, random rate and pitch), with white, pink or babble
noise at 10 to 30 dB SNR, at 16 kHz.

With ``segment_seconds``, each utterance is a fixed-length segment filled with
consecutive sentences of one speaker (as OWSM's 30-s training segments hold
several sentences), so the speech covers most of the input.

Everything random is drawn from generators seeded by ``seed`` alone, and every
utterance is synthesized and augmented independently of the others, so the
same seed gives identical texts and identical audio bytes, whatever ``nj``.
Dev and test sentences never occur in training: a sentence (its English
meaning) belongs to one split, fixed by a hash of its English text.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from espnet_dynprune.data.kaldi_dir import KaldiEntry, write_data_dir
from espnet_dynprune.data.languages import (
    ENGLISH,
    ESPEAK_VOICES,
    LANGUAGES,
    VOICE_VARIANTS,
    TaskPair,
    check_languages,
    task_pairs,
)
from espnet_dynprune.data.synth.augment import (
    NOISE_KINDS,
    loud_span,
    make_babble_bank,
    make_noise,
    mix_at_snr,
    pcm_to_float,
    resample,
    scale_to_peak,
)
from espnet_dynprune.data.synth.sentences import render, sample_meaning
from espnet_dynprune.data.synth.tts import (
    Speech,
    SynthesisError,
    Synthesizer,
    VoiceSettings,
    load_synthesizer,
)

__all__ = [
    "SAMPLE_RATE",
    "SIZES",
    "SPLITS",
    "CorpusSize",
    "Sentence",
    "CorpusSummary",
    "UtteranceSpec",
    "held_out_split",
    "make_corpus",
    "parse_size",
    "plan_split",
]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Sampling rate of the corpus audio in Hz."""

SPLITS: tuple[str, ...] = ("train", "dev", "test")
"""Data directories written by :func:`make_corpus` (besides per-pair test sets)."""


@dataclass(frozen=True)
class CorpusSize:
    """Number of utterances.

    Attributes:
        train: Training utterances in all, spread evenly over the task pairs.
        dev_per_pair: Validation utterances per (language, task) pair.
        test_per_pair: Test utterances per (language, task) pair.
    """

    train: int
    dev_per_pair: int
    test_per_pair: int


SIZES: dict[str, CorpusSize] = {
    "quick": CorpusSize(train=600, dev_per_pair=10, test_per_pair=20),
    "default": CorpusSize(train=6000, dev_per_pair=30, test_per_pair=60),
}
"""Named sizes: ``quick`` for smoke tests, ``default`` for the recipe."""

_RATE_RANGE = (125, 185)
"""Speaking rate in words per minute (eSpeak NG's default is 175)."""
_PITCH_RANGE = (30, 70)
_SNR_RANGE = (10.0, 30.0)
_PEAK_RANGE = (0.25, 0.9)
_PAD_RANGE = (0.1, 0.35)
"""Seconds of (noisy) silence before and after the speech, and between sentences."""
_SENTENCE_CANDIDATES = 5
"""Sentences drawn for each fixed-length segment; those that fit are spoken."""
_MIN_SENTENCE_SAMPLES = 16000
"""A segment with less room left than this (1 s) takes no further sentence."""
_MAX_SEED = 2**31 - 1
_MIN_SOURCE_CHARS = 25
"""Shorter sentences (``wo ist der hund``) last under about 1.5 s: skipped."""
_NUM_BABBLE_CLIPS = 24
_MAX_DRAWS = 100_000
_HELD_OUT_BUCKETS = 20
"""1 in 20 sentences is reserved for test, 1 in 20 for dev."""
_SPLIT_SEED = {"train": 0, "dev": 1, "test": 2, "babble": 3}


def parse_size(text: str) -> CorpusSize:
    """Parses ``quick``, ``default`` or a number N of training utterances.

    For N, dev and test get N/120 and N/60 utterances per pair (at least 2).

    Raises:
        ValueError: For anything else.
    """
    if text in SIZES:
        return SIZES[text]
    if text.isdigit() and int(text) > 0:
        train = int(text)
        return CorpusSize(train, max(2, train // 120), max(2, train // 60))
    raise ValueError(
        f"size must be {', '.join(SIZES)} or a positive integer, not {text!r}"
    )


def held_out_split(english: str) -> str:
    """The split a sentence belongs to, from a hash of its English text."""
    digest = hashlib.md5(english.encode(), usedforsecurity=False).hexdigest()
    bucket = int(digest, 16) % _HELD_OUT_BUCKETS
    return {0: "test", 1: "dev"}.get(bucket, "train")


@dataclass(frozen=True)
class Sentence:
    """One sentence of an utterance.

    Attributes:
        source: Spoken text.
        target: Target text (``source`` for ASR, English for ST).
        pause_seconds: Silence before it when it follows another sentence.
    """

    source: str
    target: str
    pause_seconds: float


@dataclass(frozen=True)
class UtteranceSpec:
    """Everything needed to render one utterance.

    Attributes:
        utt_id: Kaldi utterance id (speaker id first).
        split: ``train``, ``dev`` or ``test``.
        pair: Source language and task.
        speaker: Speaker id, ``<lang>_<variant>``.
        sentences: The first is always spoken; with fixed-length segments, each
            further one is spoken if it still fits (in order).
        voice: eSpeak NG voice, rate and pitch.
        seed: Seed of eSpeak NG and of the noise.
        noise: One of :data:`~espnet_dynprune.data.synth.augment.NOISE_KINDS`.
        snr_db: Signal-to-noise ratio of the added noise.
        peak: Peak amplitude of the result, a fraction of full scale.
        pad_seconds: Silence added before and after the speech.
    """

    utt_id: str
    split: str
    pair: TaskPair
    speaker: str
    sentences: tuple[Sentence, ...]
    voice: VoiceSettings
    seed: int
    noise: str
    snr_db: float
    peak: float
    pad_seconds: tuple[float, float]


@dataclass
class CorpusSummary:
    """What :func:`make_corpus` produced.

    Attributes:
        out: Output directory.
        synthesizer: The eSpeak NG backend used.
        num_utterances: Split name to number of utterances.
        seconds: Split name to total audio duration in seconds.
        wall_seconds: Time the generation took.
    """

    out: Path
    synthesizer: str
    num_utterances: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0


def _counts(total: int, num_pairs: int) -> list[int]:
    """Spreads ``total`` over ``num_pairs`` as evenly as possible."""
    return [total // num_pairs + (i < total % num_pairs) for i in range(num_pairs)]


def _voice(rng: np.random.Generator, lang: str) -> tuple[str, VoiceSettings]:
    """Draws a speaker (voice variant), a speaking rate and a pitch."""
    variant = VOICE_VARIANTS[int(rng.integers(len(VOICE_VARIANTS)))]
    settings = VoiceSettings(
        voice=f"{ESPEAK_VOICES[lang]}+{variant}",
        rate=int(rng.integers(_RATE_RANGE[0], _RATE_RANGE[1] + 1)),
        pitch=int(rng.integers(_PITCH_RANGE[0], _PITCH_RANGE[1] + 1)),
    )
    return f"{lang}_{variant}", settings


def _draw_sentence(
    rng: np.random.Generator,
    split: str,
    pair: TaskPair,
    used: set[tuple[str, str]],
) -> Sentence:
    """A sentence of ``split`` (:func:`held_out_split`), long enough and not
    used yet by the same language in this split."""
    for _ in range(_MAX_DRAWS):
        meaning = sample_meaning(rng)
        english = render(meaning, ENGLISH)
        source = render(meaning, pair.lang)
        if (
            len(source) >= _MIN_SOURCE_CHARS
            and held_out_split(english) == split
            and (pair.lang, source) not in used
        ):
            used.add((pair.lang, source))
            return Sentence(
                source=source,
                target=source if pair.task == "asr" else english,
                pause_seconds=round(float(rng.uniform(*_PAD_RANGE)), 3),
            )
    raise RuntimeError(f"no new {pair.lang} sentence for {split} found")


def plan_split(
    split: str,
    pairs: tuple[TaskPair, ...],
    counts: list[int],
    seed: int,
    sentences_per_utterance: int = 1,
) -> list[UtteranceSpec]:
    """Draws the utterances of one split.

    Args:
        split: ``train``, ``dev`` or ``test``.
        pairs: (language, task) pairs.
        counts: Number of utterances of each pair.
        seed: Corpus seed; each split has its own generator.
        sentences_per_utterance: Sentences drawn per utterance (candidates for
            a fixed-length segment; only the first is spoken otherwise).

    Returns:
        The specifications, in order of their ids.
    """
    rng = np.random.default_rng([seed, _SPLIT_SEED[split]])
    used: set[tuple[str, str]] = set()
    specs = []
    for pair, count in zip(pairs, counts, strict=True):
        for _ in range(count):
            sentences = tuple(
                _draw_sentence(rng, split, pair, used)
                for _ in range(sentences_per_utterance)
            )
            speaker, voice = _voice(rng, pair.lang)
            lead, trail = rng.uniform(*_PAD_RANGE, size=2).round(3)
            specs.append(
                UtteranceSpec(
                    utt_id=f"{speaker}-{split}-{pair.name}-{len(specs):06d}",
                    split=split,
                    pair=pair,
                    speaker=speaker,
                    sentences=sentences,
                    voice=voice,
                    seed=int(rng.integers(_MAX_SEED)),
                    noise=NOISE_KINDS[int(rng.integers(len(NOISE_KINDS)))],
                    snr_db=round(float(rng.uniform(*_SNR_RANGE)), 1),
                    peak=round(float(rng.uniform(*_PEAK_RANGE)), 3),
                    pad_seconds=(float(lead), float(trail)),
                )
            )
    return specs


def _clean_speech(
    synthesizer: Synthesizer, text: str, voice: VoiceSettings, seed: int
) -> Speech:
    """Synthesizes, trims the edges and resamples to :data:`SAMPLE_RATE`; word
    onsets follow the trimming and resampling."""
    speech = synthesizer.synthesize(text, voice, seed)
    samples = pcm_to_float(speech.samples)
    span = loud_span(samples)
    samples = resample(samples[span], synthesizer.sample_rate, SAMPLE_RATE)
    onsets = None
    if speech.word_onsets is not None:
        scale = SAMPLE_RATE / synthesizer.sample_rate
        onsets = tuple(
            min(max(round((onset - span.start) * scale), 0), samples.size - 1)
            for onset in speech.word_onsets
        )
    return Speech(samples, onsets)


def _word_bounds(speech: Speech, offset: int) -> list[int] | None:
    """(start, end) sample pairs of the words of ``speech`` placed at ``offset``:
    each word ends where the next starts, the last one with the speech."""
    if speech.word_onsets is None:
        return None
    ends = speech.word_onsets[1:] + (speech.samples.size,)
    return [
        offset + sample
        for onset, end in zip(speech.word_onsets, ends, strict=True)
        for sample in (onset, end)
    ]


def _babble_bank(
    synthesizer: Synthesizer, langs: tuple[str, ...], seed: int
) -> np.ndarray:
    """Babble noise mixed from utterances of the corpus languages."""
    rng = np.random.default_rng([seed, _SPLIT_SEED["babble"]])
    clips = []
    for _ in range(_NUM_BABBLE_CLIPS):
        lang = langs[int(rng.integers(len(langs)))]
        text = render(sample_meaning(rng), lang)
        _, voice = _voice(rng, lang)
        clips.append(
            _clean_speech(
                synthesizer, text, voice, int(rng.integers(_MAX_SEED))
            ).samples
        )
    return make_babble_bank(clips, rng)


_worker: dict = {}
"""Synthesizer, babble bank and segment length of the rendering processes: set in
the parent, inherited by the forked workers (the library backend cannot be
pickled)."""


def _speak(
    spec: UtteranceSpec, room: int | None
) -> tuple[np.ndarray, tuple[int, ...], list[int] | None]:
    """The speech of ``spec``'s first sentence, then of each further one (after
    its pause) that fits in ``room`` samples (``None``: the first one only);
    which sentences were spoken; and the words' (start, end) samples, if eSpeak
    NG told where every word starts.

    Raises:
        SynthesisError: eSpeak NG failed, or the first sentence does not fit.
    """
    parts: list[np.ndarray] = []
    spoken: list[int] = []
    bounds: list[int] | None = []
    used = 0
    for index, sentence in enumerate(spec.sentences):
        if index and (room is None or room - used < _MIN_SENTENCE_SAMPLES):
            break  # without a fixed length: one sentence; or the segment is full
        try:
            speech = _clean_speech(
                _worker["synthesizer"],
                sentence.source,
                spec.voice,
                (spec.seed + index) % _MAX_SEED,
            )
        except SynthesisError as error:
            raise SynthesisError(f"utterance {spec.utt_id}: {error}") from error
        pause = round(sentence.pause_seconds * SAMPLE_RATE) if parts else 0
        size = speech.samples.size
        if room is not None and used + pause + size > room:
            if not parts:
                raise SynthesisError(
                    f"utterance {spec.utt_id}: {size / SAMPLE_RATE:.2f} s of "
                    f"speech do not fit in the segment; raise --segment_seconds "
                    "(and the recipe's speech_length with it)"
                )
            continue
        words = _word_bounds(speech, used + pause)
        bounds = None if bounds is None or words is None else bounds + words
        parts += [np.zeros(pause, dtype=speech.samples.dtype), speech.samples]
        spoken.append(index)
        used += pause + size
    return np.concatenate(parts), tuple(spoken), bounds


def _render(
    job: tuple[UtteranceSpec, Path],
) -> tuple[int, tuple[int, ...], tuple[int, ...] | None]:
    """Synthesizes, augments and writes one utterance; returns its length, the
    indices of the sentences spoken and its word bounds (see :func:`_speak`)."""
    spec, path = job
    lead, trail = (round(seconds * SAMPLE_RATE) for seconds in spec.pad_seconds)
    segment = _worker["segment_samples"]
    speech, spoken, bounds = _speak(spec, segment - lead if segment else None)
    length = segment or speech.size + lead + trail
    speech = np.pad(speech, (lead, min(trail, length - lead - speech.size)))
    rng = np.random.default_rng(spec.seed)
    noise = make_noise(spec.noise, length, rng, _worker["babble_bank"])
    samples = scale_to_peak(mix_at_snr(speech, noise, spec.snr_db), spec.peak)
    sf.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
    words = None if bounds is None else tuple(lead + sample for sample in bounds)
    return samples.size, spoken, words


def _render_all(
    specs: list[UtteranceSpec], paths: list[Path], nj: int, desc: str
) -> list[tuple[int, tuple[int, ...], tuple[int, ...] | None]]:
    """Renders utterances with ``nj`` processes, in order, with a progress bar."""
    jobs = list(zip(specs, paths, strict=True))
    if nj == 1:
        return [_render(job) for job in tqdm(jobs, desc=desc)]
    with multiprocessing.get_context("fork").Pool(nj) as pool:
        results = pool.imap(_render, jobs, chunksize=8)
        return list(tqdm(results, total=len(jobs), desc=desc))


def make_corpus(
    out: Path,
    size: CorpusSize,
    seed: int = 0,
    nj: int = 1,
    langs: tuple[str, ...] = LANGUAGES,
    segment_seconds: float | None = None,
) -> CorpusSummary:
    """Generates the corpus under ``out``.

    Writes ``out/{train,dev,test}`` and ``out/test_<lang>_<task>`` (Kaldi-style
    data directories, see :mod:`espnet_dynprune.data.kaldi_dir`) and the
    audio as 16-bit PCM WAV files under ``out/wav/<split>/``. Paths in
    ``wav.scp`` start with ``out`` as given (relative stays relative). Audio of
    an earlier run in ``out/wav`` is removed first.

    Args:
        out: Output directory.
        size: Number of utterances.
        seed: Seed of everything random.
        nj: Number of parallel processes.
        langs: Source languages (ISO 639-3).
        segment_seconds: If set, every utterance is a segment of exactly this
            length: a leading pause, as many consecutive sentences of its
            speaker as fit (of :data:`_SENTENCE_CANDIDATES` drawn), then noise
            to the end. An S2T model pads every input to ``speech_length``
            seconds; filled segments give CTC and attention little silence to
            search (one short sentence in 5 s kept CTC on its blank plateau),
            and noise instead of digital silence, whose log-mel floor would
            dominate utterance-level normalisation.

    Returns:
        Counts, durations and timing.

    Raises:
        ValueError: For an unknown language, ``nj`` < 1 or ``segment_seconds``
            <= 0.
        SynthesisError: If an utterance does not fit in ``segment_seconds``.
        EspeakNotFoundError: If eSpeak NG is not installed.
    """
    start = time.perf_counter()
    langs = check_languages(langs)
    if nj < 1:
        raise ValueError(f"nj must be at least 1, not {nj}")
    if segment_seconds is not None and segment_seconds <= 0:
        raise ValueError(f"segment_seconds must be positive, not {segment_seconds}")
    pairs = task_pairs(langs)
    synthesizer = load_synthesizer()
    logger.info("eSpeak NG: %s", synthesizer.description)
    synthesizer.check_voices(
        f"{ESPEAK_VOICES[lang]}+{variant}"
        for lang in langs
        for variant in VOICE_VARIANTS
    )
    counts = {
        "train": _counts(size.train, len(pairs)),
        "dev": [size.dev_per_pair] * len(pairs),
        "test": [size.test_per_pair] * len(pairs),
    }
    per_utterance = _SENTENCE_CANDIDATES if segment_seconds else 1
    plans = {
        split: plan_split(split, pairs, counts[split], seed, per_utterance)
        for split in SPLITS
    }
    _worker["synthesizer"] = synthesizer
    _worker["segment_samples"] = round((segment_seconds or 0) * SAMPLE_RATE)
    _worker["babble_bank"] = _babble_bank(synthesizer, langs, seed)

    summary = CorpusSummary(out=out, synthesizer=synthesizer.description)
    for split, specs in plans.items():
        wav_dir = out / "wav" / split
        if wav_dir.exists():
            shutil.rmtree(wav_dir)
        wav_dir.mkdir(parents=True)
        paths = [wav_dir / f"{spec.utt_id}.wav" for spec in specs]
        rendered = _render_all(specs, paths, nj, desc=f"synthesize {split}")
        entries = [
            KaldiEntry(
                utt_id=spec.utt_id,
                speaker=spec.speaker,
                wav_path=str(path),
                num_samples=length,
                pair=spec.pair,
                target=" ".join(spec.sentences[i].target for i in spoken),
                source=" ".join(spec.sentences[i].source for i in spoken),
                word_bounds=words,
            )
            for spec, path, (length, spoken, words) in zip(
                specs, paths, rendered, strict=True
            )
        ]
        lengths = [length for length, _, _ in rendered]
        sentences = sum(len(spoken) for _, spoken, _ in rendered)
        write_data_dir(out / split, entries)
        if split == "test":
            for pair in pairs:
                subset = [entry for entry in entries if entry.pair == pair]
                write_data_dir(out / f"test_{pair.name}", subset)
        summary.num_utterances[split] = len(entries)
        summary.seconds[split] = sum(lengths) / SAMPLE_RATE
        logger.info(
            "%s: %d utterances, %d sentences, %.2f h",
            split,
            len(entries),
            sentences,
            summary.seconds[split] / 3600,
        )
    summary.wall_seconds = time.perf_counter() - start
    return summary
