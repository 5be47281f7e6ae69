"""ESPnet's ``gradient_checkpoint_layers`` with gates in training: backward
recomputes each checkpointed layer under the gates it ran with (``gates_applied``
has cleared them by then), and without gates ESPnet's own checkpointing runs."""

import pytest
import torch
from espnet2.asr.encoder.e_branchformer_encoder import EBranchformerEncoder

from espnet_dynprune.nets.gated_e_branchformer_encoder import GatedEBranchformerEncoder

from helpers.model_factory import TINY_ENCODER

CONF = dict(
    **TINY_ENCODER,
    dropout_rate=0.0,
    positional_dropout_rate=0.0,
    attention_dropout_rate=0.0,
)
# (B, L, M): 0/1 gates, mixed within each layer and across rows
HARD = torch.tensor(
    [[[1, 0, 1, 1], [1, 1, 0, 0]], [[0, 1, 1, 0], [1, 0, 1, 1]]],
    dtype=torch.float,
)
OPTIONS = [
    {},
    {"attention_layer_type": "selfattn", "pos_enc_layer_type": "abs_pos"},
    {"interctc_layer_idx": [1]},
    {"layer_drop_rate": 0.5},
]


def _train(encoder_class: type, checkpoint_layers: list[int], options: dict, gated):
    """Outputs, parameter gradients and gate gradient of one training step."""
    torch.manual_seed(0)
    encoder = encoder_class(
        **CONF, **options, gradient_checkpoint_layers=checkpoint_layers
    ).train()
    generator = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 60, 20, generator=generator)
    lengths = torch.tensor([60, 41])
    logits = torch.randn(HARD.shape, generator=generator, requires_grad=True)
    soft = torch.sigmoid(logits)
    gates = HARD + soft - soft.detach()  # straight-through: 0/1 forward values
    gates.retain_grad()
    torch.manual_seed(2)  # the same layers dropped (layer_drop_rate)
    if gated:
        with encoder.gates_applied(gates):
            out, _, _ = encoder(feats, lengths)
    else:
        out, _, _ = encoder(feats, lengths)
    outputs = [out[0], *(h for _, h in out[1])] if isinstance(out, tuple) else [out]
    weights = torch.randn(outputs[0].shape, generator=generator)
    sum((h * weights).sum() for h in outputs).backward()
    grads = {name: p.grad for name, p in encoder.named_parameters()}
    return encoder, outputs, grads, gates.grad


def _assert_same(got, want) -> None:
    _, got_outputs, got_grads, got_gate_grad = got
    _, want_outputs, want_grads, want_gate_grad = want
    for g, w in zip(got_outputs, want_outputs, strict=True):
        torch.testing.assert_close(g, w, atol=1e-6, rtol=0)
    assert got_grads.keys() == want_grads.keys()
    for name, grad in got_grads.items():
        if want_grads[name] is None:  # a dropped layer
            assert grad is None, name
        else:
            torch.testing.assert_close(grad, want_grads[name], atol=1e-6, rtol=0)
    if want_gate_grad is None:
        assert got_gate_grad is None
    else:
        torch.testing.assert_close(got_gate_grad, want_gate_grad, atol=1e-6, rtol=0)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("checkpoint_layers", [[0, 1], [1, 2]])
def test_checkpointed_gated_training_equals_plain(checkpoint_layers, options):
    plain = _train(GatedEBranchformerEncoder, [], options, gated=True)
    assert plain[3].abs().sum() > 0  # the gates receive a gradient
    got = _train(GatedEBranchformerEncoder, checkpoint_layers, options, gated=True)
    _assert_same(got, plain)
    encoder = got[0]
    assert encoder.gradient_checkpoint_layers == checkpoint_layers  # kept
    assert not any(layer.checkpoint_gated for layer in encoder.encoders)


@pytest.mark.parametrize("options", OPTIONS)
def test_without_gates_checkpointing_is_espnets(options):
    got = _train(GatedEBranchformerEncoder, [0, 1, 2], options, gated=False)
    want = _train(EBranchformerEncoder, [0, 1, 2], options, gated=False)
    _assert_same(got, want)


@pytest.mark.parametrize("gated", [True, False])
def test_checkpointed_layers_are_recomputed(gated):
    torch.manual_seed(0)
    encoder = GatedEBranchformerEncoder(**CONF, gradient_checkpoint_layers=[2]).train()
    calls = [0, 0]
    for index, layer in enumerate(encoder.encoders):
        layer.feed_forward_macaron.register_forward_hook(
            lambda *_, index=index: calls.__setitem__(index, calls[index] + 1)
        )
    feats = torch.randn(2, 60, 20, generator=torch.Generator().manual_seed(1))
    gates = HARD.clone().requires_grad_(True) if gated else None
    with encoder.gates_applied(gates):
        out, _, _ = encoder(feats, torch.tensor([60, 41]))
    assert calls == [1, 1]
    out.sum().backward()
    assert calls == [1, 2]  # only the second layer ran again, in backward
