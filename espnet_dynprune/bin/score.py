"""Score decoded test sets and write the recipe report (recipe stage 7).

Usage:
    python -m espnet_dynprune.bin.score --data_dir data \\
        --decode_dirs exp/s2t_gated/decode_dense exp/s2t_gated/decode_predicted \\
        --dense exp/s2t_gated/decode_dense --out_dir .

Each decode dir holds one sub-directory per test set (as written by
``espnet_dynprune.bin.s2t_inference``); the test set's references are read from
``<data_dir>/<test set>/text``. A gated model's decoding time is compared with
the ``decode_dense`` beside it (the recipe decodes both interleaved, in the same
processes), or, where it has none, with ``--dense``. Writes ``RESULTS.md``,
``results.json``, ``gates_<model>.png`` and, for two or more gated models,
``tradeoff.png`` into ``--out_dir`` and prints the report. The report's
environment block names, per model dir, the decoding options that
``s2t_inference`` recorded in the sets' ``timing.json``.
"""

import logging
import sys
from pathlib import Path
from typing import Optional

import numpy as np
from espnet2.tasks.s2t import S2TTask

import espnet_dynprune  # noqa: F401  (registers the plugin classes)
from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.eval.report import write_report
from espnet_dynprune.eval.scoring import read_decode_options, score_decode_dir

DENSE_DECODE = "decode_dense"
"""The recipe's ``decode_<gate mode>`` directory of the dense reference."""


def _module_flops(config: Path) -> Optional[dict[str, np.ndarray]]:
    """Per-module FLOPs of a gated model, measured on a model built from config."""
    model, _ = S2TTask.build_model_from_file(config, None, "cpu")
    gating = getattr(model, "gating", None)
    if gating is None:
        return None
    encoder, decoder = gating.module_flops()
    return {
        part: flops.numpy()
        for part, flops in (("encoder", encoder), ("decoder", decoder))
        if flops is not None
    }


def _name(decode_dir: Path) -> str:
    return f"{decode_dir.parent.name}/{decode_dir.name}"


def dense_reference(decode_dir: Path, dense: Path) -> Optional[Path]:
    """The dense decodings a gated decode dir is timed against (None: it is one)."""
    sibling = decode_dir.parent / DENSE_DECODE
    if decode_dir.resolve() in (dense.resolve(), sibling.resolve()):
        return None
    return sibling if sibling.is_dir() else dense


def _decode_options(decode_dirs: list[Path]) -> dict[str, str]:
    """Model dir name -> the options its sets were decoded with (where known)."""
    found: dict[str, str] = {}
    for decode_dir in decode_dirs:
        options = read_decode_options(decode_dir)
        if options is not None:
            found.setdefault(decode_dir.parent.name, options)
    return found


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--data_dir",
        type=Path,
        required=True,
        help="holds each test set's references: <data_dir>/<test set>/text",
    )
    parser.add_argument(
        "--decode_dirs",
        type=Path,
        nargs="+",
        required=True,
        help="decoding directories (exp/<model>/decode_<gate mode>), one "
        "sub-directory per test set; the model's config.yaml is read beside each",
    )
    parser.add_argument(
        "--dense",
        type=Path,
        required=True,
        help="the dense reference decode dir (normally among --decode_dirs): "
        "quality is compared with it, and gated models without a decode_dense "
        "beside them are timed against it",
    )
    parser.add_argument(
        "--out_dir",
        type=Path,
        default=Path("."),
        help="where RESULTS.md, results.json and the plots go",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = {}
    for decode_dir in args.decode_dirs:
        flops = _module_flops(decode_dir.parent / "config.yaml")
        reference = dense_reference(decode_dir, args.dense)
        results[_name(decode_dir)] = [
            score_decode_dir(
                test_dir,
                args.data_dir / test_dir.name,
                flops,
                None if reference is None else reference / test_dir.name,
            )
            for test_dir in sorted(p for p in decode_dir.iterdir() if p.is_dir())
        ]
    report = write_report(
        results,
        args.out_dir,
        _name(args.dense),
        "python -m espnet_dynprune.bin.score " + " ".join(sys.argv[1:]),
        _decode_options(args.decode_dirs),
    )
    print(report.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
