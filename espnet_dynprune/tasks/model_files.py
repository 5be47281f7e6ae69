"""A gated S2T model from its training ``config.yaml`` and weights, loaded strictly.

Built on :func:`espnet_dynprune.io.model_file.load_s2t_model` (tensors-only
weights, strict keys), which this module re-exports.
"""

from pathlib import Path
from typing import Any, Union

import torch

from espnet_dynprune.io.model_file import load_s2t_model
from espnet_dynprune.tasks.registration import MODEL_NAME

__all__ = ["load_gated_model", "load_s2t_model"]


def load_gated_model(
    config_file: Union[str, Path], model_file: Union[str, Path]
) -> tuple[dict[str, Any], torch.nn.Module]:
    """The config of ``config_file`` and its gated model with every weight.

    Raises:
        ValueError: not a ``model: dynprune`` config, or weights that do not
            match it (names the file).
    """
    config, model = load_s2t_model(config_file, model_file)
    if config.get("model") != MODEL_NAME:
        raise ValueError(
            f"{config_file}: model: {config.get('model')!r}; expected a "
            "model: dynprune config"
        )
    return config, model
