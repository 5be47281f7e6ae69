"""Registers the plugin classes into ESPnet 2's task class choices.

ESPnet has no plugin mechanism: tasks pick classes from module-level
``ClassChoices`` dicts (``espnet2.tasks.s2t.encoder_choices``...), and the
argument parser freezes the choices when it is built. :func:`register` adds the
plugin classes to those dicts.

``import espnet_dynprune`` calls :func:`register_when_tasks_load`: it registers
at once if ESPnet's S2T or ASR task module is already imported, and otherwise
right after the first of them is imported. So importing the package costs
nothing (no torch, no ESPnet), and any later use of ESPnet's tasks in the
process, including the fresh processes of distributed training, which import
the package again through the pickled model class, sees the classes.

This module imports nothing heavy at module level; :func:`register` imports
ESPnet and the model classes when it runs.
"""

from __future__ import annotations

import sys

# Annotation-only imports: the start-up hook imports this module in every
# Python process, so it loads nothing that start-up has not loaded already.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

__all__ = [
    "ALIGNED_MODEL_NAME",
    "DECODER_NAME",
    "ENCODER_NAME",
    "MODEL_NAME",
    "TASK_MODULES",
    "register",
    "register_when_tasks_load",
]

MODEL_NAME = "dynprune"
ALIGNED_MODEL_NAME = "word_aligned"
ENCODER_NAME = "gated_e_branchformer"
DECODER_NAME = "gated_transformer"
TASK_MODULES = ("espnet2.tasks.s2t", "espnet2.tasks.asr")
"""ESPnet modules whose class choices receive the plugin classes."""


def _add(choices, name: str, cls: type) -> None:
    existing = choices.classes.get(name)
    if existing is not None and existing is not cls:
        raise RuntimeError(
            f"--{choices.name} {name} is already registered to {existing.__name__}"
        )
    choices.classes[name] = cls


def register() -> None:
    """Add ``dynprune``, ``gated_e_branchformer`` and ``gated_transformer`` to
    ESPnet's S2T and ASR tasks, and the S2T model ``word_aligned``.

    Idempotent; imports ESPnet's task modules and the plugin's model classes.
    """
    from espnet2.tasks import asr, s2t

    from espnet_dynprune.models.dynprune_model import (
        ESPnetDynPruneASRModel,
        ESPnetDynPruneS2TModel,
    )
    from espnet_dynprune.models.word_aligned_model import (
        ESPnetWordAlignedS2TModel,
    )
    from espnet_dynprune.nets.gated_e_branchformer_encoder import (
        GatedEBranchformerEncoder,
    )
    from espnet_dynprune.nets.gated_transformer_decoder import (
        GatedTransformerDecoder,
    )

    for task, model in (
        (s2t, ESPnetDynPruneS2TModel),
        (asr, ESPnetDynPruneASRModel),
    ):
        _add(task.model_choices, MODEL_NAME, model)
        _add(task.encoder_choices, ENCODER_NAME, GatedEBranchformerEncoder)
        _add(task.decoder_choices, DECODER_NAME, GatedTransformerDecoder)
    _add(s2t.model_choices, ALIGNED_MODEL_NAME, ESPnetWordAlignedS2TModel)
    _forward_hyp_primers()


def _forward_hyp_primers() -> None:
    """Let scorers see the primer of ESPnet's beam search (idempotent).

    ESPnet's ``Speech2Text`` sets the prompt ``<sos> <lang> <task>`` with
    ``BeamSearch.set_hyp_primer`` before it encodes; a scorer with an
    ``observe_hyp_primer`` method (the gated decoder) is told, so the gated model
    decodes under the context of the prompt. ESPnet has no hook for this.
    """
    import functools

    from espnet_dynprune.compat.espnet_release import BeamSearch

    original = BeamSearch.set_hyp_primer
    if getattr(original, "forwards_to_scorers", False):
        return

    @functools.wraps(original)
    def set_hyp_primer(self, hyp_primer=None) -> None:
        original(self, hyp_primer)
        for scorer in self.full_scorers.values():
            observe = getattr(scorer, "observe_hyp_primer", None)
            if observe is not None:
                observe(hyp_primer)

    set_hyp_primer.forwards_to_scorers = True
    BeamSearch.set_hyp_primer = set_hyp_primer


class _RegisteringLoader:
    """Runs a task module's own loader, then :func:`register`.

    Plain classes (the import protocol is duck-typed): ``importlib.abc`` would
    cost the package import some 30 ms.
    """

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec):
        return self._loader.create_module(spec)

    def __getattr__(self, name: str):
        """Everything else (``get_source``, resource readers...) is the loader's."""
        return getattr(self._loader, name)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        register()


class _TaskImportHook:
    """Finds ESPnet's task modules with the other finders; wraps their loader."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in TASK_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def register_when_tasks_load() -> None:
    """Register now if a task module is loaded, else when the first one loads."""
    if any(name in sys.modules for name in TASK_MODULES):
        register()
    elif not any(isinstance(f, _TaskImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _TaskImportHook())
