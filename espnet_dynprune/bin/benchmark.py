"""Decoding speed of pruned vs dense vs stock ESPnet, measured side by side.

Usage:
    python -m espnet_dynprune.bin.benchmark          # owsm_base, beam 5 and greedy
    python -m espnet_dynprune.bin.benchmark --shapes owsm_base owsm_small \
        --out bench.json
    python -m espnet_dynprune.bin.benchmark --short  # seconds: checks the command
    python -m espnet_dynprune.bin.benchmark --model_dir exp/s2t_gated_dec0.5 \
        --wav speech.wav --beams 5

For every model shape and beam size it prints one table: median wall time of
decoding one utterance (after a warm-up), FLOPs counted by
``torch.utils.flop_counter``, and the reductions against ``dense`` (the gated
model with every gate open, with the source-attention cache: the pruning
saving) and against ``stock`` (ESPnet's own model: cache and pruning together).
``quotient`` is time reduction / FLOPs reduction against ``dense``: the share of
the FLOPs saving that turns into time saving. The ``int8`` rows decode with
ESPnet's dynamic int8 quantization of the gated model's ``Linear`` layers
(``quantize_s2t_model``); torch's FLOP counter does not see quantized kernels,
so their FLOPs and export weights are ``-``. ``weights MB`` is what a
per-context export with that mask keeps (backbone without ``gating.*``, less the
removed modules); ``peak MB`` the most tensor memory the decode allocated at
once on top of the weights (``torch.profiler`` memory events, operator
granularity). All ratios come from one run.

Then, with ``--batch N`` (default 4, 0 to skip), one encoder table per shape:
N utterances of two contexts (alternating, each with its own 50% encoder mask)
encoded one at a time, batched dense, grouped by mask, or mixed in one batch
(modules run on their open rows only); ``time-% dense`` compares with the dense
model under the same batching. Only the encoder is batched: ESPnet's beam
search decodes one utterance at a time.

With ``--batch_decode N`` (espnet 202611 and newer), one throughput table per
shape: N utterances of two contexts (alternating, each with its own joint 50%
mask) decoded whole (encoder and ``--beams[0]`` beam search over ``--steps``)
one at a time or together in one multi-utterance beam search, dense and pruned;
``utt/s`` is utterances per second and ``same hyps`` says whether the batch gave
the one-at-a-time hypotheses.

With ``--model_dir`` (a trained gated model: ``config.yaml`` and
``--model_file``) the table compares, on that model's weights, ``stock``,
``dense`` and ``predicted <lang>/<task>``: the gates its (context-only)
predictor gives each (language, task) of its context vocabulary. The audio is
``--seconds`` of random noise or ``--wav``; there is no batched table.
"""

import argparse
import json
import logging
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import torch

import espnet_dynprune  # noqa: F401  (registers the plugin classes)
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

_MB = 1e6


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
        f"{'quot.':>7}{'time-% stock':>14}{'weights MB':>12}{'peak MB':>9}"
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
            f"{_cell(r['weight_bytes'], _MB, '.1f'):>12}{r['peak_bytes'] / _MB:>9.1f}"
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
        f"{'same hyps':>11}"
    )
    lines = [header, "-" * len(header)]
    by_name = {row["setting"]: row for row in rows}
    for r in rows:
        single = by_name[r["setting"].replace("batch decode", "1 at a time")]
        lines.append(
            f"{r['setting']:<26}{r['time_s']:>9.3f}{r['utterances_per_s']:>8.2f}"
            f"{single['time_s'] / r['time_s']:>15.2f}"
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
    speech: Optional[torch.Tensor] = None,
) -> list[dict]:
    """Measure and print one table per beam size; the report entries."""
    entries = []
    for beam in args.beams:
        rows = measure(
            models,
            settings,
            seconds=args.seconds,
            beam=beam,
            steps=args.steps,
            repeats=args.repeats,
            progress=lambda r: logging.info("  %s: %.3f s", r["setting"], r["time_s"]),
            speech=speech,
        )
        add_ratios(rows)
        print(f"\n## {label}, beam {beam} (1 = greedy)\n{format_table(rows)}")
        entries.append({"beam": beam, "rows": rows})
    return entries


def _run_trained(
    args: argparse.Namespace, report: dict, speech: Optional[torch.Tensor]
) -> None:
    """The tables of the trained model of ``--model_dir``, into ``report``."""
    models, settings = load_trained(
        args.model_dir / "config.yaml", args.model_dir / args.model_file
    )
    label = str(args.model_dir)
    for entry in _measure_beams(
        label, models, _chosen(settings, args.settings), args, speech
    ):
        report["results"].append({"model_dir": label, **entry})


def _run_shapes(args: argparse.Namespace, report: dict) -> None:
    """The tables of the random models of ``--shapes``, into ``report``."""
    for shape_name in args.shapes:
        shape = SHAPES[shape_name]
        models = build_models(shape)
        settings = _chosen(default_settings(shape), args.settings)
        for entry in _measure_beams(shape_name, models, settings, args):
            report["results"].append({"shape": shape_name, **entry})
        if args.batch > 0:
            rows = measure_batched(
                models["gated"],
                shape,
                batch=args.batch,
                seconds=args.seconds,
                repeats=args.repeats,
            )
            add_batched_ratios(rows)
            print(
                f"\n## {shape_name}, encoder only, {args.batch} utterances of 2 "
                f"contexts\n{format_batched_table(rows)}"
            )
            report["batched"].append(
                {"shape": shape_name, "batch": args.batch, "rows": rows}
            )
        if args.batch_decode > 0:
            rows = measure_batch_decode(
                models["gated"],
                shape,
                batch=args.batch_decode,
                seconds=args.seconds,
                beam=args.beams[0],
                steps=args.steps,
                repeats=args.repeats,
            )
            print(
                f"\n## {shape_name}, decoding {args.batch_decode} utterances of 2 "
                f"contexts, beam {args.beams[0]}\n{format_batch_decode_table(rows)}"
            )
            report["batch_decode"].append(
                {
                    "shape": shape_name,
                    "batch": args.batch_decode,
                    "beam": args.beams[0],
                    "rows": rows,
                }
            )


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", nargs="+", default=["owsm_base"], choices=SHAPES)
    parser.add_argument("--beams", nargs="+", type=int, default=[5, 1])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length")
    parser.add_argument("--steps", type=int, default=20, help="decoding steps")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
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
        "--wav", default=None, help="with --model_dir: decode this mono 16 kHz file"
    )
    args = parser.parse_args()
    if args.wav is not None and args.model_dir is None:
        parser.error("--wav needs --model_dir")
    if args.batch_decode > 0 and not supports_batch_decode():
        parser.error(
            "--batch_decode needs espnet 202611 or newer (multi-utterance beam search)"
        )
    if args.short:
        args.shapes, args.beams, args.seconds, args.steps, args.repeats = (
            ["tiny"],
            [2],
            1.0,
            2,
            1,
        )
        args.batch = min(args.batch, 2)
        args.batch_decode = min(args.batch_decode, 2)
    logging.basicConfig(level=logging.WARNING)  # ESPnet's beam search logs at INFO
    # every decode reaches its fixed length on purpose: not worth a warning each
    logging.getLogger(BatchBeamSearch.__module__).setLevel(logging.ERROR)
    progress = logging.getLogger("espnet_dynprune.eval.benchmark")
    progress.setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    speech = None
    if args.wav is not None:
        try:
            speech = torch.from_numpy(read_mono_audio(args.wav, SAMPLE_RATE))[None]
        except AudioReadError as error:
            parser.exit(1, f"{parser.prog}: error: {error}\n")
        args.seconds = speech.size(1) / SAMPLE_RATE
    machine = (
        f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} "
        f"threads, torch {torch.__version__}"
    )
    report = {
        "machine": machine,
        "audio_seconds": args.seconds,
        "steps": args.steps,
        "results": [],
        "batched": [],
        "batch_decode": [],
    }
    print(f"# {machine}; {args.seconds:g} s audio, {args.steps} decoding steps")
    if args.model_dir is None:
        _run_shapes(args, report)
    else:
        _run_trained(args, report, speech)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
