"""Gates on a dynamically quantized model (``Speech2Text(quantize_s2t_model=True)``):
a closed branch merges through the quantized ``merge_proj`` as a zero branch does."""

import copy

import pytest
import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.nets.gate_contract import ENCODER_MODULES
from espnet_dynprune.nets.gated_e_branchformer_encoder import GatedEBranchformerEncoder

from helpers.model_factory import TINY_ENCODER, write_context_gated_model

QUANTIZED_LINEAR = torch.ao.nn.quantized.dynamic.Linear
BRANCHES = [ENCODER_MODULES.index(name) for name in ("self_attn", "cgmlp")]


def _quantized(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """What ``quantize_s2t_model`` does (ESPnet's default ``quantize_modules``)."""
    return torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), qconfig_spec={torch.nn.Linear}, dtype=dtype
    )


def _encoder(seed: int) -> GatedEBranchformerEncoder:
    torch.manual_seed(seed)
    return GatedEBranchformerEncoder(**TINY_ENCODER).eval()


@pytest.mark.parametrize("closed", [[0], [1], [0, 1]], ids=["att", "mlp", "both"])
@pytest.mark.parametrize("dtype", [torch.qint8, torch.float16], ids=str)
def test_closed_branch_on_quantized_encoder_equals_zero_gate(dtype, closed):
    encoder = _quantized(_encoder(0), dtype)
    assert isinstance(encoder.encoders[0].merge_proj, QUANTIZED_LINEAR)
    feats = torch.randn(2, 60, 20, generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([60, 41])
    gates = torch.ones(2, 2, len(ENCODER_MODULES))
    for branch in closed:
        gates[:, :, BRANCHES[branch]] = 0.0
    previous = None
    # new weights loaded into the quantized model: the merge follows them
    for seed in (0, 1):
        encoder.load_state_dict(_quantized(_encoder(seed), dtype).state_dict())
        with torch.no_grad(), encoder.gates_applied(gates):
            hard, _, _ = encoder(feats, lengths)
        # soft gates run both branches (zero output) through the stock merge
        with encoder.gates_applied(gates.clone().requires_grad_(True)):
            soft, _, _ = encoder(feats, lengths)
        torch.testing.assert_close(hard, soft.detach(), atol=1e-5, rtol=0)
        assert previous is None or not torch.allclose(hard, previous, atol=1e-3)
        previous = hard


SPEECH = torch.randn(8000, generator=torch.Generator().manual_seed(3))
CONTEXT = dict(lang_sym="<deu>", task_sym="<st_eng>")
OPTIONS = dict(beam_size=2, device="cpu")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return write_context_gated_model(tmp_path_factory.mktemp("quantized"))


def _decode(s2t) -> tuple[list, torch.Tensor, torch.Tensor]:
    texts = [hyp[0] for hyp in s2t(SPEECH, **CONTEXT)]
    gates = s2t.s2t_model.last_gates
    return texts, gates.encoder, gates.decoder


@pytest.mark.parametrize(
    "speech2text", [Speech2Text, ESPnetSpeech2Text], ids=["plugin", "espnet"]
)
def test_quantized_decode_closes_the_same_modules(model_files, speech2text):
    want_texts, want_encoder, want_decoder = _decode(
        speech2text(*model_files, **OPTIONS)
    )
    # both branches of a layer closed in this context: the merge's closed path
    assert (want_encoder[..., BRANCHES] == 0).all(-1).any()
    s2t = speech2text(*model_files, quantize_s2t_model=True, **OPTIONS)
    assert isinstance(s2t.s2t_model.encoder.encoders[0].merge_proj, QUANTIZED_LINEAR)
    assert isinstance(
        s2t.s2t_model.decoder.decoders[0].src_attn.linear_k, QUANTIZED_LINEAR
    )
    texts, encoder_gates, decoder_gates = _decode(s2t)
    assert torch.equal(encoder_gates, want_encoder)
    assert torch.equal(decoder_gates, want_decoder)
    assert texts
    # the decoder's source key/value cache runs the quantized projections too
    s2t.s2t_model.decoder.use_source_cache(False)
    assert _decode(s2t)[0] == texts
