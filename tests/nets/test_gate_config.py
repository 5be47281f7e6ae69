"""Every invalid gate configuration fails at build time, naming the key."""

import pytest
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.nets.gate_config import (
    GatePredictorConfig,
    SparsityConfig,
    from_dict,
)

from helpers.model_factory import build_s2t, s2t_args

INVALID_PREDICTOR = [
    ({"contxt": ["lang"]}, "contxt"),
    ({"context": ["speaker"]}, "context"),
    ({"context": [], "acoustic": False}, "needs an input"),
    ({"embed_dim": 0}, "embed_dim"),
    ({"hidden_dim": -1}, "hidden_dim"),
    ({"temperature_start": 0.0}, "temperature_start"),
    ({"temperature_end": -1.0}, "temperature_end"),
    ({"temperature_anneal_steps": 0}, "temperature_anneal_steps"),
]
INVALID_SPARSITY = [
    ({"decoder_target": 1.0}, "decoder_target"),
    ({"encoder_target": -0.1}, "encoder_target"),
    ({"encoder_target": None, "decoder_target": None}, "nothing is pruned"),
    ({"weight": -1.0}, "weight"),
    ({"target": 0.5}, "target"),
    ({"reference_frames": 0}, "reference_frames"),
]


@pytest.mark.parametrize("conf,key", INVALID_PREDICTOR)
def test_invalid_predictor_conf_names_the_key(conf, key):
    with pytest.raises(ValueError, match=key):
        from_dict(GatePredictorConfig, conf, "gate_predictor_conf")


@pytest.mark.parametrize("conf,key", INVALID_SPARSITY)
def test_invalid_sparsity_conf_names_the_key(conf, key):
    with pytest.raises(ValueError, match=key):
        from_dict(SparsityConfig, conf, "sparsity_conf")


def test_defaults_are_valid():
    assert from_dict(GatePredictorConfig, None, "x").context_only
    assert from_dict(SparsityConfig, {}, "x").decoder_target == 0.5


def test_model_build_rejects_unknown_options():
    with pytest.raises(ValueError, match="model_conf.sparsity_conf.*decoder_traget"):
        build_s2t(gated=True, model_conf={"sparsity_conf": {"decoder_traget": 0.5}})


def test_gated_encoder_part_needs_gated_encoder_class():
    conf = s2t_args(gated=True, model_conf={"sparsity_conf": {"encoder_target": 0.5}})
    conf.encoder = "e_branchformer"
    with pytest.raises(ValueError, match="gated_e_branchformer"):
        S2TTask.build_model(conf)


@pytest.mark.parametrize("parts", [["joiner"], [], ["decoder", "decoder"]])
def test_invalid_parts_name_the_key(parts):
    with pytest.raises(ValueError, match="gate_predictor_conf.parts"):
        from_dict(GatePredictorConfig, {"parts": parts}, "gate_predictor_conf")


def test_parts_take_the_predictor_output_order():
    conf = from_dict(GatePredictorConfig, {"parts": ["decoder", "encoder"]}, "x")
    assert conf.parts == ("encoder", "decoder")


def test_target_for_a_part_without_gates_names_both_keys():
    conf = s2t_args(
        gated=True,
        model_conf={
            "gate_predictor_conf": {"parts": ["decoder"]},
            "sparsity_conf": {"encoder_target": 0.3, "decoder_target": 0.5},
        },
    )
    with pytest.raises(ValueError, match="encoder_target.*gate_predictor_conf.parts"):
        S2TTask.build_model(conf)


def test_parts_not_targets_fix_the_predictor_shape():
    """Targets are loss settings: with parts set, they do not change the state."""
    shapes = []
    for sparsity in ({"decoder_target": 0.5}, {"encoder_target": 0.2}):
        model = build_s2t(
            gated=True,
            model_conf={
                "gate_predictor_conf": {"parts": ["encoder", "decoder"]},
                "sparsity_conf": sparsity,
            },
        )
        shapes.append({k: v.shape for k, v in model.gating.state_dict().items()})
        assert model.gating.parts == ("encoder", "decoder")
    assert shapes[0] == shapes[1]


def test_config_without_parts_gates_the_parts_with_targets(caplog):
    """Configs written before ``parts`` existed load as they did, with a hint."""
    legacy_conf = {"sparsity_conf": {"decoder_target": 0.5}}
    legacy = build_s2t(gated=True, model_conf=legacy_conf)
    assert legacy.gating.parts == ("decoder",)
    assert "add 'parts: ['decoder']' to gate_predictor_conf" in caplog.text
    explicit = build_s2t(
        gated=True,
        model_conf={
            "gate_predictor_conf": {"parts": ["decoder"]},
            "sparsity_conf": {"decoder_target": 0.5},
        },
    )
    legacy_state, explicit_state = legacy.state_dict(), explicit.state_dict()
    assert {k: v.shape for k, v in legacy_state.items()} == {
        k: v.shape for k, v in explicit_state.items()
    }
