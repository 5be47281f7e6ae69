"""Distillation from a dense teacher: its configuration and its loss.

A gated student that closes modules loses some of what the dense model knew; the
dense model's own output distributions are a richer target than the one-hot
labels (they say which wrong tokens are nearly right). The loss is the
temperature-scaled KL divergence of the student's distributions from the
teacher's, summed over the valid positions and divided by the batch size, the
normalisation of ESPnet's attention and CTC losses (``length_normalized_loss:
false``), so the terms are on the same scale as the task loss they are mixed with.
"""

from dataclasses import dataclass

import torch

__all__ = ["DistillationConfig", "distribution_kl"]


@dataclass(frozen=True)
class DistillationConfig:
    """``model_conf.distill_conf``: the teacher and how much the student follows it.

    The training loss becomes ``(1 - weight) * task + weight * distill`` (plus
    the sparsity loss), with ``distill = (1 - c) * KL_att + c * KL_ctc`` and
    ``c`` the model's ``ctc_weight``: the decoder's token distributions and, where
    CTC is trained, the CTC posteriors.

    Args:
        teacher_config: the teacher's training ``config.yaml`` (any ESPnet S2T
            model with the student's token list, e.g. the dense baseline or the
            source of an OWSM conversion).
        teacher_model_file: the teacher's weights (read as tensors only).
        weight: share of the distillation term, in [0, 1].
        temperature: softmax temperature of both distributions (> 0); the
            loss is scaled by its square so gradients keep their size.
    """

    teacher_config: str
    teacher_model_file: str
    weight: float = 0.5
    temperature: float = 1.0

    def __post_init__(self) -> None:
        for key in ("teacher_config", "teacher_model_file"):
            if not str(getattr(self, key) or "").strip():
                raise ValueError(f"distill_conf.{key} must name a file")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(
                f"distill_conf.weight must be in [0, 1], got {self.weight}"
            )
        if self.temperature <= 0:
            raise ValueError(
                f"distill_conf.temperature must be > 0, got {self.temperature}"
            )


def distribution_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    valid: torch.Tensor,
    temperature: float = 1.0,
) -> torch.Tensor:
    """``T^2 * sum KL(p_teacher || p_student) / B`` over the valid positions.

    Args:
        student_logits: ``(B, N, V)`` unnormalised scores (log-probabilities work
            too: the softmax ignores a per-position constant).
        teacher_logits: ``(B, N, V)``, the same positions; no gradient flows here.
        valid: ``(B, N)`` bool, the positions that count.
        temperature: softmax temperature ``T``.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student scores {tuple(student_logits.shape)} and teacher scores "
            f"{tuple(teacher_logits.shape)} differ in shape"
        )
    student = torch.log_softmax(student_logits.float() / temperature, dim=-1)
    teacher = torch.log_softmax(teacher_logits.detach().float() / temperature, dim=-1)
    per_position = (teacher.exp() * (teacher - student)).sum(-1)  # [B, N]
    total = per_position.masked_fill(~valid, 0.0).sum()
    return total * temperature**2 / student_logits.size(0)
