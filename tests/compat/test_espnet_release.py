"""What differs between ESPnet releases: checkpoint keys of either release load."""

import inspect

import pytest
import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.compat.espnet_release import ESPNET_VERSION, conform_state_dict
from espnet_dynprune.inference.speech2text import Speech2Text

from helpers.model_factory import MODEL_CONF, build_s2t, write_gated_model

# The subsampling keys of each release (Conv2dSubsampling of the tiny model).
KEYS_202511 = ["encoder.embed.out.0.weight", "encoder.embed.out.0.bias"]
KEYS_202611 = ["encoder.embed.out.weight", "encoder.embed.out.bias"]


def _installed_and_other(model: torch.nn.Module) -> tuple[list[str], list[str]]:
    keys = set(model.state_dict())
    if set(KEYS_202611) <= keys:
        return KEYS_202611, KEYS_202511
    assert set(KEYS_202511) <= keys, "the tiny model has neither release's keys"
    return KEYS_202511, KEYS_202611


def _as_other_release(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict with the subsampling keys of the other release."""
    installed, other = _installed_and_other(model)
    renames = dict(zip(installed, other, strict=True))
    return {renames.get(k, k): v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    ("saved", "expected"), [(KEYS_202511, KEYS_202611), (KEYS_202611, KEYS_202511)]
)
def test_conform_renames_subsampling_keys_both_ways(saved, expected):
    state = {key: i for i, key in enumerate(saved)} | {"decoder.embed.0.weight": 9}
    want = set(expected) | {"decoder.embed.0.weight"}
    conformed = conform_state_dict(state, want)
    assert conformed == {
        **dict(zip(expected, range(2), strict=True)),
        **{"decoder.embed.0.weight": 9},
    }


def test_conform_leaves_keys_of_the_installed_layout_alone():
    state = {"encoder.embed.out.0.weight": 1, "encoder.embed.out.weight": 2}
    expected = {"encoder.embed.out.0.weight", "encoder.embed.out.weight"}
    assert conform_state_dict(state, expected) == state


def test_gated_model_loads_the_other_releases_checkpoint_strictly():
    source = build_s2t(gated=True, model_conf=MODEL_CONF)
    target = build_s2t(gated=True, seed=5, model_conf=MODEL_CONF)
    target.load_state_dict(_as_other_release(source), strict=True)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value, rtol=0, atol=0)


def test_speech2text_decodes_the_other_releases_checkpoint_identically(tmp_path):
    config, model_file = write_gated_model(tmp_path)
    state = torch.load(model_file, weights_only=True)
    model = build_s2t(gated=True, model_conf=MODEL_CONF)
    model.load_state_dict(state)
    other = tmp_path / "other_release.pth"
    torch.save(_as_other_release(model), other)
    speech = torch.randn(8000, generator=torch.Generator().manual_seed(3))
    results = []
    for weights in (model_file, other):
        s2t = Speech2Text(config, weights, beam_size=2, nbest=2, device="cpu")
        hyps = s2t(speech, lang_sym="<deu>", task_sym="<st_eng>")
        results.append([(h[2], float(h[4].score)) for h in hyps])
    assert results[0] == results[1]


def test_batch_decode_is_refused_where_espnet_has_none(tmp_path):
    if hasattr(ESPnetSpeech2Text, "batch_decode"):
        assert "lang_sym" in inspect.signature(Speech2Text.batch_decode).parameters
        pytest.skip(f"espnet {ESPNET_VERSION} has batch_decode")
    config, model_file = write_gated_model(tmp_path)
    s2t = Speech2Text(config, model_file, device="cpu")
    with pytest.raises(NotImplementedError, match="espnet 202611 or newer"):
        s2t.batch_decode([torch.zeros(8000)] * 2, lang_sym="<eng>", task_sym="<asr>")
