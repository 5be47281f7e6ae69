"""Measure the cost of one gate-only / joint training step of OWSM-shaped models.

Usage:
    python -m espnet_dynprune.bin.gate_step_cost [--shapes owsm_base owsm_small] \\
        [--modes gate_only joint] [--batch 2] [--seconds 30] [--repeats 3] \\
        [--out cost.json]
    python -m espnet_dynprune.bin.gate_step_cost --short  # seconds: checks the command

Randomly initialised models of :data:`espnet_dynprune.eval.benchmark.SHAPES`; each
row: median step time (forward + backward + AdamW), FLOPs of the step, and the
tensor memory of weights, gradients, optimizer state and saved activations.
"""

import json
from pathlib import Path

import torch

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.eval.benchmark import SHAPES
from espnet_dynprune.eval.gate_step_cost import as_row, measure_step

__all__ = ["main"]

_COLUMNS = (
    "shape", "mode", "step_s", "train_gflops", "encode_s", "encode_gflops",
    "trainable_m", "weights_mb", "grads_mb", "optimizer_mb", "activations_mb",
)  # fmt: skip


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=["owsm_base", "owsm_small"],
        choices=SHAPES,
        help="randomly initialised models of these OWSM shapes (tiny: for tests)",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["gate_only", "joint"],
        choices=["gate_only", "joint"],
        help="gate_only: backbone frozen, only gating.* trains; joint: everything "
        "trains",
    )
    parser.add_argument(
        "--batch", type=int, default=2, help="utterances per training batch"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help="audio seconds of every utterance (all padded to it, as OWSM's 30 s)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed steps after one warm-up; the median is kept",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write all rows as JSON here"
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="tiny shape, 1 s, 1 repeat: checks the command in seconds",
    )
    args = parser.parse_args()
    if args.short:
        args.shapes, args.seconds, args.repeats = ["tiny"], 1.0, 1
        args.batch = min(args.batch, 2)
    rows = []
    print(f"torch threads: {torch.get_num_threads()}")
    print(" | ".join(_COLUMNS))
    for name in args.shapes:
        for mode in args.modes:
            row = as_row(
                measure_step(SHAPES[name], mode, args.batch, args.seconds, args.repeats)
            )
            rows.append(row)
            print(
                " | ".join(
                    f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c])
                    for c in _COLUMNS
                ),
                flush=True,
            )
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
