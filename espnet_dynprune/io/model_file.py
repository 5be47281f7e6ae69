"""An ESPnet model from its training ``config.yaml`` and weights, loaded strictly.

ESPnet's ``build_model_from_file`` unpickles the checkpoint and loads it with
``strict=False`` (missing keys are silently ignored). This reader opens the
weights as tensors only (:func:`espnet_dynprune.io.checkpoint.load_state_dict_safely`)
and refuses weights that do not match the config, naming the file.
"""

import argparse
from pathlib import Path
from typing import Any, Optional, Union

import torch
import yaml

from espnet_dynprune.io.checkpoint import load_state_dict_safely

__all__ = ["load_s2t_model"]


def load_s2t_model(
    config_file: Union[Path, str],
    model_file: Union[Path, str],
    task: Optional[type] = None,
    extra_prefixes: tuple[str, ...] = (),
) -> tuple[dict[str, Any], torch.nn.Module]:
    """A training config and its model (any ``model:``) with every weight, in eval mode.

    Args:
        config_file: the training ``config.yaml``.
        model_file: its weights.
        task: the ESPnet task class that builds it (default ``S2TTask``).
        extra_prefixes: weights under these prefixes may be in the file without
            being in the model (e.g. a gated checkpoint's ``gating.*`` read into
            its stock config); they are left out.
    Raises:
        ValueError: an unreadable config, or weights that do not match it
            (names the file).
    """
    if task is None:
        from espnet2.tasks.s2t import S2TTask as task  # noqa: N813 (a class)
    try:
        with open(config_file, encoding="utf-8") as f:
            config = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{config_file}: cannot read the config ({error})") from error
    if not isinstance(config, dict):
        raise ValueError(f"{config_file}: not a training config (a YAML mapping)")
    model = task.build_model(argparse.Namespace(**config))
    state = load_state_dict_safely(model_file)
    missing, unexpected = model.load_state_dict(state, strict=False)
    unexpected = [key for key in unexpected if not key.startswith(extra_prefixes)]
    if missing or unexpected:
        raise ValueError(
            f"{model_file}: does not match the config: missing {missing[:10]}, "
            f"unexpected {unexpected[:10]}"
        )
    return config, model.eval()
