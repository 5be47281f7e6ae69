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
  Hub, a ``.zip`` or a directory (:mod:`espnet_dynprune.io.locate`);
* :meth:`Speech2Text.batch_decode` (espnet 202611 and newer) takes one
  ``lang_sym`` / ``task_sym`` per utterance: a batch of mixed contexts decodes
  together, each utterance under its own gates and its own prompt;
* no silent default context: without ``lang_sym`` / ``task_sym`` (given to the
  constructor or the call; ``deu`` or ``<deu>``) decoding is refused, listing
  the model's symbols, where ESPnet would decode as ``<eng><asr>``;
* every utterance passes :func:`~espnet_dynprune.inference.audio_input.checked_audio`
  (mono, finite, resampled to the model's rate, within its length limits), and
  ``__call__`` also takes an audio file path and a ``sample_rate``.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional, Union

import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.compat.espnet_release import ESPNET_VERSION, conform_state_dict
from espnet_dynprune.inference.audio_input import (
    Audio,
    AudioLimits,
    checked_audio,
    read_audio_file,
)
from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.io.locate import resolve_pretrained
from espnet_dynprune.models.dynprune_model import DynPruneModelMixin
from espnet_dynprune.models.gating import GATE_PREFIX, describe_gates
from espnet_dynprune.models.inference_context import GateMode
from espnet_dynprune.nets.context_vocabulary import bracketed

__all__ = ["Speech2Text"]


class Speech2Text(ESPnetSpeech2Text):
    """ESPnet's ``Speech2Text`` for ``model: dynprune`` checkpoints.

    Args:
        s2t_train_config: the training ``config.yaml``.
        s2t_model_file: the ``.pth`` weights.
        gate_mode: ``predicted`` or ``dense``.
        lang_sym: the default language symbol of the calls (``deu`` or ``<deu>``);
            no default: each call must then give it.
        task_sym: likewise for the task (``asr`` or ``<asr>``).
        **kwargs: every other argument of ESPnet's ``Speech2Text``.
    """

    def __init__(
        self,
        s2t_train_config: Union[Path, str, None] = None,
        s2t_model_file: Union[Path, str, None] = None,
        gate_mode: Union[str, GateMode] = GateMode.PREDICTED,
        lang_sym: Optional[str] = None,
        task_sym: Optional[str] = None,
        **kwargs,
    ) -> None:
        self._gate_mode = GateMode.parse(gate_mode)
        # per-utterance (lang, task) of a mixed-context batch_decode, in order
        self._utterance_symbols: Optional[Iterator[tuple[str, str]]] = None
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
        self.audio_limits = AudioLimits.of_model(self.s2t_train_args, self.s2t_model)
        # The prompt of every call sets the context, in this gate mode.
        self.s2t_model.inference_gate_mode = self._gate_mode
        # ESPnet's defaults (<eng>, <asr>) are never used: no symbol, no decoding.
        self.lang_sym = self._known(lang_sym, "lang")
        self.task_sym = self._known(task_sym, "task")
        if self.lang_sym is not None and self.task_sym is not None:
            # Fail now, not at the first utterance, on missing gates.
            self.s2t_model.set_inference_context(
                self.lang_sym, self.task_sym, self._gate_mode
            )

    @property
    def gate_mode(self) -> GateMode:
        """The gate mode of the following calls."""
        return self._gate_mode

    @gate_mode.setter
    def gate_mode(self, value: Union[str, GateMode]) -> None:
        self._gate_mode = self.s2t_model.inference_gate_mode = GateMode.parse(value)

    def _check_keys(
        self, state: dict[str, torch.Tensor], model_file: Union[Path, str]
    ) -> None:
        expected = set(self.s2t_model.state_dict())
        state = conform_state_dict(state, expected)  # the other release's keys
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

    def _known(self, symbol: Optional[str], kind: str) -> Optional[str]:
        """``symbol`` as the token list spells it (``None`` stays ``None``).

        Raises:
            ValueError: a symbol the model does not know (lists the known ones).
        """
        if symbol is None:
            return None
        symbol = bracketed(symbol)
        self.s2t_model.gating.vocabulary.symbol_index(symbol, kind)
        return symbol

    def context(
        self, lang_sym: Optional[str] = None, task_sym: Optional[str] = None
    ) -> tuple[str, str]:
        """The ``(<lang>, <task>)`` of a call: its own symbols, else the defaults.

        Raises:
            ValueError: a symbol is missing (the message lists the model's
                symbols and how to pass them) or unknown.
        """
        lang = self._known(lang_sym, "lang") or self.lang_sym
        task = self._known(task_sym, "task") or self.task_sym
        if lang is None or task is None:
            vocabulary = self.s2t_model.gating.vocabulary
            missing = " and ".join(
                n for n, s in (("lang_sym", lang), ("task_sym", task)) if s is None
            )
            raise ValueError(
                f"no {missing} given, and decoding needs the utterance's language "
                f"and task (there is no default): this model knows languages "
                f"{vocabulary.known('lang')} and tasks {vocabulary.known('task')}. "
                "Pass them to Speech2Text(..., lang_sym='<deu>', task_sym='<asr>') "
                "or to each call, or --lang_sym deu --task_sym asr on the command "
                "line ('deu' and '<deu>' both work)"
            )
        return lang, task

    @torch.no_grad()
    def __call__(
        self,
        speech: Union[Audio, Path, str],
        text_prev=None,
        lang_sym: Optional[str] = None,
        task_sym: Optional[str] = None,
        predict_time: Optional[bool] = None,
        sample_rate: Optional[int] = None,
    ):
        """Decode one utterance; same arguments and results as ESPnet's.

        Args:
            speech: ``(n,)`` or ``(n, 1)`` samples, or an audio file's path.
            sample_rate: the samples' rate (a file's comes from the file);
                ``None``: the model's. Another rate is resampled.
            **others: as ESPnet's.
        Raises:
            ValueError: no context (see :meth:`context`), or audio that
                :func:`checked_audio` refuses (names the input).
        """
        lang_sym, task_sym = self.context(lang_sym, task_sym)
        name = "speech"
        if isinstance(speech, (str, Path)):
            name = str(speech)
            speech, sample_rate = read_audio_file(speech)
        speech = checked_audio(speech, sample_rate, self.audio_limits, name)
        self.s2t_model.set_inference_context(lang_sym, task_sym, self._gate_mode)
        return super().__call__(
            speech,
            text_prev=text_prev,
            lang_sym=lang_sym,
            task_sym=task_sym,
            predict_time=predict_time,
        )

    @torch.no_grad()
    def batch_decode(
        self,
        speech,
        speech_lengths=None,
        text_prev: Optional[torch.Tensor] = None,
        text_prev_lengths: Optional[torch.Tensor] = None,
        lang_sym: Union[str, Sequence[str], None] = None,
        task_sym: Union[str, Sequence[str], None] = None,
        predict_time: Optional[bool] = None,
    ):
        """ESPnet 202611's ``batch_decode``, with a context per utterance.

        Args:
            speech: a list of utterances, or padded ``(B, n)`` samples (with
                ``speech_lengths``), at the model's rate.
            lang_sym: one symbol for the whole batch, or one per utterance.
            task_sym: likewise.
            **others: as ESPnet's ``batch_decode``.
        Returns:
            One n-best list per utterance, as ESPnet's; each equals decoding that
            utterance alone with its own context.
        Raises:
            NotImplementedError: the installed ESPnet has no ``batch_decode``.
            ValueError: no context, or an utterance that :func:`checked_audio`
                refuses (named ``speech[i]``).
        """
        if not hasattr(ESPnetSpeech2Text, "batch_decode"):
            raise NotImplementedError(
                f"batch_decode needs espnet 202611 or newer (installed: espnet "
                f"{ESPNET_VERSION}); decode one utterance at a time with "
                "speech2text(speech, lang_sym=..., task_sym=...)"
            )
        speech = [
            checked_audio(row, None, self.audio_limits, f"speech[{i}]")
            for i, row in enumerate(_utterances(speech, speech_lengths))
        ]
        speech_lengths = None
        count = len(speech)
        langs = _symbols_for_batch(lang_sym, count, "lang_sym")
        tasks = _symbols_for_batch(task_sym, count, "task_sym")
        pairs = zip(langs, tasks, strict=True)
        contexts = [self.context(lang, task) for lang, task in pairs]
        langs = [lang for lang, _ in contexts]
        tasks = [task for _, task in contexts]
        self.s2t_model.set_inference_context(langs, tasks, self._gate_mode)
        symbols = list(zip(langs, tasks, strict=True))
        if len(set(symbols)) == 1:
            lang_sym, task_sym = symbols[0]
        else:  # one prompt per utterance (_build_hyp_primer)
            lang_sym = task_sym = None
            self._utterance_symbols = iter(symbols)
        try:
            return super().batch_decode(
                speech,
                speech_lengths,
                text_prev=text_prev,
                text_prev_lengths=text_prev_lengths,
                lang_sym=lang_sym,
                task_sym=task_sym,
                predict_time=predict_time,
            )
        finally:
            self._utterance_symbols = None

    def _build_hyp_primer(
        self, lang_sym=None, task_sym=None, predict_time=None, text_prev=None
    ):
        """ESPnet's prompt; in a mixed-context batch, one per utterance.

        ESPnet's ``batch_decode`` asks once for the whole batch without
        ``text_prev``, or once per utterance, in order, with it.
        """
        rows = self._utterance_symbols
        if rows is None:
            return super()._build_hyp_primer(
                lang_sym, task_sym, predict_time, text_prev
            )
        if text_prev is None:
            return [
                super(Speech2Text, self)._build_hyp_primer(lang, task, predict_time)
                for lang, task in rows
            ]
        lang, task = next(rows)
        return super()._build_hyp_primer(lang, task, predict_time, text_prev)

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


def _utterances(speech, speech_lengths) -> list:
    """A batch as one array per utterance (padded rows cut to their lengths)."""
    if isinstance(speech, (list, tuple)) or speech_lengths is None:
        return list(speech)
    return [row[: int(n)] for row, n in zip(speech, speech_lengths, strict=True)]


def _symbols_for_batch(
    symbols: Union[str, Sequence[str], None], count: int, name: str
) -> list[Optional[str]]:
    """One symbol (``None``: the default) per utterance of a batch of ``count``.

    Raises:
        ValueError: a list whose length is not ``count``.
    """
    if symbols is None or isinstance(symbols, str):
        return [symbols] * count
    if len(symbols) != count:
        raise ValueError(f"{name}: {len(symbols)} symbols for {count} utterances")
    return list(symbols)
