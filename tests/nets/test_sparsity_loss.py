"""The sparsity loss against its definition, on hand-written gate masks.

Every expected value here is counted by hand from the masks below, not computed
with the module's own helpers.
"""

import pytest
import torch

from espnet_dynprune.nets.gate_config import SparsityConfig
from espnet_dynprune.nets.gate_contract import GateMask
from espnet_dynprune.nets.sparsity_loss import SparsityLoss

# Encoder gates [B=2, L=2, M=4], 1 = module runs.
# Row 0: all open (0 closed). Row 1: closed (l0, m0), (l0, m2), (l1, m3): 3 of 8.
ENC_MASK = [
    [[1, 1, 1, 1], [1, 1, 1, 1]],
    [[0, 1, 0, 1], [1, 1, 1, 0]],
]
ENC_FLOPS = [4.0, 2.0, 2.0, 1.0]  # 9 per layer, 18 in all
G_ENC = (0 / 8 + 3 / 8) / 2  # = 3/16
# Closed cost: row 0: 0, row 1: 4 + 2 + 1 = 7; batch mean 3.5 of 18.
G_ENC_FLOPS = 3.5 / 18  # = 7/36

# Decoder gates [B=2, L=2, M=3].
# Row 0: closed (l0, m1), (l1, m2): 2 of 6. Row 1: closed (l1, m1): 1 of 6.
DEC_MASK = [
    [[1, 0, 1], [1, 1, 0]],
    [[1, 1, 1], [1, 0, 1]],
]
DEC_FLOPS = [1.0, 2.0, 3.0]  # 6 per layer, 12 in all
G_DEC = (2 / 6 + 1 / 6) / 2  # = 1/4
# Closed cost: row 0: 2 + 3 = 5, row 1: 2; batch mean 3.5 of 12.
G_DEC_FLOPS = 3.5 / 12  # = 7/24

# Both parts: batch-mean closed cost (3.5 + 3.5) of all gateable cost (18 + 12).
G_ALL_FLOPS = 7.0 / 30.0


def paper_term(g: float, s: float) -> float:
    """``|g - s| + (g - s)^2``, the loss of one part before the weight."""
    return abs(g - s) + (g - s) ** 2


def enc_mask(**kwargs) -> torch.Tensor:
    return torch.tensor(ENC_MASK, dtype=torch.float32, **kwargs)


def dec_mask(**kwargs) -> torch.Tensor:
    return torch.tensor(DEC_MASK, dtype=torch.float32, **kwargs)


def enc_flops() -> torch.Tensor:
    return torch.tensor(ENC_FLOPS)


def dec_flops() -> torch.Tensor:
    return torch.tensor(DEC_FLOPS)


def run_loss(config: SparsityConfig, encoder=None, decoder=None):
    """Loss and stats with the hand-written per-module FLOPs."""
    loss_fn = SparsityLoss(config)
    gates = GateMask(encoder=encoder, decoder=decoder)
    return loss_fn(gates, enc_flops(), dec_flops())


def assert_value(tensor: torch.Tensor, expected: float) -> None:
    assert tensor.dim() == 0
    torch.testing.assert_close(tensor, torch.tensor(expected), rtol=1e-6, atol=1e-7)


def test_hand_counted_fractions_are_distinct():
    """The masks tell weighted from unweighted and part from part."""
    values = [G_ENC, G_ENC_FLOPS, G_DEC, G_DEC_FLOPS, G_ALL_FLOPS]
    assert len(set(values)) == len(values)


def test_decoder_only_loss_equals_definition():
    config = SparsityConfig(encoder_target=None, decoder_target=0.5, weight=2.0)
    loss, _ = run_loss(config, decoder=dec_mask())
    assert_value(loss, 2.0 * paper_term(G_DEC, 0.5))


def test_encoder_only_loss_equals_definition():
    config = SparsityConfig(encoder_target=0.1, decoder_target=None, weight=0.5)
    loss, _ = run_loss(config, encoder=enc_mask())
    assert_value(loss, 0.5 * paper_term(G_ENC, 0.1))


def test_both_parts_loss_is_weighted_sum_of_part_terms():
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5, weight=3.0)
    loss, _ = run_loss(config, encoder=enc_mask(), decoder=dec_mask())
    expected = 3.0 * (paper_term(G_ENC, 0.1) + paper_term(G_DEC, 0.5))
    assert_value(loss, expected)


def test_loss_is_zero_at_the_target():
    config = SparsityConfig(encoder_target=None, decoder_target=0.25, weight=5.0)
    loss, stats = run_loss(config, decoder=dec_mask())
    assert G_DEC == 0.25
    assert_value(loss, 0.0)
    assert_value(stats["loss_sparsity"], 0.0)


def test_loss_is_symmetric_around_the_target():
    """Too few and too many closed gates by the same amount cost the same."""
    below = SparsityConfig(encoder_target=None, decoder_target=0.5)
    above = SparsityConfig(encoder_target=None, decoder_target=0.0)
    loss_below, _ = run_loss(below, decoder=dec_mask())  # g - s = -0.25
    loss_above, _ = run_loss(above, decoder=dec_mask())  # g - s = +0.25
    assert_value(loss_below, 0.25 + 0.25**2)
    assert_value(loss_above, 0.25 + 0.25**2)


def test_flops_weighted_loss_uses_cost_weighted_fraction():
    config = SparsityConfig(
        encoder_target=0.1, decoder_target=0.5, weight=2.0, flops_weighted=True
    )
    loss, _ = run_loss(config, encoder=enc_mask(), decoder=dec_mask())
    expected = 2.0 * (paper_term(G_ENC_FLOPS, 0.1) + paper_term(G_DEC_FLOPS, 0.5))
    assert_value(loss, expected)


def test_flops_weighted_loss_is_zero_at_the_cost_weighted_fraction():
    config = SparsityConfig(
        encoder_target=None, decoder_target=G_DEC_FLOPS, flops_weighted=True
    )
    loss, _ = run_loss(config, decoder=dec_mask())
    assert_value(loss, 0.0)


def test_uniform_flops_weighting_equals_unweighted():
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5, flops_weighted=True)
    gates = GateMask(encoder=enc_mask(), decoder=dec_mask())
    loss, _ = SparsityLoss(config)(gates, torch.full((4,), 7.0), torch.full((3,), 2.0))
    assert_value(loss, paper_term(G_ENC, 0.1) + paper_term(G_DEC, 0.5))


@pytest.mark.parametrize("flops_weighted", [False, True])
def test_stats_report_hand_counted_fractions(flops_weighted):
    """Stats are the same whichever fraction drives the loss."""
    config = SparsityConfig(
        encoder_target=0.1,
        decoder_target=0.5,
        weight=2.0,
        flops_weighted=flops_weighted,
    )
    loss, stats = run_loss(config, encoder=enc_mask(), decoder=dec_mask())
    assert set(stats) == {
        "sparsity_enc",
        "sparsity_dec",
        "sparsity_flops",
        "loss_sparsity",
    }
    assert_value(stats["sparsity_enc"], G_ENC)
    assert_value(stats["sparsity_dec"], G_DEC)
    assert_value(stats["sparsity_flops"], G_ALL_FLOPS)
    torch.testing.assert_close(stats["loss_sparsity"], loss.detach())


def test_stats_of_one_part_cover_that_part_only():
    config = SparsityConfig(encoder_target=None, decoder_target=0.5)
    _, stats = run_loss(config, decoder=dec_mask())
    assert set(stats) == {"sparsity_dec", "sparsity_flops", "loss_sparsity"}
    assert_value(stats["sparsity_dec"], G_DEC)
    assert_value(stats["sparsity_flops"], G_DEC_FLOPS)


def test_stats_carry_no_gradient():
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5)
    _, stats = run_loss(
        config,
        encoder=enc_mask(requires_grad=True),
        decoder=dec_mask(requires_grad=True),
    )
    assert all(not value.requires_grad for value in stats.values())


def test_part_without_gates_adds_no_term_stat_or_flops():
    """``None`` gates leave the part dense, even if it has a target."""
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5, weight=2.0)
    loss, stats = SparsityLoss(config)(
        GateMask(encoder=None, decoder=dec_mask()), None, dec_flops()
    )
    assert_value(loss, 2.0 * paper_term(G_DEC, 0.5))
    assert "sparsity_enc" not in stats
    assert_value(stats["sparsity_flops"], G_DEC_FLOPS)


def test_gated_part_without_target_is_reported_but_adds_no_term():
    """Encoder gated, no encoder target: its stats count, the loss ignores it."""
    config = SparsityConfig(encoder_target=None, decoder_target=0.5, weight=2.0)
    encoder, decoder = enc_mask(requires_grad=True), dec_mask(requires_grad=True)
    loss, stats = run_loss(config, encoder=encoder, decoder=decoder)
    assert_value(loss, 2.0 * paper_term(G_DEC, 0.5))
    assert_value(stats["sparsity_enc"], G_ENC)
    assert_value(stats["sparsity_dec"], G_DEC)
    assert_value(stats["sparsity_flops"], G_ALL_FLOPS)
    loss.backward()
    assert encoder.grad is None or not encoder.grad.any()
    assert decoder.grad.all()


def test_gradient_opens_gates_when_too_many_are_closed():
    """g = 1/4 > s = 0.1: descending the loss raises every gate (opens)."""
    config = SparsityConfig(encoder_target=None, decoder_target=0.1, weight=2.0)
    gates = dec_mask(requires_grad=True)
    loss, _ = run_loss(config, decoder=gates)
    loss.backward()
    gap = G_DEC - 0.1
    # dL/dg = weight * (sign(gap) + 2 gap); dg/dgate = -1 / (B * L * M).
    expected = -2.0 * (1.0 + 2.0 * gap) / 12
    assert (gates.grad < 0).all()
    torch.testing.assert_close(gates.grad, torch.full((2, 2, 3), expected))


def test_gradient_closes_gates_when_too_few_are_closed():
    """g = 1/4 < s = 0.5: descending the loss lowers every gate (closes)."""
    config = SparsityConfig(encoder_target=None, decoder_target=0.5, weight=2.0)
    gates = dec_mask(requires_grad=True)
    loss, _ = run_loss(config, decoder=gates)
    loss.backward()
    gap = G_DEC - 0.5
    expected = -2.0 * (-1.0 + 2.0 * gap) / 12
    assert (gates.grad > 0).all()
    torch.testing.assert_close(gates.grad, torch.full((2, 2, 3), expected))


@pytest.mark.parametrize("target", [0.05, 0.6])
def test_gradient_step_moves_fraction_towards_target(target):
    config = SparsityConfig(encoder_target=target, decoder_target=None)
    gates = enc_mask(requires_grad=True)
    loss, stats = run_loss(config, encoder=gates)
    loss.backward()
    stepped = (gates - 0.5 * gates.grad).detach()
    _, stepped_stats = run_loss(config, encoder=stepped)
    before = abs(stats["sparsity_enc"].item() - target)
    after = abs(stepped_stats["sparsity_enc"].item() - target)
    assert after < before


def test_flops_weighted_gradient_is_proportional_to_module_cost():
    config = SparsityConfig(
        encoder_target=None, decoder_target=0.5, flops_weighted=True
    )
    gates = dec_mask(requires_grad=True)
    loss, _ = run_loss(config, decoder=gates)
    loss.backward()
    gap = G_DEC_FLOPS - 0.5
    # dg/dgate = -cost / (B * total cost).
    per_cost = -(-1.0 + 2.0 * gap) / (2 * 12)
    expected = per_cost * dec_flops().expand(2, 2, 3)
    assert (gates.grad > 0).all()
    torch.testing.assert_close(gates.grad, expected)


def test_gradients_reach_both_parts():
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5)
    encoder, decoder = enc_mask(requires_grad=True), dec_mask(requires_grad=True)
    loss, _ = run_loss(config, encoder=encoder, decoder=decoder)
    loss.backward()
    assert (encoder.grad < 0).all()  # G_ENC = 3/16 > 0.1
    assert (decoder.grad > 0).all()  # G_DEC = 1/4 < 0.5


def test_zero_weight_gives_zero_loss_but_reports_stats():
    config = SparsityConfig(encoder_target=0.1, decoder_target=0.5, weight=0.0)
    encoder, decoder = enc_mask(requires_grad=True), dec_mask(requires_grad=True)
    loss, stats = run_loss(config, encoder=encoder, decoder=decoder)
    assert_value(loss, 0.0)
    assert_value(stats["loss_sparsity"], 0.0)
    assert_value(stats["sparsity_enc"], G_ENC)
    assert_value(stats["sparsity_dec"], G_DEC)
    loss.backward()
    assert not encoder.grad.any() and not decoder.grad.any()
