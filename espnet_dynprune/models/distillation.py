"""The frozen dense teacher of a gated student and the distillation terms.

The teacher is loaded on the first training forward, not when the model is built:
decoding builds the same model from the same ``config.yaml`` and never needs it.
It is held outside the module tree, so it has no parameters in the student's
optimizer and no keys in the student's checkpoint, and it never trains: frozen,
in eval mode, run under ``torch.no_grad``.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

import torch

from espnet_dynprune.io.model_file import load_s2t_model
from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.nets.distillation import DistillationConfig, distribution_kl

__all__ = ["DenseTeacher", "StudentOutputs", "capture_decoder"]

logger = logging.getLogger(__name__)


@dataclass
class StudentOutputs:
    """What the student computed in ESPnet's forward, for the distillation terms.

    Attributes:
        encoder_out: ``(B, T, D)`` encoder output (CTC's input).
        encoder_lens: ``(B,)`` its valid frames.
        decoder_in: ``(B, N)`` the decoder's teacher-forced input tokens.
        decoder_in_lens: ``(B,)`` their lengths.
        decoder_logits: ``(B, N, V)`` the decoder's output scores.
    """

    encoder_out: Optional[torch.Tensor] = None
    encoder_lens: Optional[torch.Tensor] = None
    decoder_in: Optional[torch.Tensor] = None
    decoder_in_lens: Optional[torch.Tensor] = None
    decoder_logits: Optional[torch.Tensor] = None


@contextmanager
def capture_decoder(
    decoder: Optional[torch.nn.Module], outputs: StudentOutputs
) -> Iterator[None]:
    """Record the decoder's inputs and scores into ``outputs`` within the block.

    ESPnet's ``_calc_att_loss`` builds the teacher-forced input (``<sos>``,
    optional previous text) and calls ``decoder(hs, hlens, ys_in, ys_in_lens)``;
    a forward hook sees exactly what the student was given.
    """
    if decoder is None:
        yield
        return

    def record(_module, args, output) -> None:
        outputs.decoder_in, outputs.decoder_in_lens = args[2], args[3]
        outputs.decoder_logits = output[0]

    handle = decoder.register_forward_hook(record)
    try:
        yield
    finally:
        handle.remove()


class DenseTeacher:
    """The teacher of ``distill_conf``, loaded once on first use.

    Args:
        config: the teacher's files, the weight and the temperature.
        task: the ESPnet task class that builds the teacher (``S2TTask``,
            ``ASRTask``): the student's own.
        vocab_size: the student's vocabulary size; the teacher must match.
        sos: the ``<sos>`` id (decoder positions before the last ``<sos>`` hold
            previous-sentence text, which ESPnet's loss ignores; so does this one).
    """

    def __init__(
        self, config: DistillationConfig, task: type, vocab_size: int, sos: int
    ) -> None:
        self.config = config
        self.task = task
        self.vocab_size = vocab_size
        self.sos = sos
        self._model: Optional[torch.nn.Module] = None

    def model(self, device: torch.device) -> torch.nn.Module:
        """The frozen teacher on ``device`` (loaded on the first call).

        Raises:
            ValueError: unreadable files, or a vocabulary unlike the student's
                (names the teacher's files).
        """
        if self._model is None:
            # a converted checkpoint (init.pth) with its stock config: gates left out
            config, model = load_s2t_model(
                self.config.teacher_config,
                self.config.teacher_model_file,
                self.task,
                extra_prefixes=(GATE_PREFIX,),
            )
            if getattr(model, "vocab_size", None) != self.vocab_size:
                raise ValueError(
                    f"distill_conf: the teacher {self.config.teacher_config} has "
                    f"{getattr(model, 'vocab_size', None)} tokens, the student "
                    f"{self.vocab_size}: a teacher needs the student's token list"
                )
            if hasattr(model, "set_inference_context"):
                model.set_inference_context(gate_mode="dense")  # a gated teacher
            model.requires_grad_(False)
            self._model = model.eval()
            logger.info(
                "distillation teacher: %s (%s, %d parameters, frozen), weight %.2f, "
                "temperature %.2f",
                self.config.teacher_model_file,
                config.get("model", "espnet"),
                sum(p.numel() for p in model.parameters()),
                self.config.weight,
                self.config.temperature,
            )
        return self._model.to(device)

    def loss(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        student: StudentOutputs,
        student_ctc: Optional[torch.nn.Module],
        ctc_weight: float,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(1 - c) * KL_att + c * KL_ctc`` and its terms for ESPnet's stats.

        Args:
            speech, speech_lengths: the batch the student was given.
            student: the student's captured outputs.
            student_ctc: the student's CTC module (``None``: no CTC).
            ctc_weight: ``c``, the model's CTC weight.
        """
        teacher = self.model(speech.device)
        temperature = self.config.temperature
        with torch.no_grad():
            teacher_out, teacher_lens = teacher.encode(speech, speech_lengths)
            if isinstance(teacher_out, tuple):  # intermediate CTC outputs
                teacher_out = teacher_out[0]
        terms: dict[str, torch.Tensor] = {}
        total = speech.new_zeros(())
        if ctc_weight < 1.0 and student.decoder_logits is not None:
            with torch.no_grad():
                teacher_logits = teacher.decoder(
                    teacher_out,
                    teacher_lens,
                    student.decoder_in,
                    student.decoder_in_lens,
                )[0]
            valid = self._decoder_positions(student.decoder_in, student.decoder_in_lens)
            terms["loss_distill_att"] = distribution_kl(
                student.decoder_logits, teacher_logits, valid, temperature
            )
            total = total + (1.0 - ctc_weight) * terms["loss_distill_att"]
        if ctc_weight > 0.0 and student_ctc is not None:
            self._check_frames(student.encoder_out, teacher_out)
            with torch.no_grad():
                teacher_ctc = teacher.ctc.log_softmax(teacher_out)
            frames = torch.arange(teacher_out.size(1), device=speech.device)
            valid = frames[None, :] < student.encoder_lens[:, None]
            terms["loss_distill_ctc"] = distribution_kl(
                student_ctc.log_softmax(student.encoder_out),
                teacher_ctc,
                valid,
                temperature,
            )
            total = total + ctc_weight * terms["loss_distill_ctc"]
        return total, terms

    def _decoder_positions(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        """``(B, N)``: within the length and from the last ``<sos>`` on."""
        positions = torch.arange(tokens.size(1), device=tokens.device)[None, :]
        inside = positions < lengths[:, None]
        sos_at = torch.where(inside & (tokens == self.sos), positions, -1)
        return inside & (positions >= sos_at.max(dim=1, keepdim=True).values)

    def _check_frames(
        self, student_out: Optional[torch.Tensor], teacher_out: torch.Tensor
    ) -> None:
        if student_out is None or student_out.shape[:2] != teacher_out.shape[:2]:
            shape = None if student_out is None else tuple(student_out.shape[:2])
            raise ValueError(
                f"distill_conf: the teacher {self.config.teacher_config} gives "
                f"{tuple(teacher_out.shape[:2])} encoder frames, the student "
                f"{shape}: CTC distillation needs the same frontend and subsampling"
            )
