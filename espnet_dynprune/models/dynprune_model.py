"""ESPnet model classes with context-aware dynamic pruning (``model: dynprune``).

``ESPnetDynPruneS2TModel`` subclasses ``ESPnetS2TModel``: the context is the S2T
text prefix ``<lang><task>`` during training and ``lang_sym`` / ``task_sym`` at
inference. ``ESPnetDynPruneASRModel`` subclasses ``ESPnetASRModel``, whose text
has no such prefix: there the predictor must be acoustic-only
(``context: []``, ``acoustic: true``).

Training: ``forward`` predicts gates, runs ESPnet's own forward under them, and
adds the sparsity loss (reported as ``loss_sparsity`` with ``sparsity_enc``,
``sparsity_dec``, ``sparsity_flops`` and ``gate_temperature``). With
``distill_conf`` the task loss is mixed with distillation from a frozen dense
teacher (``loss_distill``, ``loss_distill_att``, ``loss_distill_ctc``).

Inference: ``encode`` (what ESPnet's ``Speech2Text`` calls) predicts the gates
for the context set with :meth:`set_inference_context`, runs the encoder under
them and leaves the decoder gates in place for the beam search that follows.
"""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Optional, Union

import torch
from espnet2.asr.espnet_model import ESPnetASRModel
from espnet2.s2t.espnet_model import ESPnetS2TModel
from espnet2.torch_utils.device_funcs import force_gatherable

from espnet_dynprune.compat.espnet_release import conform_state_dict, make_pad_mask
from espnet_dynprune.models.distillation import (
    DenseTeacher,
    StudentOutputs,
    capture_decoder,
)
from espnet_dynprune.models.gating import DynPruneGating
from espnet_dynprune.models.inference_context import GateMode, InferenceContext
from espnet_dynprune.nets.distillation import DistillationConfig
from espnet_dynprune.nets.exported_context import primer_rows
from espnet_dynprune.nets.gate_config import (
    GatePredictorConfig,
    SparsityConfig,
    from_dict,
)
from espnet_dynprune.nets.gate_contract import GatedStackMixin, GateMask
from espnet_dynprune.nets.gated_transformer_decoder import GatedTransformerDecoder

__all__ = [
    "DynPruneModelMixin",
    "ESPnetDynPruneASRModel",
    "ESPnetDynPruneS2TModel",
]


class DynPruneModelMixin:
    """Gating for an ESPnet model with ``encoder``/``decoder``/``_extract_feats``."""

    def _init_gating(
        self,
        gate_predictor_conf: Optional[dict],
        sparsity_conf: Optional[dict],
        inference_gate_mode: Union[str, GateMode],
        distill_conf: Optional[dict],
    ) -> None:
        predictor_config = from_dict(
            GatePredictorConfig, gate_predictor_conf, "model_conf.gate_predictor_conf"
        )
        sparsity_config = from_dict(
            SparsityConfig, sparsity_conf, "model_conf.sparsity_conf"
        )
        feature_dim = (
            self.frontend.output_size() if self.frontend is not None else None
        ) or getattr(self.encoder, "input_size", None)
        self.gating = DynPruneGating(
            predictor_config,
            sparsity_config,
            list(self.token_list),
            self.encoder,
            self.decoder,
            feature_dim,
        )
        # Checkpoints of either supported ESPnet release load (subsampling keys).
        self.register_load_state_dict_pre_hook(_conform_checkpoint_keys)
        self._decoding: Optional[_DecodingState] = None
        # Context-only predictors: gates per (lang, task), computed once.
        self._context_gates: dict[tuple[Optional[str], Optional[str]], GateMask] = {}
        # True inside forward: ESPnet's forward calls encode with gates in place.
        self._gates_in_place = False
        # Gate mode of contexts taken from ESPnet's hypothesis primer.
        self.inference_gate_mode = GateMode.parse(inference_gate_mode)
        if isinstance(self.decoder, GatedTransformerDecoder):
            self.decoder.primer_listener = self.set_context_from_primer
        # Not a submodule: no parameters to train, no keys in the checkpoint.
        self.distillation_teacher: Optional[DenseTeacher] = None
        if distill_conf:
            self.distillation_teacher = DenseTeacher(
                from_dict(DistillationConfig, distill_conf, "model_conf.distill_conf"),
                self._espnet_task(),
                self.vocab_size,
                self.sos,
            )
        # The student's outputs, recorded during a distillation forward.
        self._student_outputs: Optional[StudentOutputs] = None

    @staticmethod
    def _espnet_task() -> type:
        """The ESPnet task class that builds this kind of model (and its teacher)."""
        raise NotImplementedError

    # ----- training -------------------------------------------------------
    def _context_from_text(
        self, text: torch.Tensor
    ) -> dict[str, Optional[torch.Tensor]]:
        return self.gating.context_indices(text)

    def _pooled_features(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> Optional[torch.Tensor]:
        """``(B, F)`` time-mean of the normalised input features, if acoustic."""
        if not self.gating.config.acoustic:
            return None
        with torch.no_grad():
            feats, lengths = self._extract_feats(speech, speech_lengths)
            if self.normalize is not None:
                feats, lengths = self.normalize(feats, lengths)
            valid = (~make_pad_mask(lengths, feats, 1)).to(feats.dtype)  # [B, T, F]
            return (feats * valid).sum(1) / lengths.clamp(min=1).unsqueeze(1)

    @contextmanager
    def _gates_applied(self, gates: GateMask) -> Iterator[None]:
        self._gates_in_place = True
        try:
            with self.encoder_gates(gates.encoder), self.decoder_gates(gates.decoder):
                yield
        finally:
            self._gates_in_place = False

    @contextmanager
    def _recording(self, student: StudentOutputs) -> Iterator[None]:
        """Record the student's encoder and decoder outputs (with a teacher only)."""
        if self.distillation_teacher is None:
            yield
            return
        self._student_outputs = student
        try:
            with capture_decoder(self.decoder, student):
                yield
        finally:
            self._student_outputs = None

    def encoder_gates(self, gates: Optional[torch.Tensor]) -> AbstractContextManager:
        """Apply encoder gates in a ``with`` block (no-op for ``None``)."""
        return nullcontext() if gates is None else self.encoder.gates_applied(gates)

    def decoder_gates(self, gates: Optional[torch.Tensor]) -> AbstractContextManager:
        """Apply decoder gates in a ``with`` block (no-op for ``None``)."""
        return nullcontext() if gates is None else self.decoder.gates_applied(gates)

    def _gated_forward(
        self,
        context: dict[str, Optional[torch.Tensor]],
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        forward_kwargs: dict,
    ) -> tuple[torch.Tensor, dict, torch.Tensor]:
        pooled = self._pooled_features(speech, speech_lengths)
        gates = self.gating.predict(context["lang"], context["task"], pooled)
        student = StudentOutputs()
        with self._gates_applied(gates), self._recording(student):
            loss, stats, weight = super().forward(
                speech=speech, speech_lengths=speech_lengths, **forward_kwargs
            )
        teacher = self.distillation_teacher
        if teacher is not None:
            distill, terms = teacher.loss(
                speech, speech_lengths, student, self.ctc, self.ctc_weight
            )
            weight_kd = teacher.config.weight
            loss = (1.0 - weight_kd) * loss + weight_kd * distill
            stats["loss_distill"] = distill.detach()
            stats.update({key: value.detach() for key, value in terms.items()})
        sparsity_loss, sparsity_stats = self.gating.sparsity_loss(gates)
        loss = loss + sparsity_loss
        stats.update(sparsity_stats)
        stats["gate_temperature"] = self.gating.predictor.temperature()
        stats["loss"] = loss.detach()
        return force_gatherable((loss, stats, weight), loss.device)

    # ----- inference ------------------------------------------------------
    @property
    def inference_context(self) -> Optional[InferenceContext]:
        """The context decoding runs under (``None`` until one is set); with one
        context per utterance of a batch, the first utterance's."""
        return None if self._decoding is None else self._decoding.contexts[0]

    @property
    def last_gates(self) -> Optional[GateMask]:
        """Gates of the last ``encode`` in predicted mode (``None``: dense/none)."""
        return None if self._decoding is None else self._decoding.last_gates

    def set_inference_context(
        self,
        lang_sym: Union[str, Sequence[str], None] = None,
        task_sym: Union[str, Sequence[str], None] = None,
        gate_mode: Union[str, GateMode] = GateMode.PREDICTED,
    ) -> None:
        """Choose the gates that ``encode`` and decoding use, until changed.

        Args:
            lang_sym: language symbol such as ``<deu>`` (if the predictor uses
                it), or one per utterance of the next batch.
            task_sym: task symbol such as ``<st_eng>`` (if the predictor uses
                it), or one per utterance of the next batch.
            gate_mode: ``predicted`` (the predictor's gates) or ``dense`` (all open).
        Raises:
            ValueError: unknown symbol or mode, per-utterance lists of different
                lengths, or a predictor without trained weights in ``predicted``
                mode.
        """
        contexts = tuple(
            InferenceContext(gate_mode, lang, task)
            for lang, task in _per_utterance(lang_sym, task_sym)
        )
        if contexts[0].gate_mode is GateMode.DENSE:
            self._decoding = _DecodingState(contexts, {})
            return
        if not self.gating.is_trained():
            raise ValueError(
                "gate_mode=predicted, but the gate predictor has no trained weights "
                "(the checkpoint has none, or they were never trained): train the "
                "gates first, or decode with gate_mode=dense"
            )
        rows = [self._context_indices(context) for context in contexts]
        indices = {
            kind: None if rows[0][kind] is None else torch.cat([r[kind] for r in rows])
            for kind in ("lang", "task")
        }
        if self.gating.config.context_only:
            for context, row in zip(contexts, rows, strict=True):
                if context.symbols not in self._context_gates:
                    self._context_gates[context.symbols] = self._predict_context(row)
        self._decoding = _DecodingState(contexts, indices)

    def set_context_from_primer(
        self, primer: Union[Sequence[int], Sequence[Sequence[int]], torch.Tensor, None]
    ) -> None:
        """Set the context from ESPnet's hypothesis primer (its decoding prompt).

        ESPnet's ``Speech2Text`` primes the beam search with
        ``[<sop> text_prev...] <sos> <lang> <task> [<notimestamps>]`` before it
        encodes, one primer for the batch or one per utterance; the start-up
        hook forwards every primer here (:mod:`espnet_dynprune.tasks.registration`).
        So stock decoding, per-call ``lang_sym`` / ``task_sym`` included, runs
        each utterance under its own context, in :attr:`inference_gate_mode`.

        Raises:
            ValueError: a primer without ``<sos> <lang> <task>``, or unknown
                symbols (in ``predicted`` mode).
        """
        if primer is None or not self.gating.config.context:
            return
        symbols = [self._prompt_symbols(row) for row in primer_rows(primer)]
        self.set_inference_context(
            [lang for lang, _ in symbols],
            [task for _, task in symbols],
            self.inference_gate_mode,
        )

    def _prompt_symbols(self, primer: list[int]) -> tuple[str, str]:
        """``(<lang>, <task>)`` after the last ``<sos>`` of one primer."""
        starts = [i for i, token in enumerate(primer) if token == self.sos]
        start = starts[-1] if starts else -1
        if start < 0 or start + 2 >= len(primer):
            raise ValueError(
                "dynprune model: the decoding prompt has no <sos> <lang> <task>; "
                "decode with lang_sym and task_sym set"
            )
        return self.token_list[primer[start + 1]], self.token_list[primer[start + 2]]

    def _predict_context(self, indices: dict[str, Optional[torch.Tensor]]) -> GateMask:
        """Deterministic gates of one context (context-only predictor)."""
        was_training = self.gating.training
        self.gating.eval()  # deterministic gates, no update counted
        try:
            with torch.no_grad():
                return self.gating.predict(indices["lang"], indices["task"], None)
        finally:
            self.gating.train(was_training)

    def _context_indices(
        self, context: InferenceContext
    ) -> dict[str, Optional[torch.Tensor]]:
        """``(1,)`` predictor indices of the context's symbols (``None``: unused)."""
        device = self.gating.predictor.num_updates.device
        indices: dict[str, Optional[torch.Tensor]] = {}
        for kind, symbol in zip(("lang", "task"), context.symbols, strict=True):
            if kind not in self.gating.config.context:
                indices[kind] = None
                continue
            if symbol is None:
                raise ValueError(f"the gate predictor needs a {kind} symbol")
            index = self.gating.vocabulary.symbol_index(symbol, kind)
            indices[kind] = torch.tensor([index], device=device)
        return indices

    def context_gates(
        self, lang_sym: Optional[str], task_sym: Optional[str]
    ) -> GateMask:
        """The gates of one (language, task) context; sets it as inference context.

        Raises:
            ValueError: the predictor also reads the audio (``acoustic: true``),
                a symbol is unknown, or the predictor is untrained.
        """
        if not self.gating.config.context_only:
            raise ValueError(
                "gate_predictor_conf.acoustic is true: the gates depend on the "
                "audio, not only on (lang_sym, task_sym)"
            )
        self.set_inference_context(lang_sym, task_sym)
        return self._context_gates[(lang_sym, task_sym)]

    def train(self, mode: bool = True):
        """``nn.Module.train``; forgets cached per-context gates (weights change)."""
        self._context_gates = {}
        return super().train(mode)

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ESPnet's ``encode``; at inference, under the context's gates."""
        if self._gates_in_place:
            encoder_out, encoder_lens = super().encode(speech, speech_lengths)
            if self._student_outputs is not None:
                self._student_outputs.encoder_out = (
                    encoder_out[0] if isinstance(encoder_out, tuple) else encoder_out
                )
                self._student_outputs.encoder_lens = encoder_lens
            return encoder_out, encoder_lens
        if self._decoding is None and not self.gating.config.context:
            self.set_inference_context(gate_mode=self.inference_gate_mode)
        decoding = self._decoding
        if decoding is None:
            raise RuntimeError(
                "dynprune model: no inference context. Decode with ESPnet's or "
                "espnet_dynprune's Speech2Text (their prompt <sos><lang><task> sets "
                "it), or call model.set_inference_context(lang_sym, task_sym) first"
            )
        if decoding.contexts[0].gate_mode is GateMode.DENSE:
            self._hold_decoder_gates(None)
            return super().encode(speech, speech_lengths)
        gates = self._gates_for_batch(decoding, speech, speech_lengths)
        decoding.last_gates = gates
        self._hold_decoder_gates(gates.decoder)
        with self.encoder_gates(gates.encoder):
            return super().encode(speech, speech_lengths)

    def _gates_for_batch(
        self,
        decoding: "_DecodingState",
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
    ) -> GateMask:
        """Gates of a batch: per context (cached) or predicted from the audio."""
        batch, contexts = speech.size(0), decoding.contexts
        if len(contexts) not in (1, batch):
            raise ValueError(
                f"{len(contexts)} inference contexts for a batch of {batch} "
                "utterances: set one context, or one per utterance"
            )
        if self.gating.config.context_only:
            masks = [self._context_gates[context.symbols] for context in contexts]
            if len({context.symbols for context in contexts}) == 1:
                return masks[0]  # (1, L, M): every row agrees
            encoder, decoder = masks[0].encoder, masks[0].decoder
            return GateMask(
                None if encoder is None else torch.cat([m.encoder for m in masks]),
                None if decoder is None else torch.cat([m.decoder for m in masks]),
            )
        indices = {
            kind: None if index is None else index.expand(batch)
            for kind, index in decoding.indices.items()
        }
        pooled = self._pooled_features(speech, speech_lengths)
        return self.gating.predict(indices["lang"], indices["task"], pooled)

    def _hold_decoder_gates(self, gates: Optional[torch.Tensor]) -> None:
        """Keep decoder gates in place for the beam search that follows ``encode``."""
        if isinstance(self.decoder, GatedStackMixin):
            self.decoder.set_gates(gates)


def _conform_checkpoint_keys(
    module: torch.nn.Module, state_dict: dict, prefix: str, *_
) -> None:
    """Load-time hook: rename keys saved by the other ESPnet release, in place."""
    expected = {prefix + key for key in module.state_dict(keep_vars=True)}
    conformed = conform_state_dict(state_dict, expected)
    state_dict.clear()
    state_dict.update(conformed)


def _per_utterance(
    lang_sym: Union[str, Sequence[str], None],
    task_sym: Union[str, Sequence[str], None],
) -> list[tuple[Optional[str], Optional[str]]]:
    """``(lang, task)`` pairs: one shared pair, or one per utterance."""
    langs = [lang_sym] if lang_sym is None or isinstance(lang_sym, str) else lang_sym
    tasks = [task_sym] if task_sym is None or isinstance(task_sym, str) else task_sym
    if not langs or not tasks:
        raise ValueError("lang_sym / task_sym: an empty list of symbols")
    if len(langs) != len(tasks) and 1 not in (len(langs), len(tasks)):
        raise ValueError(
            f"{len(langs)} lang_sym but {len(tasks)} task_sym: give one of each "
            "per utterance, or one for all"
        )
    count = max(len(langs), len(tasks))
    langs = list(langs) * (count // len(langs))
    tasks = list(tasks) * (count // len(tasks))
    return list(zip(langs, tasks, strict=True))


@dataclass
class _DecodingState:
    """What ``encode`` reads at inference, from the latest context setting.

    Attributes:
        contexts: the validated contexts: one for every utterance, or one.
        indices: the predictor's ``(R,)`` inputs, one row per context (none in
            dense mode).
        last_gates: gates of the last ``encode`` (reported by ``Speech2Text``).
    """

    contexts: tuple[InferenceContext, ...]
    indices: dict[str, Optional[torch.Tensor]]
    last_gates: Optional[GateMask] = None


class ESPnetDynPruneS2TModel(DynPruneModelMixin, ESPnetS2TModel):
    """``ESPnetS2TModel`` with context-aware dynamic pruning.

    Args:
        *args: ``ESPnetS2TModel``'s arguments, in its order (``vocab_size``, ...).
        gate_predictor_conf: options of :class:`GatePredictorConfig`.
        sparsity_conf: options of :class:`SparsityConfig`.
        inference_gate_mode: ``predicted`` or ``dense``: the gates of decoding
            through ESPnet's own ``Speech2Text`` / ``s2t_inference``.
        distill_conf: options of :class:`DistillationConfig` (``None``: no
            teacher).
        **kwargs: every option of ``ESPnetS2TModel``.
    """

    def __init__(
        self,
        *args,
        gate_predictor_conf: Optional[dict] = None,
        sparsity_conf: Optional[dict] = None,
        inference_gate_mode: str = "predicted",
        distill_conf: Optional[dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._init_gating(
            gate_predictor_conf, sparsity_conf, inference_gate_mode, distill_conf
        )

    @staticmethod
    def _espnet_task() -> type:
        from espnet2.tasks.s2t import S2TTask

        return S2TTask

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """ESPnet's S2T forward under predicted gates, plus the sparsity loss."""
        if int(text_lengths.min()) < 2:
            raise ValueError("S2T text must start with <lang><task>; got shorter text")
        return self._gated_forward(
            self._context_from_text(text),
            speech,
            speech_lengths,
            dict(text=text, text_lengths=text_lengths, **kwargs),
        )


class ESPnetDynPruneASRModel(DynPruneModelMixin, ESPnetASRModel):
    """``ESPnetASRModel`` with acoustic-only dynamic pruning.

    ASR text carries no context tokens, so ``gate_predictor_conf`` must set
    ``context: []`` and ``acoustic: true``.
    """

    def __init__(
        self,
        *args,
        gate_predictor_conf: Optional[dict] = None,
        sparsity_conf: Optional[dict] = None,
        inference_gate_mode: str = "predicted",
        distill_conf: Optional[dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        conf = dict(gate_predictor_conf or {})
        if conf.get("context", ("lang", "task")) or not conf.get("acoustic", False):
            raise ValueError(
                "ASR task: gate_predictor_conf needs context: [] and acoustic: true "
                "(ASR text has no <lang><task> prefix)"
            )
        self._init_gating(conf, sparsity_conf, inference_gate_mode, distill_conf)

    @staticmethod
    def _espnet_task() -> type:
        from espnet2.tasks.asr import ASRTask

        return ASRTask

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """ESPnet's ASR forward under predicted gates, plus the sparsity loss."""
        return self._gated_forward(
            {"lang": None, "task": None},
            speech,
            speech_lengths,
            dict(text=text, text_lengths=text_lengths, **kwargs),
        )
