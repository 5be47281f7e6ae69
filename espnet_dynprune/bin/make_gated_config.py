"""Write the gated counterpart of a stock S2T training config (recipe stage 5).

Usage:
    python -m espnet_dynprune.bin.make_gated_config conf/train_dense.yaml \\
        exp/s2t_gated_dec0.5/train.yaml --decoder_target 0.5 \\
        [--encoder_target 0.2] [--parts encoder decoder] [--gate_conf conf/gate.yaml]

``--gate_conf`` is a YAML file with ``gate_predictor_conf`` and ``sparsity_conf``
mappings (its targets are replaced by ``--decoder_target`` / ``--encoder_target``:
one left out is ``None``, no sparsity term for that part); the
result also takes the optimisation keys of that file (e.g. ``optim_conf``).
``--parts`` names the gated parts (``gate_predictor_conf.parts``); default: the
gate conf's ``parts``, else the parts that have a target. A ``distill_conf`` in
the gate conf turns on distillation from the teacher given by
``--teacher_config`` / ``--teacher_model_file`` (the dense model the gated one
starts from); ``--distill_weight`` overrides its weight, 0 turns it off.
"""

import argparse
from pathlib import Path
from typing import Optional

import yaml

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.nets.gate_config import GATED_PARTS
from espnet_dynprune.tasks.gated_config import apply_gate_options


def parse_target(value: str) -> Optional[float]:
    """A sparsity target from the command line (``none`` / ``null``: dense)."""
    return None if value.lower() in ("none", "null") else float(value)


def add_parts_option(parser: argparse.ArgumentParser) -> None:
    """``--parts``: the gated parts, a structural setting."""
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=GATED_PARTS,
        default=None,
        help="parts that carry gates; unset: the gate conf's "
        "gate_predictor_conf.parts, else the parts with a target",
    )


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument("src", type=Path, help="stock S2T training config (YAML)")
    parser.add_argument(
        "dst", type=Path, help="gated config to write (its directory is created)"
    )
    parser.add_argument(
        "--encoder_target",
        type=parse_target,
        default=None,
        help="target fraction of closed encoder gates, in [0, 1); none: no "
        "encoder sparsity term (replaces the gate conf's sparsity_conf.encoder_target)",
    )
    parser.add_argument(
        "--decoder_target",
        type=parse_target,
        default=None,
        help="target fraction of closed decoder gates, in [0, 1); none: no "
        "decoder sparsity term (replaces the gate conf's sparsity_conf.decoder_target)",
    )
    parser.add_argument(
        "--sparsity_weight",
        type=float,
        default=None,
        help="replaces sparsity_conf.weight; unset: the gate conf's",
    )
    parser.add_argument(
        "--gate_conf",
        type=Path,
        default=None,
        help="YAML with gate_predictor_conf, sparsity_conf, optional distill_conf "
        "and training keys that replace the source config's; unset: none",
    )
    parser.add_argument(
        "--teacher_config",
        default=None,
        help="distillation teacher's config.yaml, filled into a distill_conf "
        "that names none (needs --teacher_model_file too)",
    )
    parser.add_argument(
        "--teacher_model_file",
        default=None,
        help="distillation teacher's weights (.pth; needs --teacher_config too)",
    )
    parser.add_argument(
        "--distill_weight",
        type=float,
        default=None,
        help="replaces distill_conf.weight; 0 turns distillation off; unset: "
        "the gate conf's",
    )
    add_parts_option(parser)
    args = parser.parse_args()
    with open(args.src, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    extra = {}
    if args.gate_conf is not None:
        with open(args.gate_conf, encoding="utf-8") as f:
            extra = yaml.safe_load(f) or {}
    if args.sparsity_weight is not None:
        extra["sparsity_conf"] = {
            **(extra.get("sparsity_conf") or {}),
            "weight": args.sparsity_weight,
        }
    teacher = None
    if args.teacher_config and args.teacher_model_file:
        teacher = (args.teacher_config, args.teacher_model_file)
    result = apply_gate_options(
        config,
        extra,
        args.encoder_target,
        args.decoder_target,
        args.parts,
        teacher,
        args.distill_weight,
    )
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    with open(args.dst, "w", encoding="utf-8") as f:
        yaml.safe_dump(result, f, sort_keys=False)
    print(args.dst)


if __name__ == "__main__":
    main()
