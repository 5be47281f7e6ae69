"""The model-side gating component: predictor + sparsity loss for one model.

It owns everything a dynamic-pruning model adds to a stock ESPnet model, under
the state-dict prefix ``gating.`` (so the backbone keys stay ESPnet's own).
Which parts carry gates is ``gate_predictor_conf.parts``; the sparsity targets
only weigh the loss.
"""

import logging
from typing import Optional

import torch

from espnet_dynprune.nets.context_vocabulary import ContextVocabulary
from espnet_dynprune.nets.flops import (
    decoder_module_flops,
    encoder_module_flops,
    encoder_output_frames,
)
from espnet_dynprune.nets.gate_config import (
    GatePredictorConfig,
    SparsityConfig,
    check_targets,
    parts_with_targets,
)
from espnet_dynprune.nets.gate_contract import GatedStackMixin, GateMask
from espnet_dynprune.nets.gate_predictor import GatePredictor
from espnet_dynprune.nets.sparsity_loss import SparsityLoss

__all__ = ["GATE_PREFIX", "DynPruneGating", "describe_gates"]

GATE_PREFIX = "gating."
"""State-dict prefix of everything gating adds (the models' ``gating`` attribute)."""

_GATED_CLASS = {"encoder": "gated_e_branchformer", "decoder": "gated_transformer"}

logger = logging.getLogger(__name__)


def _require_gated(module: Optional[torch.nn.Module], part: str) -> None:
    if not isinstance(module, GatedStackMixin):
        raise ValueError(
            f"gate_predictor_conf.parts has {part!r}, so the model needs "
            f"{part}: {_GATED_CLASS[part]} (got {type(module).__name__})"
        )


def gated_parts(
    predictor_config: GatePredictorConfig, sparsity_config: SparsityConfig
) -> tuple[str, ...]:
    """The parts that carry gates; checked against the sparsity targets.

    Configs without ``gate_predictor_conf.parts`` (written before the key
    existed) gate the parts that have a target, as those versions did.

    Raises:
        ValueError: a target for a part that carries no gates.
    """
    parts = predictor_config.parts
    if parts is None:
        parts = parts_with_targets(sparsity_config)
        logger.warning(
            "gate_predictor_conf.parts is not set: gating %s, the parts with a "
            "sparsity target; add 'parts: %s' to gate_predictor_conf",
            list(parts),
            list(parts),
        )
    check_targets(parts, sparsity_config)
    return parts


class DynPruneGating(torch.nn.Module):
    """Predicts a :class:`GateMask` per utterance and scores its sparsity.

    Args:
        predictor_config: ``model_conf.gate_predictor_conf``.
        sparsity_config: ``model_conf.sparsity_conf``.
        token_list: the model's token list (for language / task symbols).
        encoder: the model's encoder (a gated stack if ``parts`` has it).
        decoder: the model's decoder (a gated stack if ``parts`` has it).
        feature_dim: size of the normalised input features (acoustic mode).
    """

    def __init__(
        self,
        predictor_config: GatePredictorConfig,
        sparsity_config: SparsityConfig,
        token_list: list,
        encoder: torch.nn.Module,
        decoder: Optional[torch.nn.Module],
        feature_dim: Optional[int],
    ) -> None:
        super().__init__()
        self.sparsity_config = sparsity_config
        self.parts = gated_parts(predictor_config, sparsity_config)
        self.encoder_shape = self.decoder_shape = None
        if "encoder" in self.parts:
            _require_gated(encoder, "encoder")
            self.encoder_shape = (encoder.num_gated_layers(), len(encoder.gate_modules))
        if "decoder" in self.parts:
            _require_gated(decoder, "decoder")
            self.decoder_shape = (decoder.num_gated_layers(), len(decoder.gate_modules))
        # Plain tuple: the stacks belong to the model, not to this component.
        self._stacks = (encoder, decoder)
        self.register_buffer("encoder_flops", None, persistent=False)
        self.register_buffer("decoder_flops", None, persistent=False)
        self.feature_dim = feature_dim
        self.vocabulary = ContextVocabulary(token_list)
        self.predictor = GatePredictor(
            predictor_config, self.vocabulary, self._num_gates(), feature_dim
        )
        self.sparsity = SparsityLoss(sparsity_config)

    def module_flops(self) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Per-module FLOPs of the gated parts, measured once on first use."""
        encoder, decoder = self._stacks
        conf = self.sparsity_config
        if self.encoder_shape is not None and self.encoder_flops is None:
            self.encoder_flops = encoder_module_flops(encoder, conf.reference_frames)
        if self.decoder_shape is not None and self.decoder_flops is None:
            # the memory the decoder attends to: the encoder's own output for
            # the reference input (its subsampling and size, asked of it)
            self.decoder_flops = decoder_module_flops(
                decoder,
                conf.reference_tokens,
                encoder_output_frames(
                    encoder, conf.reference_frames, self._feature_size()
                ),
                encoder.output_size(),
            )
        return self.encoder_flops, self.decoder_flops

    def _feature_size(self) -> int:
        if self.feature_dim is None:
            raise ValueError(
                "cannot measure the decoder's FLOPs: the model has no frontend and "
                "its encoder does not say its input size"
            )
        return self.feature_dim

    def sparsity_loss(
        self, gates: GateMask
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Sparsity loss and stats for predicted gates."""
        return self.sparsity(gates, *self.module_flops())

    def _num_gates(self) -> int:
        return sum(
            shape[0] * shape[1]
            for shape in (self.encoder_shape, self.decoder_shape)
            if shape is not None
        )

    @property
    def config(self) -> GatePredictorConfig:
        """The predictor's configuration."""
        return self.predictor.config

    def is_trained(self) -> bool:
        """Whether the predictor was trained (here or in the loaded checkpoint)."""
        return bool(self.predictor.num_updates.item() > 0)

    def predict(
        self,
        lang: Optional[torch.Tensor],
        task: Optional[torch.Tensor],
        pooled_features: Optional[torch.Tensor],
    ) -> GateMask:
        """Gates for a batch, from ``(B,)`` context indices and ``(B, F)`` features."""
        flat = self.predictor(lang, task, pooled_features)  # [B, G]
        batch = flat.size(0)
        masks = {}
        offset = 0
        for part, shape in (
            ("encoder", self.encoder_shape),
            ("decoder", self.decoder_shape),
        ):
            if shape is None:
                masks[part] = None
                continue
            size = shape[0] * shape[1]
            masks[part] = flat[:, offset : offset + size].view(batch, *shape)
            offset += size
        return GateMask(**masks)

    def context_indices(
        self, token_ids: torch.Tensor
    ) -> dict[str, Optional[torch.Tensor]]:
        """Predictor indices from ``(B, >=2)`` text prefixes ``<lang><task>...``."""
        return {
            kind: self.vocabulary.indices(token_ids[:, position], kind)
            if kind in self.config.context
            else None
            for position, kind in enumerate(("lang", "task"))
        }


def describe_gates(gates: GateMask, row: int = 0) -> dict[str, str]:
    """Human-readable gates of one utterance: one 0/1 group per layer.

    Example: ``{"encoder": "1111 1011", "decoder": "111 010"}``.
    """
    out = {}
    for part in ("encoder", "decoder"):
        mask = getattr(gates, part)
        if mask is not None:
            layers = (mask[row] > 0.5).int().tolist()
            out[part] = " ".join("".join(map(str, layer)) for layer in layers)
    return out
