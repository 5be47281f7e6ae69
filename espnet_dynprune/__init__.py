"""Context-aware dynamic pruning for ESPnet speech foundation models.

Importing the package makes its classes known to ESPnet 2's S2T and ASR tasks
(``model: dynprune``, ``encoder: gated_e_branchformer``,
``decoder: gated_transformer``, ``model: word_aligned``) as soon as ESPnet's
task modules are imported (:mod:`espnet_dynprune.tasks.registration`); the
import itself loads neither torch nor ESPnet.
``from espnet_dynprune import Speech2Text`` is the gated model's decoder
(:mod:`espnet_dynprune.inference.speech2text`), with
``Speech2Text.from_pretrained`` for packed models and Hub repositories.

Layout (each folder imports only from the folders above it):

* ``io``: reading checkpoints and packed models (no ESPnet task, no model);
* ``nets``: the gate contract, gated encoder / decoder, predictor, losses, FLOPs;
* ``models``: the ESPnet model classes and their gating component;
* ``tasks``: registration into ESPnet, the S2T task, stock <-> gated configs;
* ``inference``: ``Speech2Text``, grouped batches, per-context export;
* ``eval`` and ``packaging``: scoring, reports, benchmarks; pack, Hub, OWSM;
* ``data``: Kaldi-style data dirs, audio reading, checks, token lists, corpora;
* ``bin``: the command-line entry points, one per module job.
"""

from espnet_dynprune.tasks.registration import register, register_when_tasks_load

__version__ = "0.1.0"
__all__ = ["Speech2Text", "__version__", "register"]

register_when_tasks_load()


def __getattr__(name: str) -> type:
    """``Speech2Text`` on first use: ESPnet's inference module is slow to import."""
    if name == "Speech2Text":
        from espnet_dynprune.inference.speech2text import Speech2Text

        return Speech2Text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
