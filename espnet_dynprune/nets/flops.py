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

__all__ = [
    "count_flops",
    "decoder_module_flops",
    "encoder_module_flops",
    "encoder_output_frames",
]


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


def encoder_output_frames(
    encoder: torch.nn.Module, frames: int, input_size: int
) -> int:
    """Frames an ESPnet encoder makes of ``frames`` input frames.

    Asked of the encoder itself (one forward pass on zeros), so every input
    layer's subsampling is right, whatever its factor or padding.

    Args:
        encoder: any ESPnet 2 encoder (``forward(xs, ilens) -> (ys, olens, _)``).
        frames: input frames.
        input_size: feature size of the encoder input.
    """
    param = next(encoder.parameters())
    feats = torch.zeros(1, frames, input_size, device=param.device)
    lengths = torch.tensor([frames], device=param.device)
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            _, out_lengths, _ = encoder(feats, lengths)
    finally:
        encoder.train(was_training)
    return int(out_lengths[0])


def decoder_module_flops(
    decoder: GatedTransformerDecoder,
    tokens: int,
    memory_frames: int,
    memory_size: int,
) -> torch.Tensor:
    """``(len(DECODER_MODULES),)`` FLOPs per layer, teacher-forced on ``tokens``.

    Args:
        decoder: the gated decoder.
        tokens: teacher-forced target length.
        memory_frames: length of the encoder output attended to.
        memory_size: feature size of the encoder output (``output_size()``).
    """
    param = next(decoder.parameters())
    memory = torch.zeros(1, memory_frames, memory_size, device=param.device)
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
