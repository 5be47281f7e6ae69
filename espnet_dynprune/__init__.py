"""Context-aware dynamic pruning for ESPnet speech foundation models.

Importing the package registers its classes into ESPnet 2's S2T and ASR tasks:
``model: dynprune``, ``encoder: gated_e_branchformer``,
``decoder: gated_transformer``. ``from espnet_dynprune import Speech2Text`` is
the gated model's decoder (:mod:`espnet_dynprune.inference`), with
``Speech2Text.from_pretrained`` for packed models and Hub repositories.
"""

from espnet_dynprune.registration import register

register()

__version__ = "0.1.0"
__all__ = ["Speech2Text", "__version__", "register"]


def __getattr__(name: str) -> type:
    """``Speech2Text`` on first use: ESPnet's inference module is slow to import."""
    if name == "Speech2Text":
        from espnet_dynprune.inference import Speech2Text

        return Speech2Text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
