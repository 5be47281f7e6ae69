"""The ESPnet release in use and what moved between the supported ones.

The plugin supports espnet 202511 (Python 3.10/3.11) and 202611 (Python
3.12/3.13). Every difference it depends on is resolved here, once, by what the
installed ESPnet provides (never by parsing its version number):

* ``espnet.nets.*`` / ``espnet.utils.*`` became ``espnet2.legacy.*`` in 202611;
* 202611's E-Branchformer zeroes padded frames before the merge convolution
  (:func:`mask_merge_input` does what the installed layer does);
* the checkpoint layout of ``Conv*Subsampling`` changed (``out.0`` / ``out.1`` ->
  ``out`` / ``pos_enc``): :func:`conform_state_dict` renames keys to the layout
  of the installed classes, in both directions.
"""

import importlib
import importlib.util
import re
from collections.abc import Collection, Mapping
from importlib.metadata import version
from types import ModuleType
from typing import Optional, TypeVar

import torch
from espnet2.asr.encoder import e_branchformer_encoder

__all__ = [
    "BatchBeamSearch",
    "BeamSearch",
    "DecoderLayer",
    "ESPNET_VERSION",
    "MultiHeadedAttention",
    "check_short_utt",
    "conform_state_dict",
    "get_commandline_args",
    "make_pad_mask",
    "mask_merge_input",
]

ESPNET_VERSION = version("espnet")

# Where ESPnet 1's modules live: espnet2.legacy (202611) or espnet (202511).
_LEGACY = "espnet2.legacy" if importlib.util.find_spec("espnet2.legacy") else "espnet"


def _legacy(module: str) -> ModuleType:
    return importlib.import_module(f"{_LEGACY}.{module}")


_TRANSFORMER = "nets.pytorch_backend.transformer"
make_pad_mask = _legacy("nets.pytorch_backend.nets_utils").make_pad_mask
MultiHeadedAttention = _legacy(f"{_TRANSFORMER}.attention").MultiHeadedAttention
DecoderLayer = _legacy(f"{_TRANSFORMER}.decoder_layer").DecoderLayer
check_short_utt = _legacy(f"{_TRANSFORMER}.subsampling").check_short_utt
BatchBeamSearch = _legacy("nets.batch_beam_search").BatchBeamSearch
BeamSearch = _legacy("nets.beam_search").BeamSearch
get_commandline_args = _legacy("utils.cli_utils").get_commandline_args

# 202611's E-Branchformer masks the merge convolution's input; 202511's does not.
_mask_padded_frames = getattr(e_branchformer_encoder, "mask_padded_frames", None)


def mask_merge_input(x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """``(B, C, T)`` merge-convolution input as the installed E-Branchformer sees it."""
    if _mask_padded_frames is None:
        return x
    return _mask_padded_frames(x, mask)


# ``Conv*Subsampling`` keys: 202511 -> 202611 and back (pattern, replacement).
_RENAMES = (
    (re.compile(r"^(.*embed\.)out\.0\.(weight|bias)$"), r"\1out.\2"),
    (re.compile(r"^(.*embed\.)out\.1\.(.+)$"), r"\1pos_enc.\2"),
    (re.compile(r"^(.*embed\.)out\.(weight|bias)$"), r"\1out.0.\2"),
    (re.compile(r"^(.*embed\.)pos_enc\.(.+)$"), r"\1out.1.\2"),
)
_Value = TypeVar("_Value")


def conform_state_dict(
    state: Mapping[str, _Value], expected: Collection[str]
) -> dict[str, _Value]:
    """``state`` with subsampling keys renamed to the installed layout.

    A key is renamed only when it is not in ``expected`` (the installed model's
    keys) and its other release's form is; every other key passes unchanged.
    """
    conformed = {}
    for key, value in state.items():
        if key not in expected:
            key = _other_release_key(key, expected) or key
        conformed[key] = value
    return conformed


def _other_release_key(key: str, expected: Collection[str]) -> Optional[str]:
    for pattern, replacement in _RENAMES:
        candidate, count = pattern.subn(replacement, key)
        if count and candidate in expected:
            return candidate
    return None
