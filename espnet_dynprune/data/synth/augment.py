"""Signal processing for the synthetic corpus: trim, resample, add noise at an SNR.

Every function is deterministic given its inputs (random ones take a
``numpy.random.Generator``). Signals are float32 arrays in [-1, 1].
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = [
    "NOISE_KINDS",
    "loud_span",
    "make_babble_bank",
    "make_noise",
    "mix_at_snr",
    "pcm_to_float",
    "resample",
    "scale_to_peak",
    "snr_db",
]

NOISE_KINDS: tuple[str, ...] = ("white", "pink", "babble")
"""Kinds of additive noise: flat spectrum, 1/f spectrum, mixed other speech."""

_EPSILON = 1e-12


def pcm_to_float(samples: np.ndarray) -> np.ndarray:
    """Converts int16 PCM to float32 in [-1, 1)."""
    return samples.astype(np.float32) / 32768.0


def loud_span(signal: np.ndarray, threshold: float = 0.01) -> slice:
    """The span from the first to the last sample louder than ``threshold`` x the
    peak (all of a silent signal)."""
    loud = np.flatnonzero(np.abs(signal) > threshold * np.abs(signal).max(initial=0))
    if loud.size == 0:
        return slice(0, signal.size)
    return slice(int(loud[0]), int(loud[-1]) + 1)


def resample(signal: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resamples with soxr (high quality) to ``target_rate`` Hz."""
    if orig_rate == target_rate:
        return signal
    return soxr.resample(signal, orig_rate, target_rate).astype(np.float32)


def make_babble_bank(
    clips: list[np.ndarray], rng: np.random.Generator, num_streams: int = 4
) -> np.ndarray:
    """Mixes speech clips into a babble recording: ``num_streams`` talkers at once.

    Each clip is normalized to unit power; the clips are dealt in random order to
    ``num_streams`` streams, each stream is concatenated, and the streams are
    summed over the length of the shortest one.

    Args:
        clips: At least ``num_streams`` non-silent float signals.
        rng: Random generator (the dealing order).
        num_streams: Number of simultaneous talkers.

    Returns:
        The babble signal, normalized to unit power.
    """
    if len(clips) < num_streams:
        raise ValueError(f"need at least {num_streams} clips, got {len(clips)}")
    order = rng.permutation(len(clips))
    streams = [
        np.concatenate(
            [
                clips[i] / np.sqrt(np.mean(clips[i] ** 2) + _EPSILON)
                for i in order[start::num_streams]
            ]
        )
        for start in range(num_streams)
    ]
    length = min(len(stream) for stream in streams)
    babble = np.sum([stream[:length] for stream in streams], axis=0)
    return (babble / np.sqrt(np.mean(babble**2) + _EPSILON)).astype(np.float32)


def make_noise(
    kind: str,
    num_samples: int,
    rng: np.random.Generator,
    babble_bank: np.ndarray | None = None,
) -> np.ndarray:
    """Draws ``num_samples`` of noise.

    Args:
        kind: One of :data:`NOISE_KINDS`.
        num_samples: Length of the noise.
        rng: Random generator.
        babble_bank: Babble recording to cut from (``babble`` only); cut at a
            random offset, wrapping around.

    Returns:
        Float32 noise (any scale: :func:`mix_at_snr` sets the level).

    Raises:
        ValueError: For an unknown kind or a missing babble bank.
    """
    if kind == "white":
        return rng.standard_normal(num_samples).astype(np.float32)
    if kind == "pink":
        fft_size = 1 << max(num_samples - 1, 1).bit_length()  # fast FFT, then crop
        spectrum = np.fft.rfft(rng.standard_normal(fft_size))
        bins = np.arange(spectrum.size, dtype=np.float64)
        bins[0] = 1.0
        pink = np.fft.irfft(spectrum / np.sqrt(bins), fft_size)[:num_samples]
        return pink.astype(np.float32)
    if kind == "babble":
        if babble_bank is None or babble_bank.size == 0:
            raise ValueError("babble noise needs a babble bank")
        offset = int(rng.integers(babble_bank.size))
        return np.take(
            babble_bank, np.arange(offset, offset + num_samples), mode="wrap"
        )
    raise ValueError(f"unknown noise kind {kind!r}; known: {', '.join(NOISE_KINDS)}")


def snr_db(speech: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio of ``speech`` over ``noise`` in dB (mean powers)."""
    power_speech = float(np.mean(speech.astype(np.float64) ** 2))
    power_noise = float(np.mean(noise.astype(np.float64) ** 2))
    return 10.0 * np.log10((power_speech + _EPSILON) / (power_noise + _EPSILON))


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, target_db: float) -> np.ndarray:
    """Adds ``noise``, scaled so that speech over noise power is ``target_db``.

    Powers are means over the speech signal, its pauses included, and over the
    same span of the noise. Noise longer than the speech continues past its end
    at the same level (the speech is padded with zeros): a fixed-length segment
    with the speech in it, like the 30-second segments OWSM is trained on.

    Args:
        speech: Clean signal.
        noise: Noise at least as long as ``speech``.
        target_db: Wanted SNR in dB.

    Returns:
        The float32 mixture, as long as ``noise``.
    """
    if speech.ndim != 1 or noise.ndim != 1 or noise.size < speech.size:
        raise ValueError(
            f"noise {noise.shape} must be 1-D and at least as long as speech "
            f"{speech.shape}"
        )
    gain = 10.0 ** ((snr_db(speech, noise[: speech.size]) - target_db) / 20.0)
    padded = np.pad(speech, (0, noise.size - speech.size))
    return (padded + gain * noise).astype(np.float32)


def scale_to_peak(signal: np.ndarray, peak: float) -> np.ndarray:
    """Scales to the given peak amplitude and converts to int16 PCM.

    Args:
        signal: Float signal, not all zero.
        peak: Wanted peak in (0, 1]: a fraction of full scale.

    Returns:
        The int16 samples.
    """
    scaled = signal * (peak / max(float(np.abs(signal).max()), _EPSILON))
    return np.round(np.clip(scaled, -1.0, 1.0) * 32767.0).astype(np.int16)
