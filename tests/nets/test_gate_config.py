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


def test_encoder_target_needs_gated_encoder():
    conf = s2t_args(gated=True, model_conf={"sparsity_conf": {"encoder_target": 0.5}})
    conf.encoder = "e_branchformer"
    with pytest.raises(ValueError, match="gated_e_branchformer"):
        S2TTask.build_model(conf)
