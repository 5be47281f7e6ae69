"""Stock <-> gated ESPnet S2T training configs.

The gated classes take the stock classes' options unchanged, so turning a stock
config into a gated one only swaps the class names and adds
``gate_predictor_conf`` / ``sparsity_conf``; :func:`stock_config` is the inverse.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from espnet_dynprune.models.word_aligned_model import ESPnetWordAlignedS2TModel
from espnet_dynprune.nets.distillation import DistillationConfig
from espnet_dynprune.nets.gate_config import (
    GatePredictorConfig,
    SparsityConfig,
    check_targets,
    from_dict,
    parts_with_targets,
)
from espnet_dynprune.tasks.registration import (
    ALIGNED_MODEL_NAME,
    DECODER_NAME,
    ENCODER_NAME,
    MODEL_NAME,
)

__all__ = [
    "GATE_MODEL_OPTIONS",
    "apply_gate_options",
    "gated_config",
    "stock_config",
    "write_gated_config",
]

# Models whose weights are ESPnet's S2T model's, with training-only options.
_STOCK_CLASSES = {
    "model": ("espnet", MODEL_NAME),
    "encoder": ("e_branchformer", ENCODER_NAME),
    "decoder": ("transformer", DECODER_NAME),
}

# The model_conf keys only the dynprune model takes: a stock model refuses them.
GATE_MODEL_OPTIONS = (
    "sparsity_conf",
    "gate_predictor_conf",
    "distill_conf",
    "inference_gate_mode",
)

_TRAINING_VARIANTS = {ALIGNED_MODEL_NAME: ESPnetWordAlignedS2TModel.TRAINING_OPTIONS}


def gated_config(
    config: dict[str, Any],
    sparsity_conf: dict[str, Any],
    gate_predictor_conf: Optional[dict[str, Any]] = None,
    parts: Optional[Sequence[str]] = None,
) -> dict[str, Any]:
    """A copy of a stock S2T config with the gated classes and gate options.

    A ``model: word_aligned`` config counts as stock (its weights are ESPnet's);
    its training-only options are dropped. The result always names the gated
    parts (``gate_predictor_conf.parts``): ``parts`` if given, else those of
    ``gate_predictor_conf``, else the parts that have a sparsity target.

    Raises:
        ValueError: the config uses classes that have no gated counterpart, or
            the gate options are invalid (names the key).
    """
    gated = dict(config)
    training_only = _TRAINING_VARIANTS.get(gated.get("model"), ())
    if training_only:
        gated["model"] = _STOCK_CLASSES["model"][0]
    for key, (stock, plugin) in _STOCK_CLASSES.items():
        name = gated.get(key, "espnet" if key == "model" else None)
        if name not in (stock, plugin):
            raise ValueError(
                f"config key {key!r} is {name!r}: only {stock!r} has a gated "
                f"counterpart ({plugin!r})"
            )
        gated[key] = plugin
    model_conf = {
        key: value
        for key, value in (gated.get("model_conf") or {}).items()
        if key not in training_only
    }
    sparsity = from_dict(SparsityConfig, sparsity_conf, "sparsity_conf")
    predictor = dict(gate_predictor_conf or {})
    if parts is not None:
        predictor["parts"] = list(parts)
    elif predictor.get("parts") is None:
        predictor["parts"] = list(parts_with_targets(sparsity))
    checked = from_dict(GatePredictorConfig, predictor, "gate_predictor_conf")
    check_targets(checked.parts, sparsity)
    predictor["parts"] = list(checked.parts)
    model_conf["gate_predictor_conf"] = predictor
    model_conf["sparsity_conf"] = dict(sparsity_conf)
    gated["model_conf"] = model_conf
    return gated


def stock_config(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a gated S2T config with ESPnet's own classes, no gate options.

    The inverse of :func:`gated_config`: the stock model it builds takes the
    gated model's state dict without ``gating.*``.
    """
    stock = dict(config)
    for key, (name, plugin) in _STOCK_CLASSES.items():
        if stock.get(key) == plugin:
            stock[key] = name
    stock["model_conf"] = {
        key: value
        for key, value in (config.get("model_conf") or {}).items()
        if key not in GATE_MODEL_OPTIONS
    }
    return stock


def apply_gate_options(
    config: dict[str, Any],
    gate_options: dict[str, Any],
    encoder_target: Optional[float],
    decoder_target: Optional[float],
    parts: Optional[Sequence[str]] = None,
    teacher: Optional[tuple[str, str]] = None,
    distill_weight: Optional[float] = None,
) -> dict[str, Any]:
    """The gated config with a gate options file's settings and the targets.

    Args:
        config: a stock S2T config.
        gate_options: ``gate_predictor_conf``, ``sparsity_conf`` and optional
            ``distill_conf`` mappings; every other top-level key (e.g.
            ``optim_conf``) replaces the config's.
        encoder_target: fraction of encoder gates to close (``None``: no term).
        decoder_target: fraction of decoder gates to close (``None``: no term).
        parts: the gated parts (default: see :func:`gated_config`).
        teacher: ``(config.yaml, weights)`` of the distillation teacher, filled
            into ``distill_conf`` where it names none.
        distill_weight: replaces ``distill_conf.weight``; 0 turns distillation off.
    Raises:
        ValueError: distillation without a teacher, or bad gate options.
    """
    extra = dict(gate_options)
    sparsity = dict(extra.pop("sparsity_conf", None) or {})
    sparsity["encoder_target"] = encoder_target
    sparsity["decoder_target"] = decoder_target
    predictor = extra.pop("gate_predictor_conf", None)
    distill = dict(extra.pop("distill_conf", None) or {})
    result = gated_config(config, sparsity, predictor, parts)
    result.update(extra)
    if distill_weight is not None:
        distill["weight"] = distill_weight
    if distill and distill.get("weight", DistillationConfig.weight) > 0:
        if teacher is not None:
            distill.setdefault("teacher_config", str(teacher[0]))
            distill.setdefault("teacher_model_file", str(teacher[1]))
        try:
            from_dict(DistillationConfig, distill, "distill_conf")
        except TypeError as error:  # a required teacher key is missing
            raise ValueError(
                "distill_conf: name the teacher (teacher_config and "
                "teacher_model_file, or --teacher_config/--teacher_model_file)"
            ) from error
        result["model_conf"]["distill_conf"] = distill
    return result


def write_gated_config(
    src: Union[str, Path],
    dst: Union[str, Path],
    sparsity_conf: dict[str, Any],
    gate_predictor_conf: Optional[dict[str, Any]] = None,
) -> Path:
    """Read a stock YAML config, write its gated counterpart to ``dst``."""
    with open(src, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    dst = Path(dst)
    with open(dst, "w", encoding="utf-8") as f:
        yaml.safe_dump(
            gated_config(config, sparsity_conf, gate_predictor_conf),
            f,
            sort_keys=False,
        )
    return dst
