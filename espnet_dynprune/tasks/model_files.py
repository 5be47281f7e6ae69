"""An S2T model from its training ``config.yaml`` and weights, loaded strictly.

ESPnet's ``S2TTask.build_model_from_file`` unpickles the checkpoint and loads it
with ``strict=False`` (missing keys are silently ignored). These readers open the
weights as tensors only (:func:`espnet_dynprune.io.checkpoint.load_state_dict_safely`)
and refuse weights that do not match the config, naming the file.
"""

import argparse
from pathlib import Path
from typing import Any, Union

import torch
import yaml
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.tasks.registration import MODEL_NAME

__all__ = ["load_gated_model", "load_s2t_model"]


def load_s2t_model(
    config_file: Union[Path, str], model_file: Union[Path, str]
) -> tuple[dict[str, Any], torch.nn.Module]:
    """A training config and its S2T model (any ``model:``) with every weight.

    Raises:
        ValueError: weights that do not match the config (names the file).
    """
    with open(config_file, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    model = S2TTask.build_model(argparse.Namespace(**config))
    state = load_state_dict_safely(model_file)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{model_file}: does not match the config: missing {missing[:10]}, "
            f"unexpected {unexpected[:10]}"
        )
    return config, model.eval()


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
