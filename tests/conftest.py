"""Shared fixtures: tiny stock and gated S2T models with the same weights, eSpeak NG."""

import pytest
import torch

from espnet_dynprune.data.synth.tts import (
    EspeakNotFoundError,
    Synthesizer,
    load_synthesizer,
)
from espnet_dynprune.io.locate import CACHE_ENV

from helpers.model_factory import MODEL_CONF as BOTH_PARTS
from helpers.model_factory import build_s2t


@pytest.fixture(scope="session", autouse=True)
def package_cache(tmp_path_factory):
    """Unpacked archives and localized configs go to a temporary directory, not
    to the user's ~/.cache (subprocesses inherit the variable)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("dynprune_cache")))
        yield


@pytest.fixture(scope="session")
def stock_model() -> torch.nn.Module:
    """Stock ``espnet`` + ``e_branchformer`` + ``transformer`` model."""
    return build_s2t(gated=False)


@pytest.fixture()
def gated_model(stock_model) -> torch.nn.Module:
    """``dynprune`` model gating both parts, loaded with the stock weights."""
    model = build_s2t(gated=True, seed=1, model_conf=BOTH_PARTS)
    model.load_state_dict(stock_model.state_dict(), strict=False)
    return model


@pytest.fixture()
def speech() -> torch.Tensor:
    """Two utterances of random audio, 0.5 s and 0.4 s at 16 kHz (padded)."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(2, 8000, generator=generator)


@pytest.fixture()
def speech_lengths() -> torch.Tensor:
    return torch.tensor([8000, 6400])


@pytest.fixture(scope="session")
def synthesizer() -> Synthesizer:
    """The eSpeak NG backend; skips only if eSpeak NG cannot be loaded at all."""
    try:
        return load_synthesizer()
    except EspeakNotFoundError as error:
        pytest.skip(f"eSpeak NG cannot be loaded: {error}")
