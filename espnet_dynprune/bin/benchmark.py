"""Decoding speed of pruned vs dense vs stock ESPnet, measured side by side.

Usage:
    python -m espnet_dynprune.bin.benchmark          # owsm_base, 10 s, 40 steps
    python -m espnet_dynprune.bin.benchmark --shapes owsm_base owsm_small \\
        --lengths 10:40 30:120 --batch_decode 16 --out bench.json
    python -m espnet_dynprune.bin.benchmark --short  # seconds: checks the command
    python -m espnet_dynprune.bin.benchmark --model_dir exp/s2t_gated_dec0.5 \\
        --wav speech.wav --beams 5

For every model shape, length (seconds of audio, decoding steps) and beam size it
prints one table: median wall time of decoding one utterance (after a warm-up),
FLOPs counted by ``torch.utils.flop_counter``, and the reductions against
``dense`` (the gated model with every gate open, with its key/value caches: the
pruning saving) and against ``stock`` (ESPnet's own model: caches and pruning
together). ``quot.`` is time reduction / FLOPs reduction against ``dense``: the
share of the FLOPs saving that turns into time saving. The ``int8`` rows decode
with ESPnet's dynamic int8 quantization of the gated model's ``Linear`` layers
(``quantize_s2t_model``); torch's FLOP counter does not see quantized kernels,
so their FLOPs and export weights are ``-``. ``weights MB`` is what a
per-context export with that mask keeps (backbone without ``gating.*``, less the
removed modules); ``peak MB`` the most tensor memory the decode allocated at
once on top of the weights (``torch.profiler`` memory events, operator
granularity). A second table splits one decode of ``stock``, ``dense`` and
``joint 0.5`` into encoder, decoder layers, output layer, the rest of the
decoder step and the beam search's bookkeeping
(``espnet_dynprune.eval.decode_profile``). All ratios come from one run.

At the first length only, with ``--batch N`` (default 4, 0 to skip), one encoder
table per shape: N utterances of two contexts (alternating, each with its own
50% encoder mask) encoded one at a time, batched dense, grouped by mask, or mixed
in one batch (modules run on their open rows only); ``time-% dense`` compares
with the dense model under the same batching.

With ``--batch_decode N`` (espnet 202611 and newer), at the first length, one
throughput table per shape: N utterances of two contexts (alternating, each with
its own joint 50% mask) decoded whole (encoder and a beam search of the first of
``--beams``) one at a time or together in one multi-utterance beam search, by
stock ESPnet, the gated model dense and pruned; ``utt/s`` is utterances per
second, ``x stock`` the throughput against stock ESPnet decoding the same way,
and ``same hyps`` says whether the batch gave the one-at-a-time hypotheses.

With ``--model_dir`` (a trained gated model: ``config.yaml`` and
``--model_file``) the table compares, on that model's weights, ``stock``,
``dense`` and ``predicted <lang>/<task>``: the gates its (context-only)
predictor gives each (language, task) of its context vocabulary. The audio is
random noise or ``--wav``; there is no batched table.
"""

import argparse
import json
import logging
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

import espnet_dynprune  # noqa: F401  (registers the plugin classes)
from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.compat.espnet_release import BatchBeamSearch
from espnet_dynprune.data.audio import AudioReadError, read_mono_audio
from espnet_dynprune.eval.benchmark import (
    SAMPLE_RATE,
    SHAPES,
    Setting,
    build_models,
    default_settings,
    load_trained,
    measure,
    measure_batch_decode,
    measure_batched,
    supports_batch_decode,
)
from espnet_dynprune.eval.decode_profile import PARTS

_MB = 1e6
_LOG = logging.getLogger(__name__)  # progress: one line per measured setting


@dataclass(frozen=True)
class Length:
    """Audio seconds and the decoding steps of a measurement."""

    seconds: float
    steps: int

    @classmethod
    def parse(cls, text: str) -> "Length":
        """``SECONDS:STEPS``, e.g. ``10:40``."""
        try:
            seconds, steps = text.split(":")
            length = cls(float(seconds), int(steps))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: expected SECONDS:STEPS, e.g. 10:40"
            ) from None
        if length.seconds <= 0 or length.steps <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: both must be positive")
        return length

    def __str__(self) -> str:
        return f"{self.seconds:g} s, {self.steps} steps"

    def __repr__(self) -> str:
        return f"{self.seconds:g}:{self.steps}"


def add_ratios(rows: list[dict]) -> None:
    """Reductions against ``dense`` and ``stock`` rows, in place."""
    by_name = {row["setting"]: row for row in rows}
    for row in rows:
        for base in ("dense", "stock"):
            ref = by_name[base]
            row[f"time_red_vs_{base}"] = 1 - row["time_s"] / ref["time_s"]
            row[f"flops_red_vs_{base}"] = (
                None if row["flops"] is None else 1 - row["flops"] / ref["flops"]
            )
        flops_red = row["flops_red_vs_dense"]
        row["quotient"] = (
            row["time_red_vs_dense"] / flops_red
            if flops_red is not None and flops_red > 0.01
            else None
        )


def format_table(rows: list[dict]) -> str:
    """Plain-text table of one shape (or trained model) and beam size."""
    width = max(18, *(len(r["setting"]) + 1 for r in rows))
    header = (
        f"{'setting':<{width}}{'time s':>9}{'GFLOPs':>10}{'time-%':>9}{'FLOPs-%':>9}"
        f"{'quot.':>7}{'time-% stock':>14}{'FLOPs-% stock':>15}{'weights MB':>12}"
        f"{'peak MB':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        quotient = "" if r["quotient"] is None else f"{r['quotient']:.2f}"
        lines.append(
            f"{r['setting']:<{width}}{r['time_s']:>9.3f}"
            f"{_cell(r['flops'], 1e9, '.2f'):>10}"
            f"{100 * r['time_red_vs_dense']:>9.1f}"
            f"{_cell(r['flops_red_vs_dense'], 0.01, '.1f'):>9}"
            f"{quotient:>7}{100 * r['time_red_vs_stock']:>14.1f}"
            f"{_cell(r['flops_red_vs_stock'], 0.01, '.1f'):>15}"
            f"{_cell(r['weight_bytes'], _MB, '.1f'):>12}{r['peak_bytes'] / _MB:>9.1f}"
        )
    return "\n".join(lines)


def format_profile_table(rows: list[dict]) -> str:
    """Seconds per part of one decode (:data:`PARTS`), for the profiled rows."""
    profiled = [r for r in rows if r.get("time_parts")]
    width = max(18, *(len(r["setting"]) + 1 for r in profiled))
    header = f"{'setting':<{width}}" + "".join(f"{p:>16}" for p in (*PARTS, "total"))
    lines = [header, "-" * len(header)]
    for r in profiled:
        parts = r["time_parts"]
        lines.append(
            f"{r['setting']:<{width}}"
            + "".join(f"{parts[p]:>16.3f}" for p in (*PARTS, "total"))
        )
    return "\n".join(lines)


def _cell(value: Optional[float], unit: float, spec: str) -> str:
    """``value / unit`` formatted, ``-`` where nothing was measured (int8 rows)."""
    return "-" if value is None else format(value / unit, spec)


def add_batched_ratios(rows: list[dict]) -> None:
    """Reductions against the dense row with the same batching, in place."""
    by_name = {row["setting"]: row for row in rows}
    for row in rows:
        single = row["setting"].endswith("1 at a time")
        ref = by_name["dense, 1 at a time" if single else "dense, batched"]
        row["time_red_vs_dense"] = 1 - row["time_s"] / ref["time_s"]
        row["flops_red_vs_dense"] = 1 - row["flops"] / ref["flops"]


def format_batched_table(rows: list[dict]) -> str:
    """Plain-text table of the batched encoder measurement."""
    header = (
        f"{'setting':<22}{'time s':>9}{'GFLOPs':>10}{'time-% dense':>14}"
        f"{'FLOPs-% dense':>15}{'peak MB':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['setting']:<22}{r['time_s']:>9.3f}{r['flops'] / 1e9:>10.2f}"
            f"{100 * r['time_red_vs_dense']:>14.1f}"
            f"{100 * r['flops_red_vs_dense']:>15.1f}{r['peak_bytes'] / _MB:>9.1f}"
        )
    return "\n".join(lines)


def format_batch_decode_table(rows: list[dict]) -> str:
    """Plain-text table of the batch-decoding throughput measurement."""
    header = (
        f"{'setting':<26}{'time s':>9}{'utt/s':>8}{'x 1 at a time':>15}"
        f"{'x stock':>9}{'same hyps':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['setting']:<26}{r['time_s']:>9.3f}{r['utterances_per_s']:>8.2f}"
            f"{r['speedup_vs_single']:>15.2f}{r['speedup_vs_stock']:>9.2f}"
            f"{'yes' if r['same_hypotheses'] else 'NO':>11}"
        )
    return "\n".join(lines)


def _chosen(settings: Sequence[Setting], names: Optional[list[str]]) -> list[Setting]:
    """The settings named (all for ``None``), always with ``stock`` and ``dense``."""
    return [
        s for s in settings if names is None or s.name in {"stock", "dense", *names}
    ]


def _measure_beams(
    label: str,
    models: dict[str, torch.nn.Module],
    settings: list[Setting],
    args: argparse.Namespace,
    length: Length,
    speech: Optional[torch.Tensor] = None,
) -> list[dict]:
    """Measure and print one table per beam size; the report entries."""
    entries = []
    for beam in args.beams:
        rows = measure(
            models,
            settings,
            seconds=length.seconds,
            beam=beam,
            steps=length.steps,
            repeats=args.repeats,
            progress=lambda r: _LOG.info("  %s: %.3f s", r["setting"], r["time_s"]),
            speech=speech,
        )
        add_ratios(rows)
        print(
            f"\n## {label}, {length}, beam {beam} (1 = greedy)\n{format_table(rows)}"
            f"\n\nseconds per part of one decode:\n{format_profile_table(rows)}"
        )
        entries.append(
            {
                "seconds": length.seconds,
                "steps": length.steps,
                "beam": beam,
                "rows": rows,
            }
        )
    return entries


def _run_trained(
    args: argparse.Namespace, report: dict, speech: Optional[torch.Tensor]
) -> None:
    """The tables of the trained model of ``--model_dir``, into ``report``."""
    models, settings = load_trained(
        args.model_dir / "config.yaml", args.model_dir / args.model_file
    )
    label = str(args.model_dir)
    for length in args.lengths:
        for entry in _measure_beams(
            label, models, _chosen(settings, args.settings), args, length, speech
        ):
            report["results"].append({"model_dir": label, **entry})


def _run_shapes(args: argparse.Namespace, report: dict) -> None:
    """The tables of the random models of ``--shapes``, into ``report``."""
    for shape_name in args.shapes:
        shape = SHAPES[shape_name]
        models = build_models(shape)
        settings = _chosen(default_settings(shape), args.settings)
        for length in args.lengths:
            for entry in _measure_beams(shape_name, models, settings, args, length):
                report["results"].append({"shape": shape_name, **entry})
        length = args.lengths[0]  # the batched tables: at the first length only
        if args.batch > 0:
            rows = measure_batched(
                models["gated"],
                shape,
                batch=args.batch,
                seconds=length.seconds,
                repeats=args.repeats,
            )
            add_batched_ratios(rows)
            print(
                f"\n## {shape_name}, encoder only, {args.batch} utterances of 2 "
                f"contexts, {length.seconds:g} s each\n{format_batched_table(rows)}"
            )
            report["batched"].append(
                {
                    "shape": shape_name,
                    "batch": args.batch,
                    "seconds": length.seconds,
                    "rows": rows,
                }
            )
        if args.batch_decode > 0:
            rows = measure_batch_decode(
                models,
                shape,
                batch=args.batch_decode,
                seconds=length.seconds,
                beam=args.beams[0],
                steps=length.steps,
                repeats=args.repeats,
            )
            print(
                f"\n## {shape_name}, decoding {args.batch_decode} utterances of 2 "
                f"contexts, {length}, beam {args.beams[0]}\n"
                f"{format_batch_decode_table(rows)}"
            )
            report["batch_decode"].append(
                {
                    "shape": shape_name,
                    "batch": args.batch_decode,
                    "seconds": length.seconds,
                    "steps": length.steps,
                    "beam": args.beams[0],
                    "rows": rows,
                }
            )


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=["owsm_base"],
        choices=SHAPES,
        help="random models of these OWSM shapes (tiny: for tests)",
    )
    parser.add_argument(
        "--beams", nargs="+", type=int, default=[5, 1], help="beam sizes (1: greedy)"
    )
    parser.add_argument(
        "--lengths",
        nargs="+",
        type=Length.parse,
        default=[Length(10.0, 40)],
        metavar="SECONDS:STEPS",
        help="audio seconds and decoding steps of each measurement; the batched "
        "tables use the first",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed rounds over every setting after one warm-up; the median is kept",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch threads",
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=None,
        help="only these settings (names as in the table; dense and stock always)",
    )
    parser.add_argument(
        "--batch", type=int, default=4, help="utterances of the encoder batch (0: skip)"
    )
    parser.add_argument(
        "--batch_decode",
        type=int,
        default=0,
        help="utterances decoded together in one beam search (0: skip; espnet "
        ">= 202611)",
    )
    parser.add_argument("--out", default=None, help="write all rows as JSON here")
    parser.add_argument(
        "--short",
        action="store_true",
        help="tiny shape (or the --model_dir model), 2 steps: checks the command",
    )
    parser.add_argument(
        "--model_dir",
        type=Path,
        default=None,
        help="a trained gated model (config.yaml): its contexts instead of --shapes",
    )
    parser.add_argument(
        "--model_file",
        default="valid.acc.ave.pth",
        help="weights in --model_dir",
    )
    parser.add_argument(
        "--wav",
        default=None,
        help="with --model_dir: decode this mono 16 kHz file (its length replaces "
        "the seconds of --lengths)",
    )
    args = parser.parse_args()
    if args.wav is not None and args.model_dir is None:
        parser.error("--wav needs --model_dir")
    if args.batch_decode > 0 and not supports_batch_decode():
        parser.error(
            "--batch_decode needs espnet 202611 or newer (multi-utterance beam search)"
        )
    if args.short:
        args.shapes, args.beams, args.lengths, args.repeats = (
            ["tiny"],
            [2],
            [Length(1.0, 2)],
            1,
        )
        args.batch = min(args.batch, 2)
        args.batch_decode = min(args.batch_decode, 2)
    logging.basicConfig(level=logging.WARNING)  # ESPnet's beam search logs at INFO
    # every decode reaches its fixed length on purpose: not worth a warning each
    logging.getLogger(BatchBeamSearch.__module__).setLevel(logging.ERROR)
    for name in (__name__, "espnet_dynprune.eval.benchmark"):  # progress lines
        logging.getLogger(name).setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    speech = None
    if args.wav is not None:
        try:
            speech = torch.from_numpy(read_mono_audio(args.wav, SAMPLE_RATE))[None]
        except AudioReadError as error:
            parser.exit(1, f"{parser.prog}: error: {error}\n")
        seconds = speech.size(1) / SAMPLE_RATE
        args.lengths = [Length(seconds, length.steps) for length in args.lengths]
    machine = (
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} "
        f"threads, torch {torch.__version__}"
    )
    report = {"machine": machine, "results": [], "batched": [], "batch_decode": []}
    print(f"# {machine}")
    if args.model_dir is None:
        _run_shapes(args, report)
    else:
        _run_trained(args, report, speech)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
