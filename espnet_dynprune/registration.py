"""Registers the plugin classes into ESPnet 2's task class choices.

ESPnet has no plugin mechanism: tasks pick classes from module-level
``ClassChoices`` dicts, and the argument parser freezes the choices when it is
built. Importing ``espnet_dynprune`` therefore registers at import time, in every
process (multi-GPU training spawns fresh ones that import the package again
through the pickled model class or the entry point).
"""

from espnet2.tasks import asr, s2t
from espnet2.train.class_choices import ClassChoices

from espnet_dynprune.aligned_model import ESPnetWordAlignedS2TModel
from espnet_dynprune.decoder import GatedTransformerDecoder
from espnet_dynprune.encoder import GatedEBranchformerEncoder
from espnet_dynprune.models import ESPnetDynPruneASRModel, ESPnetDynPruneS2TModel

__all__ = [
    "MODEL_NAME",
    "ALIGNED_MODEL_NAME",
    "ENCODER_NAME",
    "DECODER_NAME",
    "register",
]

MODEL_NAME = "dynprune"
ALIGNED_MODEL_NAME = "word_aligned"
ENCODER_NAME = "gated_e_branchformer"
DECODER_NAME = "gated_transformer"


def _add(choices: ClassChoices, name: str, cls: type) -> None:
    existing = choices.classes.get(name)
    if existing is not None and existing is not cls:
        raise RuntimeError(
            f"--{choices.name} {name} is already registered to {existing.__name__}"
        )
    choices.classes[name] = cls


def register() -> None:
    """Add ``dynprune``, ``gated_e_branchformer`` and ``gated_transformer``, and
    the S2T model ``word_aligned``."""
    for task, model in ((s2t, ESPnetDynPruneS2TModel), (asr, ESPnetDynPruneASRModel)):
        _add(task.model_choices, MODEL_NAME, model)
        _add(task.encoder_choices, ENCODER_NAME, GatedEBranchformerEncoder)
        _add(task.decoder_choices, DECODER_NAME, GatedTransformerDecoder)
    _add(s2t.model_choices, ALIGNED_MODEL_NAME, ESPnetWordAlignedS2TModel)
