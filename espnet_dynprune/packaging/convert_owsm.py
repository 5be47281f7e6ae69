"""Turn a stock ESPnet S2T checkpoint (e.g. OWSM) into the matching gated one.

The checkpoint conversion loads the stock weights into the gated model built
from a gated config (:mod:`espnet_dynprune.tasks.gated_config`), whose only new
parameters are the gate predictor's (``gating.*``).
"""

import argparse
import logging
from pathlib import Path
from typing import Any, Union

import torch
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.models.gating import GATE_PREFIX

__all__ = ["convert_checkpoint"]

logger = logging.getLogger(__name__)


def convert_checkpoint(
    config: dict[str, Any],
    model_file: Union[str, Path],
    out_file: Union[str, Path],
    seed: int = 0,
) -> list[str]:
    """Build the gated model of ``config``, load stock weights, save its state.

    Args:
        config: a complete gated training config (as ESPnet's ``config.yaml``).
        model_file: the stock weights, opened with ``weights_only=True``.
        out_file: where the gated state dict goes.
        seed: seed of the gate predictor's initial weights.
    Returns:
        The keys the gated checkpoint adds (all start with ``gating.``).
    Raises:
        ValueError: the weights miss a backbone key or have keys the gated
            model lacks (names the file and the first keys).
    """
    state = load_state_dict_safely(model_file)
    torch.manual_seed(seed)
    model = S2TTask.build_model(argparse.Namespace(**config))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches raise even when not strict
        raise ValueError(
            f"{model_file}: does not match the config's architecture: {error}"
        ) from error
    backbone_missing = [k for k in missing if not k.startswith(GATE_PREFIX)]
    if backbone_missing or unexpected:
        raise ValueError(
            f"{model_file}: does not match the config's architecture; missing "
            f"{backbone_missing[:10]}, unexpected {list(unexpected)[:10]}"
        )
    torch.save(model.state_dict(), out_file)
    logger.info(
        "wrote %s: %d source tensors, %d new gate tensors",
        out_file,
        len(state),
        len(missing),
    )
    return sorted(missing)
