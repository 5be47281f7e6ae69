"""What decoding a gated model needs to know: the gate mode and the context.

:class:`InferenceContext` is the one record of that state. It is validated when
it is made (an unknown gate mode fails here, naming the choices); the model
resolves its symbols against the predictor's vocabulary once, when it is set
(:meth:`~espnet_dynprune.models.dynprune_model.DynPruneModelMixin.set_inference_context`).
"""

import enum
from dataclasses import dataclass
from typing import Optional, Union

__all__ = ["GateMode", "InferenceContext"]


class GateMode(enum.Enum):
    """Which gates decoding uses.

    * ``PREDICTED``: the gate predictor's gates for the context (closed modules
      are not computed);
    * ``DENSE``: every module runs; equals the stock model on the same weights.
    """

    PREDICTED = "predicted"
    DENSE = "dense"

    @classmethod
    def parse(cls, value: Union[str, "GateMode"]) -> "GateMode":
        """``"predicted"`` / ``"dense"`` (or a ``GateMode``) as a ``GateMode``.

        Raises:
            ValueError: any other value, naming the choices.
        """
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(
                f"gate_mode must be one of {cls.choices()}, got {value!r}"
            ) from None

    @classmethod
    def choices(cls) -> list[str]:
        """The values accepted by :meth:`parse` (command-line choices)."""
        return [mode.value for mode in cls]


@dataclass(frozen=True)
class InferenceContext:
    """The gate mode and (language, task) that decoding runs under.

    Args:
        gate_mode: a :class:`GateMode` or its value (``"predicted"``, ``"dense"``).
        lang_sym: language symbol such as ``<deu>`` (needed when the predictor
            reads the language; ignored in dense mode).
        task_sym: task symbol such as ``<st_eng>`` (likewise for the task).
    """

    gate_mode: GateMode = GateMode.PREDICTED
    lang_sym: Optional[str] = None
    task_sym: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate_mode", GateMode.parse(self.gate_mode))

    @property
    def symbols(self) -> tuple[Optional[str], Optional[str]]:
        """``(lang_sym, task_sym)``: the key of per-context gates."""
        return self.lang_sym, self.task_sym
