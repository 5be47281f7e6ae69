"""Tiny ESPnet S2T models, stock and gated, built the way ESPnet builds them."""

import argparse
from typing import Dict, Optional

import torch
from espnet2.tasks.s2t import S2TTask

import espnet_dynprune  # noqa: F401  (registers the plugin classes)

__all__ = ["TOKENS", "build_s2t", "s2t_args"]

TOKENS = (
    ["<blank>", "<unk>", "<na>", "<nolang>", "<eng>", "<deu>", "<fra>"]
    + ["<asr>", "<st_eng>", "<notimestamps>", "<0.00>", "<30.00>"]
    + list("abcdefghijklmnopqrstuvwxyz")
    + ["<sop>", "<sos>", "<eos>"]
)

ENCODER_CONF = dict(
    output_size=32,
    attention_heads=2,
    cgmlp_linear_units=64,
    linear_units=64,
    num_blocks=2,
    use_ffn=True,
    macaron_ffn=True,
    input_layer="conv2d",
    dropout_rate=0.0,
    positional_dropout_rate=0.0,
)
DECODER_CONF = dict(
    attention_heads=2,
    linear_units=64,
    num_blocks=2,
    dropout_rate=0.0,
    positional_dropout_rate=0.0,
)


def s2t_args(
    gated: bool,
    model_conf: Optional[Dict] = None,
    encoder_conf: Optional[Dict] = None,
    decoder_conf: Optional[Dict] = None,
) -> argparse.Namespace:
    """The part of an ESPnet S2T config that ``S2TTask.build_model`` reads."""
    return argparse.Namespace(
        token_list=list(TOKENS),
        input_size=None,
        frontend="default",
        frontend_conf=dict(n_fft=256, hop_length=128, n_mels=20),
        specaug=None,
        specaug_conf={},
        normalize="utterance_mvn",
        normalize_conf={},
        preencoder=None,
        encoder="gated_e_branchformer" if gated else "e_branchformer",
        encoder_conf={**ENCODER_CONF, **(encoder_conf or {})},
        postencoder=None,
        decoder="gated_transformer" if gated else "transformer",
        decoder_conf={**DECODER_CONF, **(decoder_conf or {})},
        ctc_conf={},
        model="dynprune" if gated else "espnet",
        model_conf={"ctc_weight": 0.3, **(model_conf or {})},
        init=None,
    )


def build_s2t(gated: bool, seed: int = 0, **kwargs) -> torch.nn.Module:
    """Build a tiny S2T model in eval mode with deterministic weights."""
    torch.manual_seed(seed)
    return S2TTask.build_model(s2t_args(gated, **kwargs)).eval()
