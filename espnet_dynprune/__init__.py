"""Context-aware dynamic pruning for ESPnet speech foundation models.

Importing the package registers its classes into ESPnet 2's S2T and ASR tasks:
``model: dynprune``, ``encoder: gated_e_branchformer``,
``decoder: gated_transformer``.
"""

from espnet_dynprune.registration import register

register()

__version__ = "0.1.0"
__all__ = ["__version__", "register"]
