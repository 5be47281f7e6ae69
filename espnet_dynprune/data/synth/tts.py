"""Speech synthesis with eSpeak NG, reproducible to the sample.

Backends, in order of preference (:func:`load_synthesizer`):

1. the library shipped by the PyPI wheel ``espeakng-loader`` (libespeak-ng and
   its voice data; no root, no system package), used through ``ctypes``;
2. a system libespeak-ng (``apt-get install espeak-ng``), through ``ctypes``;
3. the ``espeak-ng`` command on ``PATH``, one process per utterance.

The library backends run the engine in a small helper process
(:mod:`espnet_dynprune.data.synth.espeak_server`) that makes every utterance
reproducible to the sample, whatever was synthesized before.
"""

from __future__ import annotations

import ctypes.util
import io
import json
import logging
import os
import shutil
import struct
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = [
    "INSTALL_HINT",
    "CommandSynthesizer",
    "EspeakNotFoundError",
    "LibrarySynthesizer",
    "Speech",
    "SynthesisError",
    "Synthesizer",
    "VoiceSettings",
    "load_synthesizer",
]

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it with `pip install espeakng-loader` (the Python wheel ships "
    "libespeak-ng and its voices), or install eSpeak NG system-wide "
    "(e.g. `apt-get install espeak-ng`)"
)

_SERVER = "espeak_server.py"
_HEADER = struct.Struct("<BI")
_LENGTH = struct.Struct("<I")
_WORD = struct.Struct("<ii")


class EspeakNotFoundError(RuntimeError):
    """No eSpeak NG library or command could be found."""


class SynthesisError(RuntimeError):
    """eSpeak NG failed on a request (unknown voice, engine error)."""


@dataclass(frozen=True)
class VoiceSettings:
    """How to say an utterance.

    Attributes:
        voice: eSpeak NG voice with optional variant, e.g. ``de+m3``.
        rate: Speaking rate in words per minute (80 to 450).
        pitch: Base pitch, 0 to 99 (50 is the voice's default).
    """

    voice: str
    rate: int = 175
    pitch: int = 50


@dataclass(frozen=True)
class Speech:
    """Synthesized speech.

    Attributes:
        samples: shape ``(num_samples,)``: int16 from a synthesizer (float
            once cleaned by the corpus builder).
        word_onsets: First sample of each space-separated word of the text,
            from eSpeak NG's word events (see :func:`word_onsets`); ``None``
            where the backend cannot tell (the command).
    """

    samples: np.ndarray
    word_onsets: tuple[int, ...] | None = None


def word_onsets(
    text: str, events: list[tuple[int, int]], num_samples: int
) -> tuple[int, ...] | None:
    """Maps eSpeak NG word events to the space-separated words of ``text``.

    eSpeak NG announces most words, parts of some (``vingt-deux``) and skips
    others (English ``the`` before a noun). A word's onset is the first sample
    of the events inside it; words without one share the span of the announced
    word before them (from its onset to the next announced onset, or the end),
    split by character count.

    Args:
        text: The synthesized text.
        events: (1-based character position, first sample) per announced word.
        num_samples: Length of the speech.

    Returns:
        Non-decreasing onsets, one per word; ``None`` if nothing was announced
        or the events go backwards.
    """
    words, spans, start = [], [], 0
    for word in text.split(" "):
        if word:
            words.append(word)
            spans.append((start, start + len(word)))
        start += len(word) + 1
    announced = [
        min((sample for at, sample in events if lo < at <= hi), default=None)
        for lo, hi in spans
    ]
    if all(onset is None for onset in announced):
        return None
    announced[0] = 0 if announced[0] is None else announced[0]
    onsets: list[int] = []
    anchors = [index for index, onset in enumerate(announced) if onset is not None]
    for anchor, following in zip(anchors, anchors[1:] + [len(words)], strict=True):
        begin = announced[anchor]
        end = announced[following] if following < len(words) else num_samples
        weights = [len(word) + 1 for word in words[anchor:following]]
        done = 0
        for weight in weights:
            onsets.append(begin + round((end - begin) * done / sum(weights)))
            done += weight
    if onsets != sorted(onsets):
        return None
    return tuple(onsets)


class Synthesizer(ABC):
    """Text to 16-bit mono PCM with eSpeak NG.

    Attributes:
        sample_rate: Sampling rate of the returned audio in Hz.
        description: What is used, for logs (library path or command).
    """

    sample_rate: int
    description: str

    @abstractmethod
    def synthesize(self, text: str, settings: VoiceSettings, seed: int) -> Speech:
        """Synthesizes ``text``.

        Args:
            text: UTF-8 text in the voice's language.
            settings: Voice, rate and pitch.
            seed: Seed of eSpeak NG's random generators (breathy voices).

        Returns:
            The samples and, if the backend tells, where each word starts.

        Raises:
            SynthesisError: If eSpeak NG fails or returns no audio.
        """

    def check_voices(self, voices: Iterable[str]) -> None:
        """Raises :class:`SynthesisError` naming every voice that does not work."""
        failing = []
        for voice in voices:
            try:
                self.synthesize("a", VoiceSettings(voice), seed=0)
            except SynthesisError:
                failing.append(voice)
        if failing:
            raise SynthesisError(
                f"eSpeak NG ({self.description}) lacks voice(s): {', '.join(failing)}"
            )


class LibrarySynthesizer(Synthesizer):
    """libespeak-ng through ``ctypes``, in a small server process.

    Each process using this object (e.g. each worker forked from the one that
    created it) starts its own :mod:`~espnet_dynprune.data.synth.espeak_server`,
    which synthesizes every utterance in a fresh fork of an unused engine.

    Args:
        library_path: Path or name of the shared library.
        data_path: Directory holding (or being) ``espeak-ng-data``; ``None`` for
            the library's built-in default.

    Raises:
        EspeakNotFoundError: If the library cannot be loaded or initialized.
    """

    def __init__(self, library_path: str, data_path: str | None = None) -> None:
        self._command = [sys.executable, str(Path(__file__).with_name(_SERVER))]
        self._command += [library_path] + ([data_path] if data_path else [])
        self._server: subprocess.Popen | None = None
        self._owner_pid = -1
        self.description = f"library {library_path}"
        self.sample_rate = self._connect()

    def _receive(self) -> tuple[int, bytes]:
        """Reads one message of the server: (status, payload)."""
        stdout = self._server.stdout
        header = stdout.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise SynthesisError(f"the eSpeak NG server ({self.description}) died")
        status, length = _HEADER.unpack(header)
        return status, stdout.read(length)

    def _connect(self) -> int:
        """Starts this process's server if needed; returns its sample rate."""
        if self._server is None or self._owner_pid != os.getpid():
            self._server = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
            self._owner_pid = os.getpid()
            status, payload = self._receive()
            if status != 0:
                raise EspeakNotFoundError(
                    f"cannot use {self.description}: {payload.decode()}; {INSTALL_HINT}"
                )
            return int(payload)
        return self.sample_rate

    def synthesize(self, text: str, settings: VoiceSettings, seed: int) -> Speech:
        self._connect()
        request = json.dumps(
            {
                "text": text,
                "voice": settings.voice,
                "rate": settings.rate,
                "pitch": settings.pitch,
                "seed": seed,
            }
        ).encode()
        self._server.stdin.write(_LENGTH.pack(len(request)) + request)
        self._server.stdin.flush()
        status, payload = self._receive()
        if status != 0:
            message = payload.decode(errors="replace")
            raise SynthesisError(f"{message} ({settings.voice}, {text!r})")
        (count,) = _LENGTH.unpack_from(payload)
        events = [
            _WORD.unpack_from(payload, _LENGTH.size + index * _WORD.size)
            for index in range(count)
        ]
        pcm = np.frombuffer(payload[_LENGTH.size + count * _WORD.size :], np.int16)
        return Speech(pcm.copy(), word_onsets(text, events, pcm.size))


class CommandSynthesizer(Synthesizer):
    """The ``espeak-ng`` command, one process per utterance.

    Args:
        executable: Path of ``espeak-ng``.

    The command does not tell where words start (no ``word_onsets``).
    Without the ``-D`` option (eSpeak NG 1.52 and later), breathy variants
    (``f2``, ``f3``, ``f5``) get time-seeded noise and are not bit-reproducible.
    """

    def __init__(self, executable: str) -> None:
        self._executable = executable
        usage = subprocess.run(
            [executable, "--help"], capture_output=True, text=True, check=False
        ).stdout
        self._deterministic = "\n-D" in usage
        if not self._deterministic:
            logger.warning(
                "%s has no -D option: breathy voice variants are not reproducible",
                executable,
            )
        probe = self._run("a", VoiceSettings("en"))
        self.sample_rate = sf.info(io.BytesIO(probe)).samplerate
        self.description = f"command {executable}"

    def _run(self, text: str, settings: VoiceSettings) -> bytes:
        """Runs ``espeak-ng`` and returns its WAV output."""
        command = [self._executable, "-b", "1", "--stdout", "--stdin"]
        command += ["-v", settings.voice, "-s", str(settings.rate)]
        command += ["-p", str(settings.pitch)] + (["-D"] if self._deterministic else [])
        result = subprocess.run(
            command, input=text.encode(), capture_output=True, check=False
        )
        if result.returncode != 0 or len(result.stdout) <= 44:
            message = result.stderr.decode(errors="replace").strip()
            raise SynthesisError(
                f"{self._executable} failed on {text!r} ({settings.voice}): {message}"
            )
        return result.stdout

    def synthesize(self, text: str, settings: VoiceSettings, seed: int) -> Speech:
        samples, _ = sf.read(io.BytesIO(self._run(text, settings)), dtype="int16")
        return Speech(samples.reshape(-1))


def load_synthesizer() -> Synthesizer:
    """Finds eSpeak NG: the ``espeakng-loader`` wheel, a system library, the command.

    Returns:
        The first backend that works.

    Raises:
        EspeakNotFoundError: If none works; the message says what to install.
    """
    candidates: list[tuple[type[Synthesizer], tuple[str, ...]]] = []
    try:
        import espeakng_loader
    except ImportError:
        logger.info("espeakng-loader is not installed; looking for a system eSpeak NG")
    else:
        paths = (espeakng_loader.get_library_path(), espeakng_loader.get_data_path())
        candidates.append((LibrarySynthesizer, paths))
    library = ctypes.util.find_library("espeak-ng")
    if library is not None:
        candidates.append((LibrarySynthesizer, (library,)))
    executable = shutil.which("espeak-ng")
    if executable is not None:
        candidates.append((CommandSynthesizer, (executable,)))
    problems = []
    for backend, args in candidates:
        try:
            return backend(*args)
        except (RuntimeError, OSError) as error:
            logger.warning(
                "eSpeak NG backend %s %s fails: %s", backend.__name__, args, error
            )
            problems.append(str(error))
    found = f" (found but failing: {'; '.join(problems)})" if problems else ""
    raise EspeakNotFoundError(f"eSpeak NG is not installed{found}: {INSTALL_HINT}")
