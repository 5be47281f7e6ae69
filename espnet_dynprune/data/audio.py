"""Read audio files with a clear error naming the file.

:func:`read_mono_audio` reads the recipe's audio (WAV, FLAC, ...) with
soundfile and checks it is non-empty mono at the expected rate.
:func:`read_compressed_audio` reads compressed audio (m4a/AAC, mp3, ...) as
mono at a given rate (16 kHz by default), decoding it with FFmpeg. Both raise
:class:`AudioReadError`.

Europarl-ST ships its talks as ``.m4a`` (AAC in MP4). soundfile (libsndfile) reads
WAV, FLAC, OGG and MP3 but not AAC; ``torchaudio.load`` needs TorchCodec,
which needs system FFmpeg libraries. PyAV (``pip install av``) bundles FFmpeg's
libraries in its wheel, so it decodes AAC on any machine without a system
FFmpeg; its resampler converts to 16 kHz mono float32.
"""

import logging
from pathlib import Path
from typing import Union

import numpy as np
import soundfile as sf

__all__ = ["AudioReadError", "read_compressed_audio", "read_mono_audio"]

logger = logging.getLogger(__name__)


class AudioReadError(ValueError):
    """An audio file cannot be read or is unusable; the message names the file."""


def read_mono_audio(path: Union[str, Path], sample_rate: int) -> np.ndarray:
    """Float32 samples of a non-empty mono audio file at ``sample_rate``.

    Raises:
        AudioReadError: the file cannot be read, or is empty, multi-channel
            or at another rate (the message names the file).
    """
    try:
        audio, rate = sf.read(path, dtype="float32")
    except Exception as error:  # soundfile raises several types
        raise AudioReadError(f"{path}: cannot read audio ({error})") from error
    if rate != sample_rate or audio.ndim != 1:
        raise AudioReadError(
            f"{path}: {rate} Hz audio with shape {audio.shape}; expected mono "
            f"{sample_rate} Hz"
        )
    if audio.size == 0:
        raise AudioReadError(f"{path}: empty audio")
    return audio


def read_compressed_audio(
    path: Union[str, Path], sample_rate: int = 16000
) -> np.ndarray:
    """The whole file as mono float32 samples at ``sample_rate``.

    Raises:
        AudioReadError: missing file, no audio stream, or a decoder error.
    """
    import av  # FFmpeg bindings; imported here so that other modules need not

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioReadError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            chunks: list[np.ndarray] = []
            for frame in container.decode(stream):
                chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
            chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]
    except AudioReadError:
        raise
    except (av.FFmpegError, OSError) as error:
        raise AudioReadError(f"{path}: cannot decode audio ({error})") from error
    if not chunks:
        raise AudioReadError(f"{path}: no audio samples")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    logger.debug("decoded %s: %.1f s", path, len(audio) / sample_rate)
    return audio
