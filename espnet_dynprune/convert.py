"""Turn a stock ESPnet S2T training config into the matching gated config.

The gated classes take the stock classes' options unchanged, so the conversion
only swaps class names and adds ``gate_predictor_conf`` / ``sparsity_conf``.
"""

from pathlib import Path
from typing import Any, Dict, Optional, Union

import yaml

from espnet_dynprune.registration import DECODER_NAME, ENCODER_NAME, MODEL_NAME

__all__ = ["gated_config", "write_gated_config"]

_STOCK_CLASSES = {
    "model": ("espnet", MODEL_NAME),
    "encoder": ("e_branchformer", ENCODER_NAME),
    "decoder": ("transformer", DECODER_NAME),
}


def gated_config(
    config: Dict[str, Any],
    sparsity_conf: Dict[str, Any],
    gate_predictor_conf: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A copy of a stock S2T config with the gated classes and gate options.

    Raises:
        ValueError: the config uses classes that have no gated counterpart.
    """
    gated = dict(config)
    for key, (stock, plugin) in _STOCK_CLASSES.items():
        name = gated.get(key, "espnet" if key == "model" else None)
        if name not in (stock, plugin):
            raise ValueError(
                f"config key {key!r} is {name!r}: only {stock!r} has a gated "
                f"counterpart ({plugin!r})"
            )
        gated[key] = plugin
    model_conf = dict(gated.get("model_conf") or {})
    model_conf["sparsity_conf"] = dict(sparsity_conf)
    if gate_predictor_conf is not None:
        model_conf["gate_predictor_conf"] = dict(gate_predictor_conf)
    gated["model_conf"] = model_conf
    return gated


def write_gated_config(
    src: Union[str, Path],
    dst: Union[str, Path],
    sparsity_conf: Dict[str, Any],
    gate_predictor_conf: Optional[Dict[str, Any]] = None,
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
