"""Per-module FLOPs of gated stacks, measured with ``torch.utils.flop_counter``.

A module's cost is measured, not modelled: run one reference input through the
real stack with every gate open, then with that module closed in layer 0, and
count the difference. This includes what closing it saves around it (its layer
norm, its half of the E-Branchformer merge).
"""

from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from espnet_dynprune.nets.gate_contract import GatedStackMixin
from espnet_dynprune.nets.gated_e_branchformer_encoder import GatedEBranchformerEncoder
from espnet_dynprune.nets.gated_transformer_decoder import GatedTransformerDecoder

__all__ = ["count_flops", "decoder_module_flops", "encoder_module_flops"]


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (no gradient)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def _module_flops(stack: GatedStackMixin, run: Callable[[], object]) -> torch.Tensor:
    """``(M,)`` FLOPs saved by closing each module of layer 0 of ``stack``."""
    num_layers, num_modules = stack.num_gated_layers(), len(stack.gate_modules)
    was_training = stack.training
    stack.eval()
    try:
        with stack.gates_applied(torch.ones(1, num_layers, num_modules)):
            dense = count_flops(run)
        costs = []
        for module in range(num_modules):
            gates = torch.ones(1, num_layers, num_modules)
            gates[0, 0, module] = 0.0
            with stack.gates_applied(gates):
                costs.append(dense - count_flops(run))
    finally:
        stack.train(was_training)
    return torch.tensor(costs, dtype=torch.float)


def encoder_module_flops(
    encoder: GatedEBranchformerEncoder, frames: int
) -> torch.Tensor:
    """``(len(ENCODER_MODULES),)`` FLOPs per layer for ``frames`` input frames."""
    param = next(encoder.parameters())
    feats = torch.zeros(1, frames, encoder.input_size, device=param.device)
    lengths = torch.tensor([frames], device=param.device)
    return _module_flops(encoder, lambda: encoder(feats, lengths, max_layer=1))


def decoder_module_flops(
    decoder: GatedTransformerDecoder, tokens: int, memory_frames: int
) -> torch.Tensor:
    """``(len(DECODER_MODULES),)`` FLOPs per layer, teacher-forced on ``tokens``."""
    param = next(decoder.parameters())
    memory = torch.zeros(1, memory_frames, decoder._output_size_bf_softmax)
    memory = memory.to(param.device)
    ys = torch.zeros(1, tokens, dtype=torch.long, device=param.device)
    return _module_flops(
        decoder,
        lambda: decoder(
            memory,
            torch.tensor([memory_frames], device=param.device),
            ys,
            torch.tensor([tokens], device=param.device),
        ),
    )
