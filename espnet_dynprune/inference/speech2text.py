"""Decoding with a gated model: ESPnet's ``Speech2Text`` plus ``gate_mode``.

:class:`Speech2Text` is ESPnet's class (same arguments, same beam search, same
outputs) with these additions:

* ``gate_mode``: ``predicted`` (the gate predictor decides per utterance) or
  ``dense`` (every module runs; equals the stock model on the same weights);
* the checkpoint is opened with ``torch.load(weights_only=True)`` and checked
  before ESPnet loads it: ESPnet's own loader unpickles arbitrary objects and
  silently ignores missing keys (``strict=False``);
* ``last_gates`` / :meth:`active_modules` report which modules ran for the last
  utterance;
* :meth:`Speech2Text.from_pretrained` loads a packed model from the Hugging Face
  Hub, a ``.zip`` or a directory (:mod:`espnet_dynprune.io.locate`).
"""

from pathlib import Path
from typing import Optional, Union

import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.io.locate import resolve_pretrained
from espnet_dynprune.models.dynprune_model import DynPruneModelMixin
from espnet_dynprune.models.gating import GATE_PREFIX, describe_gates
from espnet_dynprune.models.inference_context import GateMode

__all__ = ["Speech2Text"]


class Speech2Text(ESPnetSpeech2Text):
    """ESPnet's ``Speech2Text`` for ``model: dynprune`` checkpoints.

    Args:
        s2t_train_config: the training ``config.yaml``.
        s2t_model_file: the ``.pth`` weights.
        gate_mode: ``predicted`` or ``dense``.
        **kwargs: every other argument of ESPnet's ``Speech2Text``.
    """

    def __init__(
        self,
        s2t_train_config: Union[Path, str, None] = None,
        s2t_model_file: Union[Path, str, None] = None,
        gate_mode: Union[str, GateMode] = GateMode.PREDICTED,
        **kwargs,
    ) -> None:
        self._gate_mode = GateMode.parse(gate_mode)
        state = (
            None if s2t_model_file is None else load_state_dict_safely(s2t_model_file)
        )
        super().__init__(
            s2t_train_config=s2t_train_config, s2t_model_file=s2t_model_file, **kwargs
        )
        if not isinstance(self.s2t_model, DynPruneModelMixin):
            raise ValueError(
                f"{s2t_train_config}: not a dynamic-pruning model (expected "
                "model: dynprune); use ESPnet's Speech2Text for stock models"
            )
        if state is not None and not kwargs.get("quantize_s2t_model", False):
            self._check_keys(state, s2t_model_file)
        # Fail now, not at the first utterance, on unknown symbols or missing gates.
        self.s2t_model.set_inference_context(
            self.lang_sym, self.task_sym, self._gate_mode
        )

    @property
    def gate_mode(self) -> GateMode:
        """The gate mode of the following calls."""
        return self._gate_mode

    @gate_mode.setter
    def gate_mode(self, value: Union[str, GateMode]) -> None:
        self._gate_mode = GateMode.parse(value)

    def _check_keys(
        self, state: dict[str, torch.Tensor], model_file: Union[Path, str]
    ) -> None:
        expected = set(self.s2t_model.state_dict())
        missing = sorted(
            k for k in expected - set(state) if not k.startswith(GATE_PREFIX)
        )
        if missing:
            raise ValueError(f"{model_file}: missing backbone weights {missing[:10]}")
        if self._gate_mode is GateMode.PREDICTED and not any(
            k.startswith(GATE_PREFIX) for k in state
        ):
            raise ValueError(
                f"{model_file}: no gate predictor weights ('{GATE_PREFIX}*'); "
                "train the gates first, or decode with gate_mode=dense"
            )

    @torch.no_grad()
    def __call__(
        self,
        speech,
        text_prev=None,
        lang_sym: Optional[str] = None,
        task_sym: Optional[str] = None,
        predict_time: Optional[bool] = None,
    ):
        """Decode one utterance; same arguments and results as ESPnet's."""
        self.s2t_model.set_inference_context(
            lang_sym or self.lang_sym, task_sym or self.task_sym, self._gate_mode
        )
        return super().__call__(
            speech,
            text_prev=text_prev,
            lang_sym=lang_sym,
            task_sym=task_sym,
            predict_time=predict_time,
        )

    @classmethod
    def from_pretrained(
        cls,
        model_tag: Optional[str] = None,
        revision: Optional[str] = None,
        cache_dir: Union[Path, str, None] = None,
        **kwargs,
    ) -> "Speech2Text":
        """Load a packed gated model (``espnet_dynprune.bin.pack``).

        Args:
            model_tag: a Hugging Face Hub repository id ``owner/name``, a packed
                ``.zip`` or its unzipped directory; ``None``: ``kwargs`` name
                ``s2t_train_config`` and ``s2t_model_file`` themselves.
            revision: Hub branch, tag or commit.
            cache_dir: huggingface_hub's cache (default ``HF_HUB_CACHE``).
            **kwargs: every other argument of :class:`Speech2Text`.

        Raises:
            FileNotFoundError: no such package, or it lacks a file.
            ValueError: written by a newer, incompatible ``espnet_dynprune``, or
                (``gate_mode="predicted"``) packed without gate weights.
        """
        if model_tag is not None:
            kwargs.update(resolve_pretrained(model_tag, revision, cache_dir))
        return cls(**kwargs)

    def active_modules(self) -> dict[str, str]:
        """Gates of the last utterance, one 0/1 group per layer ({} when dense)."""
        gates = self.s2t_model.last_gates
        return {} if gates is None else describe_gates(gates)
