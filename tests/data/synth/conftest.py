"""Fixtures of the synthetic corpus tests."""

import pytest

from espnet_dynprune.data.synth.tts import (
    EspeakNotFoundError,
    Synthesizer,
    load_synthesizer,
)


@pytest.fixture(scope="session")
def synthesizer() -> Synthesizer:
    """The eSpeak NG backend; skips only if eSpeak NG cannot be loaded at all."""
    try:
        return load_synthesizer()
    except EspeakNotFoundError as error:
        pytest.skip(f"eSpeak NG cannot be loaded: {error}")
