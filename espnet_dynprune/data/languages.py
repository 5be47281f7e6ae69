"""Languages, tasks and eSpeak NG voices of the synthetic multilingual corpus.

Languages are named by ISO 639-3 codes, as in OWSM's S2T tokens: a (language,
task) pair such as ``deu`` + ``st_eng`` becomes the target prefix
``<deu><st_eng><notimestamps>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ENGLISH",
    "ESPEAK_VOICES",
    "LANGUAGES",
    "NA_SYMBOL",
    "NOTIME_SYMBOL",
    "NUM2WORDS_CODES",
    "VOICE_VARIANTS",
    "TaskPair",
    "check_languages",
    "task_pairs",
]

ENGLISH = "eng"
"""The target language of every speech translation task."""

LANGUAGES: tuple[str, ...] = ("eng", "deu", "fra", "ita", "spa")
"""Supported source languages (ISO 639-3)."""

ESPEAK_VOICES: dict[str, str] = {
    "eng": "en-us",
    "deu": "de",
    "fra": "fr",
    "ita": "it",
    "spa": "es",
}
"""eSpeak NG voice of each language."""

NUM2WORDS_CODES: dict[str, str] = {
    "eng": "en",
    "deu": "de",
    "fra": "fr",
    "ita": "it",
    "spa": "es",
}
"""``num2words`` language code of each language."""

VOICE_VARIANTS: tuple[str, ...] = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "f1",
    "f2",
    "f3",
    "f4",
)
"""eSpeak NG voice variants (``de+m3``); with the language they form a speaker."""

NOTIME_SYMBOL = "<notimestamps>"
NA_SYMBOL = "<na>"


@dataclass(frozen=True, order=True)
class TaskPair:
    """A source language and a task.

    Attributes:
        lang: Spoken language (ISO 639-3).
        task: ``asr`` (transcribe) or ``st_eng`` (translate into English).
    """

    lang: str
    task: str

    @property
    def name(self) -> str:
        """Identifier such as ``deu_st_eng``, used in test set names."""
        return f"{self.lang}_{self.task}"

    @property
    def prefix(self) -> str:
        """S2T target prefix such as ``<deu><st_eng><notimestamps>``."""
        return f"<{self.lang}><{self.task}>{NOTIME_SYMBOL}"

    @property
    def target_lang(self) -> str:
        """Language of the target text."""
        return self.lang if self.task == "asr" else ENGLISH


def check_languages(langs: Iterable[str]) -> tuple[str, ...]:
    """Validates language codes and returns them in canonical order.

    Args:
        langs: ISO 639-3 codes.

    Returns:
        The distinct codes, ordered as in :data:`LANGUAGES`.

    Raises:
        ValueError: If a code is unknown (the message lists the supported ones)
            or none is given.
    """
    requested = set(langs)
    unknown = sorted(requested - set(LANGUAGES))
    if unknown:
        raise ValueError(
            f"unknown language code(s) {', '.join(unknown)}; "
            f"supported: {', '.join(LANGUAGES)}"
        )
    if not requested:
        raise ValueError(f"no language given; supported: {', '.join(LANGUAGES)}")
    return tuple(lang for lang in LANGUAGES if lang in requested)


def task_pairs(langs: Iterable[str]) -> tuple[TaskPair, ...]:
    """Returns the (language, task) pairs of a corpus in ``langs``.

    Every language gets ASR; every language but English also gets speech
    translation into English.
    """
    pairs = [TaskPair(lang, "asr") for lang in check_languages(langs)]
    pairs += [TaskPair(p.lang, "st_eng") for p in pairs if p.lang != ENGLISH]
    return tuple(pairs)
