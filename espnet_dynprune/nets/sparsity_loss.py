"""Sparsity loss that drives the fraction of closed gates to a target.

Paper form: ``weight * (|g - s| + (g - s)^2)`` per gated part with a target,
where ``g`` is the batch-mean fraction of closed gates and ``s`` the target. The
squared term keeps the pull strong near the target. With ``flops_weighted``
each gate counts by its module's measured FLOPs, so ``g`` is the fraction of
gateable FLOPs skipped.
"""

from typing import Optional

import torch

from espnet_dynprune.nets.gate_config import SparsityConfig
from espnet_dynprune.nets.gate_contract import GateMask

__all__ = ["SparsityLoss"]


def _closed_fraction(gates: torch.Tensor, costs: torch.Tensor) -> torch.Tensor:
    """Batch-mean, cost-weighted fraction of closed gates in ``(B, L, M)``."""
    closed = (1.0 - gates) * costs  # [B, L, M]
    return closed.sum(dim=(1, 2)).mean() / costs.sum()


class SparsityLoss(torch.nn.Module):
    """Sparsity loss and the sparsity statistics shown in ESPnet's training log.

    Args:
        config: targets, weight and weighting.
    """

    def __init__(self, config: SparsityConfig) -> None:
        super().__init__()
        self.config = config
        self.targets = {"enc": config.encoder_target, "dec": config.decoder_target}

    def forward(
        self,
        gates: GateMask,
        encoder_flops: Optional[torch.Tensor],
        decoder_flops: Optional[torch.Tensor],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss and stats (``sparsity_enc``, ``sparsity_dec``, ``sparsity_flops``).

        Args:
            gates: the predicted gates.
            encoder_flops: ``(M_enc,)`` FLOPs of each encoder layer module.
            decoder_flops: ``(M_dec,)`` FLOPs of each decoder layer module.
        """
        present = [g for g in (gates.encoder, gates.decoder) if g is not None]
        loss = present[0].new_zeros(())
        stats: dict[str, torch.Tensor] = {}
        closed_flops, total_flops = 0.0, 0.0
        for part, part_gates, module_flops in (
            ("enc", gates.encoder, encoder_flops),
            ("dec", gates.decoder, decoder_flops),
        ):
            if part_gates is None:
                continue
            flops = module_flops.expand_as(part_gates[0])  # [L, M]
            fraction = _closed_fraction(part_gates, torch.ones_like(flops))
            flops_fraction = _closed_fraction(part_gates, flops)
            stats[f"sparsity_{part}"] = fraction.detach()
            closed_flops = closed_flops + flops_fraction.detach() * flops.sum()
            total_flops = total_flops + flops.sum()
            target = self.targets[part]
            if target is None:  # a gated part without a sparsity term
                continue
            driven = flops_fraction if self.config.flops_weighted else fraction
            gap = driven - target
            loss = loss + gap.abs() + gap.pow(2)
        loss = self.config.weight * loss
        stats["sparsity_flops"] = closed_flops / total_flops
        stats["loss_sparsity"] = loss.detach()
        return loss, stats
