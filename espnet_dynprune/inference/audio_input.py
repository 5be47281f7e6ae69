"""Checks of the audio given to decoding: never decode an input the model cannot.

ESPnet's ``Speech2Text`` decodes whatever array it gets: audio at another rate,
NaN samples, or audio too short for one encoder frame all give a confident
(often empty) hypothesis, and audio longer than ``preprocessor_conf.speech_length``
is cut to it. :func:`checked_audio` is the one check that this package's
``Speech2Text`` and ``bin/s2t_inference`` run on every utterance; it returns mono
audio at the model's rate or raises a ``ValueError`` naming the utterance.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import humanfriendly
import numpy as np
import soundfile as sf
import torch
import torchaudio

from espnet_dynprune.compat.espnet_release import check_short_utt

__all__ = ["AudioLimits", "checked_audio", "read_audio_file"]

logger = logging.getLogger(__name__)

DEFAULT_RATE = 16000
"""ESPnet's default frontend rate, for configs that name none."""

Audio = Union[np.ndarray, torch.Tensor]


@dataclass(frozen=True)
class AudioLimits:
    """What a model accepts as one utterance.

    Attributes:
        sample_rate: the rate its features are computed at (``frontend_conf.fs``,
            else ``preprocessor_conf.fs``, else 16 kHz).
        min_samples: fewer samples give no encoder output frame.
        max_samples: ``preprocessor_conf.speech_length`` seconds (ESPnet cuts
            longer audio to it); ``None``: no limit.
    """

    sample_rate: int
    min_samples: int
    max_samples: Optional[int]

    @classmethod
    def of_model(cls, train_args: Any, model: torch.nn.Module) -> "AudioLimits":
        """The limits of an S2T model built from ``train_args`` (its config)."""
        frontend_conf = getattr(train_args, "frontend_conf", None) or {}
        preprocessor_conf = getattr(train_args, "preprocessor_conf", None) or {}
        rate = frontend_conf.get("fs") or preprocessor_conf.get("fs") or DEFAULT_RATE
        if isinstance(rate, str):
            rate = humanfriendly.parse_size(rate)
        seconds = preprocessor_conf.get("speech_length")
        return cls(
            sample_rate=int(rate),
            min_samples=_min_samples(model),
            max_samples=None if seconds is None else int(rate * seconds),
        )


def _min_samples(model: torch.nn.Module) -> int:
    """Samples that the frontend turns into enough frames for the subsampling."""
    _, frames = check_short_utt(getattr(model.encoder, "embed", None), 0)
    hop = getattr(model.frontend, "hop_length", None)
    if frames < 1 or hop is None:
        return 1
    stft = getattr(model.frontend, "stft", None)
    edge = 0 if getattr(stft, "center", True) else getattr(stft, "n_fft", 0)
    return max(1, (frames - 1) * hop + edge)


def read_audio_file(path: Union[str, Path]) -> tuple[np.ndarray, int]:
    """Samples (``(n,)`` or ``(n, channels)``) and rate of an audio file.

    Raises:
        ValueError: a missing or unreadable file (names it).
    """
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such audio file")
    try:
        return sf.read(path, always_2d=False)
    except Exception as error:  # soundfile raises several types
        reason = getattr(error, "error_string", None) or type(error).__name__
        raise ValueError(f"{path}: cannot read audio ({reason})") from error


def checked_audio(
    speech: Audio, sample_rate: Optional[int], limits: AudioLimits, name: str
) -> torch.Tensor:
    """One utterance as the model takes it: mono, finite, at its rate, in its limits.

    Args:
        speech: ``(n,)`` or ``(n, 1)`` samples.
        sample_rate: their rate; ``None``: the model's (a bare array has no rate,
            as in ESPnet). Another rate is resampled (``torchaudio``).
        limits: the model's :class:`AudioLimits`.
        name: the utterance in messages (a key, a file, ``speech[3]``).
    Returns:
        ``(n,)`` samples at ``limits.sample_rate``; the dtype is kept unless
        resampled (float32).
    Raises:
        ValueError: multi-channel, NaN or infinite samples, or too short or too
            long; the message names the utterance and the limit.
    """
    speech = torch.as_tensor(speech)
    if speech.dim() == 2 and speech.size(1) == 1:
        speech = speech.squeeze(1)
    if speech.dim() != 1:
        raise ValueError(
            f"{name}: audio of shape {tuple(speech.shape)}; expected mono "
            "(samples,): pick one channel or downmix (average the channels) first"
        )
    bad = int((~torch.isfinite(speech)).sum()) if speech.is_floating_point() else 0
    if bad:
        raise ValueError(
            f"{name}: {bad} of {speech.numel()} samples are NaN or infinite"
        )
    rate = limits.sample_rate
    if sample_rate is not None and sample_rate != rate:
        logger.info("%s: resampling from %d Hz to %d Hz", name, sample_rate, rate)
        speech = torchaudio.functional.resample(speech.float(), sample_rate, rate)
    if speech.numel() < limits.min_samples:
        raise ValueError(
            f"{name}: {speech.numel() / rate:.3f} s of audio is shorter than the "
            f"{limits.min_samples / rate:.3f} s the encoder needs for one frame"
        )
    if limits.max_samples is not None and speech.numel() > limits.max_samples:
        raise ValueError(
            f"{name}: {speech.numel() / rate:.2f} s of audio is longer than the "
            f"{limits.max_samples / rate:g} s the model takes "
            "(preprocessor_conf.speech_length), beyond which ESPnet cuts it "
            "off: split the audio into shorter utterances, or decode long-form "
            "audio with ESPnet's Speech2Text.decode_long"
        )
    return speech
