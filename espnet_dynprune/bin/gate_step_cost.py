"""Measure the cost of one gate-only / joint training step of OWSM-shaped models.

Usage:
    python -m espnet_dynprune.bin.gate_step_cost [--shapes owsm_base owsm_small] \
        [--modes gate_only joint] [--batch 2] [--seconds 30] [--repeats 3] \
        [--out cost.json]

Randomly initialised models of :data:`espnet_dynprune.eval.benchmark.SHAPES`; each
row: median step time (forward + backward + AdamW), FLOPs of the step, and the
tensor memory of weights, gradients, optimizer state and saved activations.
"""

import argparse
import json
from pathlib import Path

import torch

from espnet_dynprune.eval.benchmark import SHAPES
from espnet_dynprune.eval.gate_step_cost import as_row, measure_step

__all__ = ["main"]

_COLUMNS = (
    "shape", "mode", "step_s", "train_gflops", "encode_s", "encode_gflops",
    "trainable_m", "weights_mb", "grads_mb", "optimizer_mb", "activations_mb",
)  # fmt: skip


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["owsm_base", "owsm_small"])
    parser.add_argument("--modes", nargs="+", default=["gate_only", "joint"])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    unknown = sorted(set(args.shapes) - set(SHAPES))
    if unknown:
        parser.error(f"unknown shapes {unknown}; known: {sorted(SHAPES)}")
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
