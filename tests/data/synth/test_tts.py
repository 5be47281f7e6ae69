"""eSpeak NG backends: audio comes out, reproducibly; failures say what to do."""

import ctypes.util
import shutil
import sys

import numpy as np
import pytest

from espnet_dynprune.data.synth.tts import (
    CommandSynthesizer,
    EspeakNotFoundError,
    LibrarySynthesizer,
    SynthesisError,
    VoiceSettings,
    load_synthesizer,
    word_onsets,
)


def test_synthesize(synthesizer):
    settings = VoiceSettings("de+m3", rate=160, pitch=40)
    pcm = synthesizer.synthesize("der hund schläft im garten", settings, seed=1).samples
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert 0.8 < pcm.size / synthesizer.sample_rate < 4.0
    assert np.abs(pcm).max() > 1000


def test_synthesis_is_reproducible(synthesizer):
    """The breathy variant f2 draws random noise: the seed fixes it."""
    settings = VoiceSettings("fr+f2", rate=150, pitch=60)
    first = synthesizer.synthesize("le chat noir dort", settings, seed=7)
    synthesizer.synthesize("something else first", VoiceSettings("en-us+m1"), seed=3)
    again = synthesizer.synthesize("le chat noir dort", settings, seed=7)
    assert np.array_equal(first.samples, again.samples)
    assert first.word_onsets == again.word_onsets


@pytest.mark.parametrize(
    "voice, text",
    [
        ("de+m3", "die grüne pizza ist lecker"),  # non-ASCII: character positions
        ("fr+f2", "l'homme mange vingt-deux pommes"),  # two events in one word
        ("en-us+m7", "the postman pulls the bed in the shop"),  # "the" unannounced
    ],
)
def test_word_onsets_follow_the_speech(synthesizer, voice, text):
    """One onset per word, in order, inside the audio; the longest word has one
    of the two longest spans."""
    if not isinstance(synthesizer, LibrarySynthesizer):
        pytest.skip("only the library backends report word events")
    speech = synthesizer.synthesize(text, VoiceSettings(voice), seed=0)
    onsets = speech.word_onsets
    assert len(onsets) == len(text.split()) and onsets[0] == 0
    assert list(onsets) == sorted(onsets) and onsets[-1] < speech.samples.size
    spans = np.diff(list(onsets) + [speech.samples.size])
    assert spans.min() > 0.03 * synthesizer.sample_rate
    # The longest word takes the longest span.
    longest = max(range(len(spans)), key=lambda i: len(text.split()[i]))
    assert spans[longest] >= np.sort(spans)[-2]


def test_word_onsets_mapping():
    text = "the cat sat on the mat"
    # eSpeak-style events: 1-based character positions; "on" and "the" unannounced.
    events = [(1, 0), (5, 100), (9, 200), (20, 400)]
    assert word_onsets(text, events, 600) == (0, 100, 200, 273, 327, 400)
    # Two events inside one word: the first counts.
    assert word_onsets("vingt-deux pommes", [(1, 0), (7, 50), (12, 90)], 200) == (
        0,
        90,
    )
    assert word_onsets(text, [], 600) is None
    assert word_onsets("a b", [(1, 50), (3, 10)], 100) is None  # backwards


def test_unknown_voice(synthesizer):
    with pytest.raises(SynthesisError, match="xx-nope"):
        synthesizer.synthesize("hello", VoiceSettings("xx-nope"), seed=0)
    with pytest.raises(SynthesisError, match="lacks voice.*xx-nope"):
        synthesizer.check_voices(["en-us+f1", "xx-nope"])


def test_missing_espeak_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EspeakNotFoundError, match="pip install espeakng-loader"):
        load_synthesizer()


def test_failing_backend_is_reported(monkeypatch, tmp_path):
    broken = str(tmp_path / "libespeak-ng-broken.so")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: broken)
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EspeakNotFoundError, match="found but failing.*broken"):
        load_synthesizer()


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng command not on PATH (it is only the fallback backend)",
)
def test_falls_back_to_the_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert isinstance(load_synthesizer(), CommandSynthesizer)


def test_unloadable_library(tmp_path):
    with pytest.raises(EspeakNotFoundError, match="cannot use .*espeakng-loader"):
        LibrarySynthesizer(str(tmp_path / "libespeak-ng-missing.so"))


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng command not on PATH (it is only the fallback backend)",
)
def test_command_backend():
    synthesizer = CommandSynthesizer(shutil.which("espeak-ng"))
    settings = VoiceSettings("es+m3", rate=170, pitch=50)
    speech = synthesizer.synthesize("el perro duerme", settings, seed=0)
    pcm = speech.samples
    assert pcm.dtype == np.int16 and pcm.size > 0.5 * synthesizer.sample_rate
    assert speech.word_onsets is None  # the command does not report word events
    again = synthesizer.synthesize("el perro duerme", settings, 0).samples
    assert np.array_equal(pcm, again)
    with pytest.raises(SynthesisError, match="xx-nope"):
        synthesizer.synthesize("hola", VoiceSettings("xx-nope"), seed=0)
