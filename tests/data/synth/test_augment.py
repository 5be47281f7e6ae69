"""Noise, mixing, resampling and level helpers."""

import numpy as np
import pytest

from espnet_dynprune.data.synth.augment import (
    NOISE_KINDS,
    loud_span,
    make_babble_bank,
    make_noise,
    mix_at_snr,
    pcm_to_float,
    resample,
    scale_to_peak,
    snr_db,
)


def _tone(seconds=0.5, rate=16000, freq=220.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture()
def bank():
    rng = np.random.default_rng(0)
    clips = [_tone(0.3 + 0.1 * i, freq=150.0 + 40 * i) for i in range(6)]
    return make_babble_bank(clips, rng, num_streams=3)


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("target", [10.0, 30.0])
def test_mix_hits_the_snr(kind, target, bank):
    speech = _tone()
    noise = make_noise(kind, speech.size, np.random.default_rng(1), bank)
    mixture = mix_at_snr(speech, noise, target)
    assert mixture.dtype == np.float32 and mixture.shape == speech.shape
    assert snr_db(speech, mixture - speech) == pytest.approx(target, abs=0.01)


def test_longer_noise_continues_after_the_speech(bank):
    speech = _tone()
    noise = make_noise("pink", 3 * speech.size, np.random.default_rng(2), bank)
    mixture = mix_at_snr(speech, noise, 20.0)
    assert mixture.shape == noise.shape
    added = mixture[: speech.size] - speech
    assert snr_db(speech, added) == pytest.approx(20.0, abs=0.01)
    gain = added / noise[: speech.size]
    assert np.allclose(mixture[speech.size :], gain.mean() * noise[speech.size :])
    with pytest.raises(ValueError, match="at least as long as speech"):
        mix_at_snr(speech, noise[:10], 20.0)


def test_noise_is_reproducible_and_pink_is_pink():
    first = make_noise("pink", 4000, np.random.default_rng(3))
    assert np.array_equal(first, make_noise("pink", 4000, np.random.default_rng(3)))
    power = np.abs(np.fft.rfft(make_noise("pink", 1 << 15, np.random.default_rng(0))))
    low, high = power[10:200].mean(), power[-2000:].mean()
    assert low > 5 * high


def test_babble_bank(bank):
    assert bank.dtype == np.float32
    assert np.mean(bank**2) == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="at least 4 clips"):
        make_babble_bank([_tone()], np.random.default_rng(0))


def test_bad_noise_requests():
    with pytest.raises(ValueError, match="unknown noise kind"):
        make_noise("brown", 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="babble bank"):
        make_noise("babble", 10, np.random.default_rng(0))


def test_trim_resample_and_scale():
    pcm = np.concatenate([np.zeros(100), np.full(50, 8000), np.zeros(30)])
    signal = pcm_to_float(pcm.astype(np.int16))
    assert loud_span(signal) == slice(100, 150)
    assert loud_span(np.zeros(5, np.float32)) == slice(0, 5)
    resampled = resample(_tone(rate=22050), 22050, 16000)
    assert resampled.dtype == np.float32 and abs(resampled.size - 8000) <= 1
    samples = scale_to_peak(_tone(), 0.5)
    assert samples.dtype == np.int16
    assert np.abs(samples).max() == round(0.5 * 32767)
