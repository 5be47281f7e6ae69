"""With every module open, the gated classes equal ESPnet's on padded batches,
for each option of the stock classes (``use_sdpa`` where the release has it)."""

import inspect

import pytest
import torch
from espnet2.asr.decoder.transformer_decoder import TransformerDecoder
from espnet2.asr.encoder.e_branchformer_encoder import EBranchformerEncoder

from espnet_dynprune.nets.gate_contract import DECODER_MODULES, ENCODER_MODULES
from espnet_dynprune.nets.gated_e_branchformer_encoder import GatedEBranchformerEncoder
from espnet_dynprune.nets.gated_transformer_decoder import GatedTransformerDecoder

from helpers.model_factory import TINY_ENCODER


def _option(cls: type, name: str, value) -> dict:
    if name not in inspect.signature(cls.__init__).parameters:
        return pytest.param({name: value}, marks=pytest.mark.skip(f"no {name} here"))
    return {name: value}


ENCODER_OPTIONS = [
    {},
    {"attention_layer_type": "selfattn", "pos_enc_layer_type": "abs_pos"},
    {"input_layer": "conv2d6", "merge_conv_kernel": 5},
    {"interctc_layer_idx": [1], "layer_drop_rate": 0.2},
    _option(EBranchformerEncoder, "use_sdpa", True),
]
DECODER_OPTIONS = [
    {},
    {"normalize_before": False},
    {"concat_after": True},
    _option(TransformerDecoder, "use_sdpa", True),
]
GATES = [None, "hard", "soft"]


def _gates(kind, batch: int, layers: int, modules: int):
    if kind is None:
        return None
    return torch.ones(batch, layers, modules, requires_grad=kind == "soft")


@pytest.mark.parametrize("gates", GATES)
@pytest.mark.parametrize("options", ENCODER_OPTIONS)
def test_encoder_with_open_gates_equals_stock(options, gates):
    conf = {**TINY_ENCODER, **options}
    torch.manual_seed(0)
    stock = EBranchformerEncoder(**conf).eval()
    torch.manual_seed(0)
    gated = GatedEBranchformerEncoder(**conf).eval()
    feats = torch.randn(2, 70, 20, generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([70, 45])  # padded: the merge conv must not read padding
    with torch.set_grad_enabled(gates == "soft"):
        with gated.gates_applied(_gates(gates, 2, 2, len(ENCODER_MODULES))):
            got = gated(feats, lengths)
        want = stock(feats, lengths)
    torch.testing.assert_close(got[0], want[0], atol=1e-5, rtol=0)
    assert torch.equal(got[1], want[1])


@pytest.mark.parametrize("gates", GATES)
@pytest.mark.parametrize("options", DECODER_OPTIONS)
def test_decoder_with_open_gates_equals_stock(options, gates):
    conf = dict(
        vocab_size=30,
        encoder_output_size=16,
        attention_heads=2,
        linear_units=32,
        num_blocks=2,
        **options,
    )
    torch.manual_seed(0)
    stock = TransformerDecoder(**conf).eval()
    torch.manual_seed(0)
    gated = GatedTransformerDecoder(**conf).eval()
    generator = torch.Generator().manual_seed(2)
    memory = torch.randn(2, 12, 16, generator=generator)
    memory_lengths = torch.tensor([12, 7])
    tokens = torch.randint(0, 30, (2, 6), generator=generator)
    token_lengths = torch.tensor([6, 4])
    with torch.set_grad_enabled(gates == "soft"):
        with gated.gates_applied(_gates(gates, 2, 2, len(DECODER_MODULES))):
            got, _ = gated(memory, memory_lengths, tokens, token_lengths)
        want, _ = stock(memory, memory_lengths, tokens, token_lengths)
    for row, length in enumerate(token_lengths.tolist()):  # padded rows: not compared
        torch.testing.assert_close(
            got[row, :length], want[row, :length], atol=1e-5, rtol=0
        )


def test_constructors_take_the_stock_positional_order():
    torch.manual_seed(0)
    stock_encoder = EBranchformerEncoder(20, 16, 2, use_ffn=True, macaron_ffn=True)
    torch.manual_seed(0)
    encoder = GatedEBranchformerEncoder(20, 16, 2, use_ffn=True, macaron_ffn=True)
    assert encoder.output_size() == 16 and encoder.encoders[0].attn.h == 2
    for (name, got), want in zip(
        encoder.state_dict().items(), stock_encoder.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(got, want, rtol=0, atol=0, msg=name)
    decoder = GatedTransformerDecoder(30, 16, 2, 32, 3)  # heads, units, blocks
    assert len(decoder.decoders) == 3
    assert decoder.decoders[0].feed_forward.w_1.out_features == 32
