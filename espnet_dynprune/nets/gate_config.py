"""Typed, self-validating configurations for the gate predictor and sparsity loss.

ESPnet passes ``model_conf`` entries as plain dicts; :func:`from_dict` turns them
into these dataclasses at once, rejecting unknown keys and bad values with a
``ValueError`` that names the key.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

__all__ = [
    "GATED_PARTS",
    "GatePredictorConfig",
    "SparsityConfig",
    "check_targets",
    "from_dict",
    "parts_with_targets",
]

ConfigT = TypeVar("ConfigT")

CONTEXT_KINDS = ("lang", "task")
GATED_PARTS = ("encoder", "decoder")


@dataclass(frozen=True)
class GatePredictorConfig:
    """``model_conf.gate_predictor_conf``: what the gate predictor sees and how.

    Args:
        parts: the parts that carry gates, a subset of ``encoder`` and
            ``decoder`` (in that order in the predictor's output). A structural
            setting: it fixes the predictor's shape. ``None`` (configs written
            before this key existed): the parts with a sparsity target.
        context: context tokens fed to the predictor, a subset of ``lang`` and
            ``task`` (S2T text prefix ``<lang><task>``). Empty for acoustic-only.
        acoustic: also feed time-pooled, normalised input features.
        embed_dim: size of each context embedding and of the acoustic projection.
        hidden_dim: hidden size of the predictor MLP.
        init_open_logit: initial logit margin in favour of "open", so that gates
            start open when training from a dense backbone.
        temperature_start: Gumbel-Softmax temperature at the first update.
        temperature_end: temperature reached after ``temperature_anneal_steps``.
        temperature_anneal_steps: training forward passes of exponential annealing.
    """

    parts: Optional[tuple[str, ...]] = None
    context: tuple[str, ...] = CONTEXT_KINDS
    acoustic: bool = False
    embed_dim: int = 64
    hidden_dim: int = 256
    init_open_logit: float = 3.0
    temperature_start: float = 1.0
    temperature_end: float = 0.1
    temperature_anneal_steps: int = 10000

    def __post_init__(self) -> None:
        if self.parts is not None:
            parts = tuple(self.parts)
            unknown = [p for p in parts if p not in GATED_PARTS]
            if unknown or not parts or len(set(parts)) != len(parts):
                raise ValueError(
                    f"gate_predictor_conf.parts: got {list(parts)}; give one or "
                    f"both of {list(GATED_PARTS)}, each once"
                )
            # canonical order: the predictor's output is encoder gates first
            object.__setattr__(
                self, "parts", tuple(p for p in GATED_PARTS if p in parts)
            )
        object.__setattr__(self, "context", tuple(self.context))
        unknown = [c for c in self.context if c not in CONTEXT_KINDS]
        if unknown:
            raise ValueError(
                f"gate_predictor_conf.context: unknown {unknown}, "
                f"choose from {list(CONTEXT_KINDS)}"
            )
        if not self.context and not self.acoustic:
            raise ValueError(
                "gate_predictor_conf: the predictor needs an input: set context "
                "and/or acoustic: true"
            )
        for key in ("embed_dim", "hidden_dim", "temperature_anneal_steps"):
            if getattr(self, key) <= 0:
                raise ValueError(f"gate_predictor_conf.{key} must be > 0")
        for key in ("temperature_start", "temperature_end"):
            if getattr(self, key) <= 0:
                raise ValueError(f"gate_predictor_conf.{key} must be > 0")

    @property
    def context_only(self) -> bool:
        """True when the gates depend only on the context tokens."""
        return not self.acoustic


@dataclass(frozen=True)
class SparsityConfig:
    """``model_conf.sparsity_conf``: how hard the sparsity loss pulls, and where.

    The loss is ``weight * sum_p (|g_p - s_p| + (g_p - s_p)^2)`` over the parts
    ``p`` that have a target, with ``g_p`` the fraction of closed gates
    (cost-weighted when ``flops_weighted``) and ``s_p`` its target. A loss
    setting only: which parts carry gates is ``gate_predictor_conf.parts``.

    Args:
        encoder_target: target fraction of closed encoder gates; ``None``: no
            sparsity term for the encoder.
        decoder_target: the same for the decoder.
        weight: weight of the sparsity loss against the task loss.
        flops_weighted: weigh each gate by its module's measured FLOPs.
        reference_frames: encoder input frames of the FLOPs measurement.
        reference_tokens: decoder tokens of the FLOPs measurement.
    """

    encoder_target: Optional[float] = None
    decoder_target: Optional[float] = 0.5
    weight: float = 1.0
    flops_weighted: bool = False
    reference_frames: int = 1000
    reference_tokens: int = 32

    def target(self, part: str) -> Optional[float]:
        """The target of ``encoder`` or ``decoder`` (``None``: no term)."""
        return getattr(self, f"{part}_target")

    def __post_init__(self) -> None:
        for key in ("encoder_target", "decoder_target"):
            value = getattr(self, key)
            if value is not None and not 0.0 <= value < 1.0:
                raise ValueError(f"sparsity_conf.{key} must be in [0, 1), got {value}")
        if self.encoder_target is None and self.decoder_target is None:
            raise ValueError(
                "sparsity_conf: set encoder_target and/or decoder_target "
                "(otherwise nothing is pruned)"
            )
        if self.weight < 0:
            raise ValueError(f"sparsity_conf.weight must be >= 0, got {self.weight}")
        for key in ("reference_frames", "reference_tokens"):
            if getattr(self, key) <= 0:
                raise ValueError(f"sparsity_conf.{key} must be > 0")


def parts_with_targets(sparsity: SparsityConfig) -> tuple[str, ...]:
    """The parts that have a sparsity target, in canonical order."""
    return tuple(p for p in GATED_PARTS if sparsity.target(p) is not None)


def check_targets(parts: tuple[str, ...], sparsity: SparsityConfig) -> None:
    """Refuse a sparsity target for a part that carries no gates.

    Raises:
        ValueError: naming the target key and ``gate_predictor_conf.parts``.
    """
    for part in parts_with_targets(sparsity):
        if part not in parts:
            raise ValueError(
                f"sparsity_conf.{part}_target is set, but "
                f"gate_predictor_conf.parts is {list(parts)}: add {part!r} to "
                f"parts, or set {part}_target: null"
            )


def from_dict(
    cls: type[ConfigT], conf: Optional[Mapping[str, Any]], name: str
) -> ConfigT:
    """Build a config dataclass from a YAML mapping, naming unknown keys."""
    conf = dict(conf or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(conf) - known)
    if unknown:
        raise ValueError(
            f"{name}: unknown option(s) {unknown}; known options: {sorted(known)}"
        )
    return cls(**conf)
