"""Tiny synthetic multilingual "tone language" corpus for ESPnet S2T.

Every word of three toy languages (``eng``, ``deu``, ``fra``) is spoken as a
short melody of two or three pure tones or chirps. The melody is a
deterministic function of the language and the word, so a tiny model can learn
speech recognition (ASR) in all three languages and word-by-word speech
translation (ST) from ``deu`` and ``fra`` to English within a couple of minutes
of CPU training.

The corpus is written as Kaldi-style data directories in the layout of
ESPnet's ``s2t1`` recipes (``wav.scp``, ``text``, ``text_prev``, ``text_ctc``,
``utt2spk``, ``spk2utt``, ``utt2num_samples``) together with a sentencepiece
model and an S2T token list (``<blank>``, ``<unk>``, the special symbols, the
pieces, then ``<sos>``, ``<eos>``, ``<sop>``), so that stock
``espnet2.bin.s2t_train`` and ``espnet2.bin.s2t_inference`` work on it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from espnet_dynprune.data import token_list

__all__ = [
    "CONCEPTS",
    "DEFAULT_NUM_DEV",
    "DEFAULT_NUM_TEST",
    "DEFAULT_NUM_TRAIN",
    "LANGUAGES",
    "LEXICON",
    "NA_SYMBOL",
    "NOTIME_SYMBOL",
    "SAMPLE_RATE",
    "SPEECH_LENGTH",
    "SPEECH_RESOLUTION",
    "SPLITS",
    "TASK_PAIRS",
    "ToyCorpus",
    "ToyUtterance",
    "build_token_list",
    "make_toy_corpus",
    "make_toy_data",
    "render_utterance",
    "s2t_text",
    "s2t_train_args",
    "sample_utterances",
    "special_symbols",
    "time_symbols",
    "translate",
    "word_melody",
    "write_data_dir",
]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Sampling rate of the toy audio in Hz."""

SPEECH_LENGTH = 1.5
"""Seconds every utterance is padded to (S2T ``speech_length``); all fit in it."""

SPEECH_RESOLUTION = 0.02
"""Seconds per timestamp token, as in OWSM (S2T ``speech_resolution``)."""

LANGUAGES: tuple[str, ...] = ("eng", "deu", "fra")
"""Toy languages, as ISO 639-3 codes."""

CONCEPTS: tuple[str, ...] = (
    "one",
    "two",
    "three",
    "house",
    "water",
    "dog",
    "cat",
    "red",
    "green",
    "big",
    "small",
    "good",
)
"""The English words; every language has exactly one word per concept."""

LEXICON: dict[str, tuple[str, ...]] = {
    "eng": CONCEPTS,
    "deu": (
        "eins",
        "zwei",
        "drei",
        "haus",
        "wasser",
        "hund",
        "katze",
        "rot",
        "gruen",
        "gross",
        "klein",
        "gut",
    ),
    "fra": (
        "un",
        "deux",
        "trois",
        "maison",
        "eau",
        "chien",
        "chat",
        "rouge",
        "vert",
        "grand",
        "petit",
        "bon",
    ),
}
"""Words of each language, aligned with :data:`CONCEPTS` (its translation)."""

TASK_PAIRS: tuple[tuple[str, str], ...] = (
    ("eng", "asr"),
    ("deu", "asr"),
    ("fra", "asr"),
    ("deu", "st_eng"),
    ("fra", "st_eng"),
)
"""(source language, task) pairs of the corpus, used in turn."""

SPLITS: tuple[str, ...] = ("train", "dev", "test")
"""Names of the data directories written by :func:`make_toy_data`."""

DEFAULT_NUM_TRAIN = 2000
DEFAULT_NUM_DEV = 50
DEFAULT_NUM_TEST = 50

NOTIME_SYMBOL = "<notimestamps>"
NA_SYMBOL = "<na>"

# Audio design: tone frequencies lie on a grid with a ratio of 1.25 between
# neighbours (about 4 semitones), far wider than the speaker pitch shift, so
# 40 log-mel bands separate every word well.
_BASE_FREQ = 250.0
_FREQ_RATIO = 1.25
_NUM_FREQS = 12
_GLIDES = (0.9, 1.0, 1.1)
_TONE_SECONDS = 0.06
_FADE_SECONDS = 0.01
_WORD_GAP_SECONDS = (0.03, 0.06)
_EDGE_SILENCE_SECONDS = (0.05, 0.1)
_SPEAKER_SCALES = {"spk1": 0.96, "spk2": 0.99, "spk3": 1.02, "spk4": 1.05}
_NOISE_STD = 0.003
_MIN_WORDS = 2
_MAX_WORDS = 5


@dataclass(frozen=True)
class ToyUtterance:
    """One utterance of the toy corpus.

    Attributes:
        utt_id: Kaldi utterance id, prefixed by the speaker id.
        speaker: Speaker id; it sets a small pitch shift.
        lang: Source language (spoken language).
        task: ``asr`` or ``st_eng``.
        words: Spoken (source-language) words.
    """

    utt_id: str
    speaker: str
    lang: str
    task: str
    words: tuple[str, ...]

    @property
    def target_words(self) -> tuple[str, ...]:
        """Words of the reference output: the source words or their translation."""
        if self.task == "asr":
            return self.words
        return translate(self.words, self.lang)


@dataclass(frozen=True)
class ToyCorpus:
    """Paths of a generated toy corpus.

    Attributes:
        root: Directory holding everything below.
        train_dir: Kaldi-style training data directory.
        dev_dir: Kaldi-style validation data directory.
        test_dir: Kaldi-style test data directory.
        token_list: ESPnet S2T token list (``tokens.txt``).
        bpemodel: Sentencepiece model file.
    """

    root: Path
    train_dir: Path
    dev_dir: Path
    test_dir: Path
    token_list: Path
    bpemodel: Path


def translate(words: tuple[str, ...], lang: str) -> tuple[str, ...]:
    """Translates toy words word by word into English.

    Args:
        words: Words of ``lang``.
        lang: Language of the words.

    Returns:
        The English words, in the same order.
    """
    index = {word: i for i, word in enumerate(LEXICON[lang])}
    return tuple(CONCEPTS[index[word]] for word in words)


def s2t_text(lang: str, task: str, words: tuple[str, ...]) -> str:
    """Formats an S2T target: ``<lang><task><notimestamps> words``.

    Args:
        lang: Source language code, e.g. ``deu``.
        task: Task name, e.g. ``asr`` or ``st_eng``.
        words: Target words.

    Returns:
        The target line without utterance id.
    """
    return f"<{lang}><{task}>{NOTIME_SYMBOL} " + " ".join(words)


def _stable_int(text: str) -> int:
    """Maps a string to a platform-independent 64-bit integer."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _melody_codes() -> dict[tuple[str, str], tuple[tuple[int, int], ...]]:
    """Assigns every (language, word) a distinct melody code.

    A code is a tuple of (frequency index, glide index) pairs. Each word draws
    its code from a generator seeded by a hash of the language and the word,
    drawing again in the rare case that an earlier word already owns the same
    frequency sequence.

    Returns:
        Mapping from (language, word) to its code.
    """
    codes: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {}
    used: set[tuple[int, ...]] = set()
    for lang in LANGUAGES:
        for word in LEXICON[lang]:
            rng = np.random.default_rng(_stable_int(f"{lang}:{word}"))
            while True:
                num_tones = int(rng.integers(2, 4))
                freqs = [int(rng.integers(_NUM_FREQS))]
                while len(freqs) < num_tones:
                    step = int(rng.integers(1, _NUM_FREQS))
                    freqs.append((freqs[-1] + step) % _NUM_FREQS)
                if tuple(freqs) not in used:
                    break
            used.add(tuple(freqs))
            glides = rng.integers(len(_GLIDES), size=num_tones)
            codes[lang, word] = tuple(zip(freqs, (int(g) for g in glides), strict=True))
    return codes


_CODES = _melody_codes()


def word_melody(lang: str, word: str) -> tuple[tuple[float, float], ...]:
    """Returns the tones that render a word.

    Args:
        lang: Language of the word.
        word: A word of :data:`LEXICON` ``[lang]``.

    Returns:
        One (start frequency, end frequency) pair in Hz per tone; a tone whose
        two frequencies differ is a linear chirp.
    """
    tones = []
    for freq_index, glide_index in _CODES[lang, word]:
        start = _BASE_FREQ * _FREQ_RATIO**freq_index
        tones.append((start, start * _GLIDES[glide_index]))
    return tuple(tones)


def _tone(
    start_hz: float, end_hz: float, seconds: float, amplitude: float
) -> np.ndarray:
    """Synthesizes a faded, phase-continuous linear chirp."""
    num = int(round(seconds * SAMPLE_RATE))
    freqs = np.linspace(start_hz, end_hz, num)
    phase = 2.0 * np.pi * np.cumsum(freqs) / SAMPLE_RATE
    envelope = np.ones(num)
    fade = int(_FADE_SECONDS * SAMPLE_RATE)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    envelope[:fade] = ramp
    envelope[-fade:] = ramp[::-1]
    return amplitude * envelope * np.sin(phase)


def _silence(bounds: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Returns silence of a random duration between ``bounds`` seconds."""
    return np.zeros(int(rng.uniform(*bounds) * SAMPLE_RATE))


def render_utterance(utt: ToyUtterance, rng: np.random.Generator) -> np.ndarray:
    """Renders an utterance as audio.

    Each word becomes its melody (see :func:`word_melody`), shifted by the
    speaker's pitch scale, with random tone lengths (+-10 %) and loudness;
    words are separated by short silences, and weak white noise covers all.

    Args:
        utt: The utterance.
        rng: Generator for the random variation.

    Returns:
        Float audio in [-1, 1] at :data:`SAMPLE_RATE`, shorter than
        :data:`SPEECH_LENGTH` seconds.
    """
    scale = _SPEAKER_SCALES[utt.speaker]
    pieces = [_silence(_EDGE_SILENCE_SECONDS, rng)]
    for i, word in enumerate(utt.words):
        if i > 0:
            pieces.append(_silence(_WORD_GAP_SECONDS, rng))
        for start_hz, end_hz in word_melody(utt.lang, word):
            seconds = _TONE_SECONDS * rng.uniform(0.9, 1.1)
            amplitude = rng.uniform(0.3, 0.5)
            pieces.append(_tone(start_hz * scale, end_hz * scale, seconds, amplitude))
    pieces.append(_silence(_EDGE_SILENCE_SECONDS, rng))
    audio = np.concatenate(pieces)
    audio += rng.normal(0.0, _NOISE_STD, size=audio.shape)
    return np.clip(audio, -1.0, 1.0)


def sample_utterances(
    split: str,
    num: int,
    rng: np.random.Generator,
    exclude: set[tuple[str, tuple[str, ...]]] | None = None,
) -> list[ToyUtterance]:
    """Draws the sentences of one split.

    The (language, task) pairs of :data:`TASK_PAIRS` are used in turn, so every
    pair gets the same share; speakers and words are random, and no word occurs
    twice in a sentence.

    Args:
        split: Split name, part of the utterance ids.
        num: Number of utterances.
        rng: Generator for speakers and words.
        exclude: If given, (language, words) sentences not to draw, e.g.
            those of the training set; the sentences drawn here are added to
            it, so they are also unique within the split. If ``None``,
            sentences may repeat.

    Returns:
        The utterances, sorted by utterance id.
    """
    speakers = sorted(_SPEAKER_SCALES)
    utts = []
    for index in range(num):
        lang, task = TASK_PAIRS[index % len(TASK_PAIRS)]
        while True:
            num_words = int(rng.integers(_MIN_WORDS, _MAX_WORDS + 1))
            chosen = rng.choice(len(CONCEPTS), size=num_words, replace=False)
            words = tuple(LEXICON[lang][i] for i in chosen)
            if exclude is None or (lang, words) not in exclude:
                break
        if exclude is not None:
            exclude.add((lang, words))
        speaker = speakers[int(rng.integers(len(speakers)))]
        utt_id = f"{speaker}-{split}-{index:05d}"
        utts.append(ToyUtterance(utt_id, speaker, lang, task, words))
    return sorted(utts, key=lambda utt: utt.utt_id)


def _write_lines(path: Path, lines: list[str]) -> None:
    """Writes lines, each terminated by a newline."""
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def write_data_dir(data_dir: Path, utts: list[ToyUtterance], seed: int) -> None:
    """Renders utterances and writes them as a Kaldi-style S2T data directory.

    Audio goes to ``data_dir/wav/<utt_id>.wav`` (16-bit PCM); ``wav.scp`` holds
    absolute paths. ``text`` holds the S2T target, ``text_prev`` ``<na>`` and
    ``text_ctc`` the spoken words.

    Args:
        data_dir: Directory to create.
        utts: Utterances sorted by id.
        seed: Seed of the audio randomness; each utterance gets its own
            generator derived from the seed and its id.
    """
    wav_dir = data_dir / "wav"
    wav_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {
        name: []
        for name in (
            "wav.scp",
            "text",
            "text_prev",
            "text_ctc",
            "utt2spk",
            "utt2num_samples",
        )
    }
    spk2utt: dict[str, list[str]] = {}
    for utt in tqdm(utts, desc=f"render {data_dir.name}", disable=None):
        rng = np.random.default_rng([seed, _stable_int(utt.utt_id)])
        audio = render_utterance(utt, rng)
        wav_path = (wav_dir / f"{utt.utt_id}.wav").resolve()
        sf.write(wav_path, audio, SAMPLE_RATE, subtype="PCM_16")
        files["wav.scp"].append(f"{utt.utt_id} {wav_path}")
        files["text"].append(
            f"{utt.utt_id} {s2t_text(utt.lang, utt.task, utt.target_words)}"
        )
        files["text_prev"].append(f"{utt.utt_id} {NA_SYMBOL}")
        files["text_ctc"].append(f"{utt.utt_id} " + " ".join(utt.words))
        files["utt2spk"].append(f"{utt.utt_id} {utt.speaker}")
        files["utt2num_samples"].append(f"{utt.utt_id} {len(audio)}")
        spk2utt.setdefault(utt.speaker, []).append(utt.utt_id)
    for name, lines in files.items():
        _write_lines(data_dir / name, lines)
    _write_lines(
        data_dir / "spk2utt",
        [f"{spk} " + " ".join(ids) for spk, ids in sorted(spk2utt.items())],
    )


def make_toy_data(
    out_dir: Path,
    num_train: int = DEFAULT_NUM_TRAIN,
    num_dev: int = DEFAULT_NUM_DEV,
    num_test: int = DEFAULT_NUM_TEST,
    seed: int = 0,
) -> dict[str, Path]:
    """Generates the ``train``, ``dev`` and ``test`` data directories.

    Dev and test sentences never occur in train, nor in each other, as
    (language, words) pairs.

    Args:
        out_dir: Output directory.
        num_train: Number of training utterances.
        num_dev: Number of validation utterances.
        num_test: Number of test utterances.
        seed: Seed; the same seed gives identical files.

    Returns:
        Mapping from split name to data directory.
    """
    rng = np.random.default_rng(seed)
    sizes = {"train": num_train, "dev": num_dev, "test": num_test}
    exclude: set[tuple[str, tuple[str, ...]]] | None = None
    dirs = {}
    for split in SPLITS:
        utts = sample_utterances(split, sizes[split], rng, exclude)
        if exclude is None:
            exclude = {(utt.lang, utt.words) for utt in utts}
        dirs[split] = out_dir / split
        write_data_dir(dirs[split], utts, seed)
        logger.info("Wrote %d utterances to %s", len(utts), dirs[split])
    return dirs


def time_symbols(
    speech_length: float = SPEECH_LENGTH, resolution: float = SPEECH_RESOLUTION
) -> list[str]:
    """Lists the timestamp tokens ``<0.00>`` ... ``<speech_length>``."""
    return token_list.time_symbols(speech_length, resolution)


def special_symbols() -> list[str]:
    """Lists the S2T special symbols that the tokenizer keeps whole.

    The order follows OWSM's token lists: ``<na>``, ``<nolang>``, languages,
    tasks, ``<notimestamps>``, timestamps. ``<blank>``, ``<unk>``, ``<sos>``,
    ``<eos>`` and ``<sop>`` are added by :func:`build_token_list`.

    Returns:
        The symbols.
    """
    tasks = sorted({task for _, task in TASK_PAIRS})
    return [
        NA_SYMBOL,
        "<nolang>",
        *(f"<{lang}>" for lang in sorted(LANGUAGES)),
        *(f"<{task}>" for task in tasks),
        NOTIME_SYMBOL,
        *time_symbols(),
    ]


def build_token_list(
    train_dir: Path, out_dir: Path, nbpe: int = 60
) -> tuple[Path, Path]:
    """Trains the sentencepiece model and writes the ESPnet S2T token list.

    See :func:`espnet_dynprune.data.token_list.build_token_list`; the timestamps
    cover the toy ``SPEECH_LENGTH``.

    Args:
        train_dir: Training data directory.
        out_dir: Output directory for ``bpe.model`` and ``tokens.txt``.
        nbpe: Number of pieces besides the special symbols (an upper bound).

    Returns:
        Paths of the token list and of the sentencepiece model.
    """
    return token_list.build_token_list(
        train_dir, out_dir, nbpe, SPEECH_LENGTH, SPEECH_RESOLUTION
    )


def make_toy_corpus(
    out_dir: Path,
    num_train: int = DEFAULT_NUM_TRAIN,
    num_dev: int = DEFAULT_NUM_DEV,
    num_test: int = DEFAULT_NUM_TEST,
    seed: int = 0,
    nbpe: int = 60,
) -> ToyCorpus:
    """Generates the data directories and the token list.

    Args:
        out_dir: Output directory; the token files go to ``out_dir/tokens``.
        num_train: Number of training utterances.
        num_dev: Number of validation utterances.
        num_test: Number of test utterances.
        seed: Seed; the same seed gives identical files.
        nbpe: Number of sentencepiece pieces besides the special symbols.

    Returns:
        The corpus paths.
    """
    dirs = make_toy_data(out_dir, num_train, num_dev, num_test, seed)
    token_list, bpemodel = build_token_list(dirs["train"], out_dir / "tokens", nbpe)
    return ToyCorpus(
        root=out_dir,
        train_dir=dirs["train"],
        dev_dir=dirs["dev"],
        test_dir=dirs["test"],
        token_list=token_list,
        bpemodel=bpemodel,
    )


def _data_args(option: str, data_dir: Path) -> list[str]:
    """Builds ``--{train,valid}_data_path_and_name_and_type`` arguments."""
    entries = [
        ("wav.scp", "speech", "sound"),
        ("text", "text", "text"),
        ("text_prev", "text_prev", "text"),
        ("text_ctc", "text_ctc", "text"),
    ]
    args = []
    for file_name, name, kind in entries:
        args += [option, f"{data_dir / file_name},{name},{kind}"]
    return args


def s2t_train_args(
    corpus: ToyCorpus,
    config: Path,
    output_dir: Path,
    max_epoch: int | None = None,
    seed: int = 0,
) -> list[str]:
    """Builds the arguments of ``espnet2.bin.s2t_train`` for the toy corpus.

    ``utt2num_samples`` serves as shape file: with ``batch_type: unsorted``
    (see ``tests/helpers/conf/toy_train_dense.yaml``) ESPnet only reads the
    utterance ids from it, so no collect-stats stage is needed.

    Args:
        corpus: The toy corpus.
        config: Training configuration YAML.
        output_dir: Experiment directory.
        max_epoch: Number of epochs; ``None`` keeps the configuration's.
        seed: Random seed of the trainer.

    Returns:
        The argument list (without the program name).
    """
    args = [
        "--config",
        str(config),
        "--use_preprocessor",
        "true",
        "--token_type",
        "bpe",
        "--token_list",
        str(corpus.token_list),
        "--bpemodel",
        str(corpus.bpemodel),
        *_data_args("--train_data_path_and_name_and_type", corpus.train_dir),
        "--train_shape_file",
        str(corpus.train_dir / "utt2num_samples"),
        *_data_args("--valid_data_path_and_name_and_type", corpus.dev_dir),
        "--valid_shape_file",
        str(corpus.dev_dir / "utt2num_samples"),
        "--output_dir",
        str(output_dir),
        "--ngpu",
        "0",
        "--num_workers",
        "0",
        "--seed",
        str(seed),
    ]
    if max_epoch is not None:
        args += ["--max_epoch", str(max_epoch)]
    return args
