"""Gated E-Branchformer: stock parity, hard skip == soft gating, real skipping."""

import pytest
import torch
from espnet2.asr.encoder.e_branchformer_encoder import EBranchformerEncoder

from espnet_dynprune.inference.batching import encode_grouped, group_rows
from espnet_dynprune.nets.gate_contract import ENCODER_MODULES
from espnet_dynprune.nets.gated_e_branchformer_encoder import GatedEBranchformerEncoder

from helpers.model_factory import TINY_ENCODER

MODULE_ATTRS = ("feed_forward_macaron", "attn", "cgmlp", "feed_forward")


def _features(model, speech, lengths):
    feats, feat_lengths = model._extract_feats(speech, lengths)
    return model.normalize(feats, feat_lengths)


def test_state_dict_names_are_espnets(stock_model, gated_model):
    assert set(stock_model.encoder.state_dict()) == set(
        gated_model.encoder.state_dict()
    )


@pytest.mark.parametrize("open_gates", [None, "ones"])
def test_dense_equals_stock(
    stock_model, gated_model, speech, speech_lengths, open_gates
):
    feats, lengths = _features(stock_model, speech, speech_lengths)
    gates = None if open_gates is None else torch.ones(2, 2, len(ENCODER_MODULES))
    with torch.no_grad(), gated_model.encoder.gates_applied(gates):
        got, got_lengths, _ = gated_model.encoder(feats, lengths)
        want, want_lengths, _ = stock_model.encoder(feats, lengths)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert torch.equal(got_lengths, want_lengths)


@pytest.mark.parametrize("seed", range(4))
def test_hard_skip_equals_soft_gating(gated_model, speech, speech_lengths, seed):
    feats, lengths = _features(gated_model, speech, speech_lengths)
    generator = torch.Generator().manual_seed(seed)
    gates = (torch.rand(2, 2, 4, generator=generator) > 0.5).float()
    with torch.no_grad(), gated_model.encoder.gates_applied(gates):
        hard, _, _ = gated_model.encoder(feats, lengths)
    soft_gates = gates.clone().requires_grad_(True)
    with gated_model.encoder.gates_applied(soft_gates):
        soft, _, _ = gated_model.encoder(feats, lengths)
    torch.testing.assert_close(hard, soft.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("module", range(4))
def test_closed_module_is_never_executed(gated_model, speech, speech_lengths, module):
    feats, lengths = _features(gated_model, speech, speech_lengths)
    calls = []
    layers = gated_model.encoder.gated_layers()
    hooks = [
        getattr(layer, attr).register_forward_hook(
            lambda *_, name=f"{i}.{attr}": calls.append(name)
        )
        for i, layer in enumerate(layers)
        for attr in MODULE_ATTRS
    ]
    gates = torch.ones(2, 2, 4)
    gates[:, :, module] = 0.0
    try:
        with torch.no_grad(), gated_model.encoder.gates_applied(gates):
            gated_model.encoder(feats, lengths)
    finally:
        for hook in hooks:
            hook.remove()
    closed = MODULE_ATTRS[module]
    assert not [c for c in calls if c.endswith("." + closed)]
    assert len(calls) == 2 * 3  # the other three modules of both layers ran


def test_accepts_stock_options():
    encoder = GatedEBranchformerEncoder(
        input_size=20,
        output_size=16,
        attention_heads=2,
        num_blocks=3,
        use_ffn=True,
        macaron_ffn=True,
        linear_units=32,
        cgmlp_linear_units=32,
        input_layer="conv2d",
        layer_drop_rate=0.1,
        interctc_layer_idx=[1],
        attention_layer_type="selfattn",
        pos_enc_layer_type="abs_pos",
    ).eval()
    feats, lengths = torch.randn(1, 50, 20), torch.tensor([50])
    with torch.no_grad(), encoder.gates_applied(torch.ones(1, 3, 4)):
        (out, inter), _, _ = encoder(feats, lengths)
    assert out.shape[-1] == 16 and inter[0][0] == 1


@pytest.mark.parametrize(
    ("use_ffn", "macaron_ffn", "modules"),
    [
        (False, False, ("self_attn", "cgmlp")),  # ESPnet's defaults
        (True, False, ("self_attn", "cgmlp", "ffn")),
        (False, True, ("self_attn", "cgmlp")),  # ESPnet: macaron needs use_ffn
        (True, True, ("macaron_ffn", "self_attn", "cgmlp", "ffn")),
    ],
)
def test_a_module_that_does_not_exist_has_no_gate(use_ffn, macaron_ffn, modules):
    conf = {**TINY_ENCODER, "use_ffn": use_ffn, "macaron_ffn": macaron_ffn}
    torch.manual_seed(0)
    stock = EBranchformerEncoder(**conf).eval()
    torch.manual_seed(0)
    gated = GatedEBranchformerEncoder(**conf).eval()
    assert gated.gate_modules == modules
    feats = torch.randn(2, 50, 20, generator=torch.Generator().manual_seed(1))
    lengths = torch.tensor([50, 37])
    with torch.no_grad():
        want, _, _ = stock(feats, lengths)
        with gated.gates_applied(torch.ones(2, 2, len(modules))):
            got, _, _ = gated(feats, lengths)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
        # closing each present module: the hard skip equals soft zero gating
        for module in range(len(modules)):
            gates = torch.ones(2, 2, len(modules))
            gates[:, 0, module] = 0.0
            with gated.gates_applied(gates):
                hard, _, _ = gated(feats, lengths)
            with torch.enable_grad(), gated.gates_applied(gates.requires_grad_()):
                soft, _, _ = gated(feats, lengths)
            torch.testing.assert_close(hard, soft.detach(), atol=1e-5, rtol=1e-5)


def test_rejects_badly_shaped_gates(gated_model):
    with pytest.raises(ValueError, match=r"\(batch, 2, 4\)"):
        gated_model.encoder.set_gates(torch.ones(1, 3, 4))


def test_cached_merge_follows_weight_updates(gated_model, speech, speech_lengths):
    """Inference caches the split merge weights; changed weights are picked up."""
    feats, lengths = _features(gated_model, speech, speech_lengths)
    gates = torch.ones(2, 2, 4)
    gates[:, 0, 1] = 0.0  # attention closed: split merge
    gates[:, 1, 1:3] = 0.0  # both branches closed: constant merge

    def hard_and_soft():
        with torch.no_grad(), gated_model.encoder.gates_applied(gates):
            hard, _, _ = gated_model.encoder(feats, lengths)
        with gated_model.encoder.gates_applied(gates.clone().requires_grad_(True)):
            soft, _, _ = gated_model.encoder(feats, lengths)
        return hard, soft.detach()

    before, _ = hard_and_soft()
    state = {k: v.clone() for k, v in gated_model.encoder.state_dict().items()}
    for key, value in state.items():
        if "merge_proj" in key or "depthwise_conv_fusion" in key:
            state[key] = value * 2.0
    gated_model.encoder.load_state_dict(state)
    hard, soft = hard_and_soft()
    torch.testing.assert_close(hard, soft, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(hard, before)


def test_grouped_encoding_equals_one_utterance_at_a_time(gated_model):
    masks = torch.ones(3, 2, 4)
    masks[0, 0, 1] = masks[2, 0, 1] = 0.0  # rows 0 and 2 share a mask
    masks[1, 1, 2:] = 0.0
    assert [g.tolist() for g in group_rows(masks)] == [[0, 2], [1]]
    speech = torch.randn(3, 8000, generator=torch.Generator().manual_seed(0))
    lengths = torch.tensor([8000, 6400, 8000])  # ESPnet: padding changes lengths
    gated_model.set_inference_context(gate_mode="dense")

    def encode(wav, lens, gates):
        with gated_model.encoder_gates(gates):
            return gated_model.encode(wav, lens)

    with torch.no_grad():
        got, got_lengths = encode_grouped(encode, speech, lengths, masks)
        for row in range(3):
            one = slice(row, row + 1)
            wav = speech[one, : int(lengths[row])]
            want, want_lengths = encode(wav, lengths[one], masks[one])
            assert int(got_lengths[row]) == int(want_lengths[0])
            frames = int(want_lengths[0])
            torch.testing.assert_close(
                got[row, :frames], want[0, :frames], atol=1e-5, rtol=1e-5
            )


@pytest.mark.parametrize(
    "pruned, message",
    [
        ([["self_attn"]], r"pruned_modules: needs one list per layer \(3\), got 1"),
        ([[], ["attention"], []], r"pruned_modules\[1\]: unknown module.*'attention'"),
    ],
)
def test_pruned_modules_are_validated(pruned, message):
    conf = dict(input_size=20, output_size=16, use_ffn=True, macaron_ffn=True)
    with pytest.raises(ValueError, match=message):
        GatedEBranchformerEncoder(num_blocks=3, pruned_modules=pruned, **conf)
