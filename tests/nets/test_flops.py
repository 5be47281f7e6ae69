"""FLOPs of gated modules, measured with torch's FlopCounterMode on the real stacks."""

import pytest
import torch
from espnet2.asr.encoder.e_branchformer_encoder import EBranchformerEncoder

from espnet_dynprune.nets.flops import (
    count_flops,
    decoder_module_flops,
    encoder_module_flops,
    encoder_output_frames,
)
from espnet_dynprune.nets.gate_contract import DECODER_MODULES, ENCODER_MODULES

from helpers.model_factory import ENCODER_CONF, build_s2t


def test_count_flops_of_a_matmul():
    layer = torch.nn.Linear(8, 4, bias=False)
    x = torch.randn(3, 8)
    assert count_flops(lambda: layer(x)) == 2 * 3 * 8 * 4


@pytest.mark.parametrize("input_layer", ["conv2d", "conv2d6", "conv2d8"])
def test_encoder_output_frames_are_the_encoders_own(input_layer):
    """The subsampling is asked of the encoder, whatever its input layer."""
    conf = {**ENCODER_CONF, "input_layer": input_layer}
    encoder = EBranchformerEncoder(input_size=20, **conf).eval()
    frames = 250
    with torch.no_grad():
        _, lengths, _ = encoder(torch.randn(1, frames, 20), torch.tensor([frames]))
    assert encoder_output_frames(encoder, frames, 20) == int(lengths[0])
    assert encoder.training is False


def test_encoder_module_costs_are_positive_and_below_the_layer():
    model = build_s2t(gated=True)
    encoder = model.encoder
    costs = encoder_module_flops(encoder, frames=200)
    assert costs.shape == (len(ENCODER_MODULES),) and (costs > 0).all()
    feats = torch.zeros(1, 200, encoder.input_size)
    layer_total = count_flops(lambda: encoder(feats, torch.tensor([200]), max_layer=1))
    assert costs.sum() < layer_total  # the input layer is not gated


def test_source_attention_cost_grows_with_the_memory_only():
    decoder = build_s2t(gated=True).decoder
    size = decoder.output_layer.in_features
    short = decoder_module_flops(decoder, tokens=10, memory_frames=20, memory_size=size)
    long = decoder_module_flops(decoder, tokens=10, memory_frames=80, memory_size=size)
    src = DECODER_MODULES.index("src_attn")
    assert long[src] > short[src]
    others = [i for i in range(len(DECODER_MODULES)) if i != src]
    assert torch.equal(long[others], short[others])


@pytest.mark.parametrize("input_layer", ["conv2d", "conv2d6"])
def test_decoder_costs_use_the_encoders_subsampling(input_layer):
    """The model's decoder costs are measured on the encoder's real output length."""
    model = build_s2t(gated=True, encoder_conf={"input_layer": input_layer})
    conf = model.gating.sparsity_config
    feature_size = model.frontend.output_size()
    frames = encoder_output_frames(model.encoder, conf.reference_frames, feature_size)
    expected = decoder_module_flops(
        model.decoder, conf.reference_tokens, frames, model.encoder.output_size()
    )
    _, measured = model.gating.module_flops()
    assert torch.equal(measured, expected)
