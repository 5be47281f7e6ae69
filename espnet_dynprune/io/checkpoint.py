"""Reading checkpoints without unpickling arbitrary objects.

ESPnet's own loader calls ``torch.load`` without ``weights_only`` and loads with
``strict=False``; every reader in this package goes through
:func:`load_state_dict_safely` first, so a checkpoint is tensors only.
"""

from pathlib import Path
from typing import Union

import torch

__all__ = ["load_state_dict_safely"]


def load_state_dict_safely(model_file: Union[Path, str]) -> dict[str, torch.Tensor]:
    """Load a checkpoint as tensors only; never unpickles arbitrary objects."""
    try:
        state = torch.load(model_file, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        raise ValueError(
            f"{model_file}: not a loadable weights-only checkpoint ({error})"
        ) from error
    if not isinstance(state, dict):
        raise ValueError(f"{model_file}: expected a state dict, got {type(state)}")
    return state
