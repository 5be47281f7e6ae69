"""Reading checkpoints without unpickling arbitrary objects.

ESPnet's own loader calls ``torch.load`` without ``weights_only`` and loads with
``strict=False``; every reader in this package goes through
:func:`load_state_dict_safely` first, so a checkpoint is tensors only. ESPnet's
trainer state (``checkpoint.pth``: model, optimizers, schedulers, ...) is
recognised and refused with the file to use instead.
"""

import pickletools
import zipfile
from pathlib import Path
from typing import Union

import torch

__all__ = ["load_state_dict_safely"]

# Top-level keys of the trainer state ESPnet's Trainer saves as checkpoint.pth.
_TRAINER_KEYS = frozenset({"model", "optimizers"})


def _trainer_state_error(model_file: Union[Path, str]) -> ValueError:
    return ValueError(
        f"{model_file}: this is ESPnet's trainer checkpoint (model, optimizer and "
        "scheduler state for resuming training), not model weights: decode with "
        "valid.acc.ave.pth (or valid.acc.best.pth, or an NNepoch.pth) from the "
        "same directory"
    )


def _pickled_strings(model_file: Union[Path, str]) -> set[str]:
    """The string constants of a ``torch.save`` file's pickle, read without
    unpickling it (empty when it is no such file)."""
    try:
        with zipfile.ZipFile(model_file) as archive:
            name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
            ops = pickletools.genops(archive.read(name))
            return {arg for _, arg, _ in ops if isinstance(arg, str)}
    except Exception:  # not a zip, no pickle, a broken pickle: nothing to tell
        return set()


def load_state_dict_safely(model_file: Union[Path, str]) -> dict[str, torch.Tensor]:
    """Load a checkpoint as tensors only; never unpickles arbitrary objects.

    Raises:
        ValueError: not a weights-only state dict, or ESPnet's trainer
            ``checkpoint.pth`` (names the file to use).
    """
    try:
        state = torch.load(model_file, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for bad files
        if _TRAINER_KEYS <= _pickled_strings(model_file):
            raise _trainer_state_error(model_file) from None
        raise ValueError(
            f"{model_file}: not a loadable weights-only checkpoint ({error})"
        ) from error
    if not isinstance(state, dict):
        raise ValueError(f"{model_file}: expected a state dict, got {type(state)}")
    if _TRAINER_KEYS <= set(state) and isinstance(state["model"], dict):
        raise _trainer_state_error(model_file)
    return state
