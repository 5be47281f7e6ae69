"""The plugin's S2T task: ESPnet's ``S2TTask`` plus two training options.

* ``word_bounds`` is an optional training input (``model: word_aligned``).
* ``--gate_lr`` gives the gate predictor (``gating.*`` parameters) its own
  learning rate, so gates and backbone can train jointly: the gates need a
  large step to settle within an epoch, and the backbone a small one to adapt
  to its closed modules without forgetting. ESPnet builds one optimizer over
  all parameters; here the same optimizer gets two parameter groups, and a
  scheduler scales both alike.
"""

import argparse

import torch
from espnet2.tasks.abs_task import optim_classes
from espnet2.tasks.s2t import S2TTask
from espnet2.utils.types import float_or_none

from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.models.word_aligned_model import WORD_BOUNDS

__all__ = ["ABSOLUTE_LR_SCHEDULERS", "DynPruneS2TTask"]

ABSOLUTE_LR_SCHEDULERS = (
    "cosineannealingwarmuprestarts",
    "cycliclr",
    "exponentialdecaywarmup",
    "onecyclelr",
    "piecewiselinearwarmuplr",
)
"""Schedulers that set the same absolute lr in every parameter group, which
would silently replace ``--gate_lr``; the others scale each group's own lr."""


class DynPruneS2TTask(S2TTask):
    """``S2TTask`` with a ``word_bounds`` input and ``--gate_lr``."""

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser) -> None:
        super().add_task_arguments(parser)
        group = parser.add_argument_group(description="Dynamic pruning")
        group.add_argument(
            "--gate_lr",
            type=float_or_none,
            default=None,
            help="Learning rate of the gate predictor (gating.*); the rest of the "
            "model keeps optim_conf's lr. None: one lr for all.",
        )

    @classmethod
    def optional_data_names(
        cls, train: bool = True, inference: bool = False
    ) -> tuple[str, ...]:
        names = super().optional_data_names(train, inference)
        return names if inference else names + (WORD_BOUNDS,)

    @classmethod
    def build_optimizers(
        cls, args: argparse.Namespace, model: torch.nn.Module
    ) -> list[torch.optim.Optimizer]:
        gate_lr = getattr(args, "gate_lr", None)
        if gate_lr is None:
            return super().build_optimizers(args, model)
        if gate_lr <= 0:
            raise ValueError(f"--gate_lr must be positive, got {gate_lr}")
        if args.scheduler in ABSOLUTE_LR_SCHEDULERS:
            raise ValueError(
                f"--gate_lr cannot be combined with --scheduler {args.scheduler}: "
                "it sets one lr for every parameter group"
            )
        if args.sharded_ddp or args.exclude_weight_decay:
            raise ValueError(
                "--gate_lr cannot be combined with --sharded_ddp or "
                "--exclude_weight_decay"
            )
        optim_class = optim_classes.get(args.optim)
        if optim_class is None:
            raise ValueError(
                f"--optim must be one of {list(optim_classes)}: {args.optim}"
            )
        gate, backbone = [], []
        for name, param in model.named_parameters():
            (gate if name.startswith(GATE_PREFIX) else backbone).append(param)
        if not gate:
            raise ValueError(
                "--gate_lr needs a model with a gate predictor (model: dynprune); "
                f"{type(model).__name__} has no {GATE_PREFIX}* parameters"
            )
        groups = [{"params": backbone}, {"params": gate, "lr": gate_lr}]
        return [optim_class(groups, **args.optim_conf)]
