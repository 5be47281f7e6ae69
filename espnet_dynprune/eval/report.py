"""RESULTS.md, results.json and gate heatmaps from recipe scores.

RESULTS.md follows ESPnet's egs2 reports: an ``## Environments`` block (date,
versions, git hash, machine, decoding options), then per model (decode dir) a
WER table in sclite's columns and a BLEU table, followed by this project's
sparsity and speed columns, the averages and the plots.
"""

import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from espnet_dynprune import __version__  # noqa: E402
from espnet_dynprune.eval.scoring import (  # noqa: E402
    DecodeScore,
    format_change,
    format_value,
    sparsity_cells,
    summarize,
)
from espnet_dynprune.nets.gate_contract import DECODER_MODULES, ENCODER_MODULES  # noqa: E402

__all__ = [
    "ModelSummary",
    "plot_gate_heatmap",
    "open_rate_by_task",
    "plot_tradeoff",
    "summarize_model",
    "write_report",
]

_MODULES = {"encoder": ENCODER_MODULES, "decoder": DECODER_MODULES}


def _module_labels(part: str, count: int) -> tuple[str, ...]:
    """Names of a part's ``count`` gated modules per layer.

    An encoder without both FFNs (``use_ffn`` / ``macaron_ffn`` false) gates
    only self-attention and cgMLP; with one FFN the names are not recorded in
    the scores, so the modules are numbered.
    """
    names = _MODULES[part]
    if count == len(names):
        return names
    if part == "encoder" and count == 2:
        return ("self_attn", "cgmlp")
    return tuple(f"module{index}" for index in range(count))


def plot_gate_heatmap(scores: list[DecodeScore], title: str, path: Path) -> Path:
    """Per (language, task) test set: how often each layer's modules stay open."""
    parts = [p for p in ("encoder", "decoder") if any(p in s.open_rate for s in scores)]
    rows = [s for s in scores if s.open_rate]
    fig, axes = plt.subplots(
        1, len(parts), figsize=(6 * len(parts), 0.5 * len(rows) + 2), squeeze=False
    )
    for ax, part in zip(axes[0], parts, strict=True):
        rates = np.array([np.array(s.open_rate[part]).reshape(-1) for s in rows])
        image = ax.imshow(rates, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        modules = _module_labels(part, len(rows[0].open_rate[part][0]))
        layers = rates.shape[1] // len(modules)
        ax.set_xticks(range(rates.shape[1]))
        ax.set_xticklabels(
            [f"{layer}.{m}" for layer in range(layers) for m in modules],
            rotation=90,
            fontsize=7,
        )
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([s.test_set for s in rows])
        ax.set_title(f"{part}: fraction of utterances with the module open")
        fig.colorbar(image, ax=ax)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def open_rate_by_task(scores: list[DecodeScore]) -> list[str]:
    """Markdown tables: per gated part, each module's open rate by layer,
    averaged over the ASR test sets and over the ST test sets.

    The heatmap shows every set; these rows are what the paper's questions are
    about (which modules ASR and ST keep, and in which layers).
    """
    lines: list[str] = []
    for part in ("encoder", "decoder"):
        by_task = {
            task: [s.open_rate[part] for s in scores if part in s.open_rate and kind(s)]
            for task, kind in (
                ("ASR", lambda s: s.task == "asr"),
                ("ST", lambda s: s.task != "asr"),
            )
        }
        by_task = {task: rates for task, rates in by_task.items() if rates}
        if not by_task:
            continue
        layers, count = np.array(next(iter(by_task.values()))[0]).shape
        lines += [
            "",
            f"| {part} module | task | "
            + " | ".join(f"layer {n}" for n in range(layers))
            + " | mean |",
            "|---|---|" + "---|" * (layers + 1),
        ]
        for index, module in enumerate(_module_labels(part, count)):
            for task, rates in by_task.items():
                column = np.mean(rates, axis=0)[:, index]
                cells = " | ".join(f"{value:.2f}" for value in column)
                lines.append(f"| {module} | {task} | {cells} | {column.mean():.2f} |")
    return lines


def _git(*args: str) -> Optional[str]:
    """Output of a read-only git command in the working directory (the recipe's,
    as ESPnet's reports take it); None outside a git checkout or without git."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _environments(decode_options: dict[str, str]) -> list[str]:
    """ESPnet's ``## Environments`` block, plus this plugin's version, the
    machine and each model dir's decoding options, so a report can be traced to
    the code and settings that produced it."""
    now = datetime.now().astimezone().strftime("%a %b %d %H:%M:%S %Z %Y")
    python = sys.version.replace("\n", " ")
    lines = [
        "## Environments",
        f"- date: `{now}`",
        f"- python version: `{python}`",
        f"- espnet version: `espnet {version('espnet')}`",
        f"- pytorch version: `pytorch {torch.__version__}`",
        f"- espnet_dynprune version: `espnet_dynprune {__version__}`",
    ]
    commit = _git("rev-parse", "HEAD")
    if commit is not None:
        lines += [
            f"- Git hash: `{commit}`",
            f"  - Commit date: `{_git('log', '-1', '--format=%cd')}`",
        ]
    lines.append(
        f"- machine: `{platform.platform()}`, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch threads: {torch.get_num_threads()}"
    )
    lines += [
        f"- decoding options of {model_dir}: `{options}`"
        for model_dir, options in decode_options.items()
    ]
    return lines


def _percent(count: Optional[int], total: Optional[int]) -> str:
    """``count`` as a % of ``total`` with one decimal, as sclite prints it."""
    if count is None or not total:
        return "-"
    return format_value(100 * count / total)


def _wer_table(scores: list[DecodeScore]) -> list[str]:
    """ESPnet's WER table; Err is the WER (results.json files older than the
    counts have only that)."""
    lines = [
        "|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        words = [
            _percent(count, s.words)
            for count in (s.hits, s.substitutions, s.deletions, s.insertions)
        ]
        lines.append(
            f"|{s.test_set}|{s.utterances}|{format_value(s.words, 0)}|"
            f"{'|'.join(words)}|{s.score:.1f}|"
            f"{_percent(s.sentence_errors, s.utterances)}|"
        )
    return lines


def _bleu_table(scores: list[DecodeScore]) -> list[str]:
    """BLEU per ST set, then the sacreBLEU signature(s) of the table."""
    lines = ["|dataset|Snt|BLEU|", "|---|---|---|"]
    lines += [f"|{s.test_set}|{s.utterances}|{s.score:.1f}|" for s in scores]
    signatures = sorted({s.signature for s in scores if s.signature is not None})
    if signatures:
        lines += ["", "sacreBLEU signature: `" + "`, `".join(signatures) + "`"]
    return lines


def _speed_table(scores: list[DecodeScore]) -> list[str]:
    """Per set: its score beside the gate sparsity and the decoding time."""
    lines = [
        "| test set | metric | score | enc sparsity | dec sparsity "
        "| FLOPs sparsity | decode s | time vs dense |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        sparsity = sparsity_cells(s)
        lines.append(
            f"| {s.test_set} | {s.metric} | {s.score:.1f} | "
            f"{' | '.join(sparsity)} | {s.seconds:.1f} | "
            f"{format_change(s.time_change(), missing='')} |"
        )
    return lines


def _model_section(model: str, scores: list[DecodeScore]) -> list[str]:
    """One decode dir's WER, BLEU and sparsity / speed tables."""
    lines = ["", f"## {model}"]
    for metric, table in (("WER", _wer_table), ("BLEU", _bleu_table)):
        chosen = [s for s in scores if s.metric == metric]
        if chosen:
            lines += ["", f"### {metric}", ""] + table(chosen)
    return lines + ["", "### Sparsity and speed", ""] + _speed_table(scores)


@dataclass
class ModelSummary:
    """One model's averages over its test sets: a point of the trade-off curve."""

    wer: Optional[float]
    bleu: Optional[float]
    decoder_sparsity: Optional[float]
    flops_sparsity: Optional[float]
    seconds: float
    time_change: Optional[float]
    """Total decode time against the total of the sets' dense references: the
    median over the timing rounds of each round's ratio."""
    round_changes: list[float] = field(default_factory=list)
    """Each timing round's total time change (the spread of ``time_change``)."""


def summarize_model(scores: list[DecodeScore]) -> ModelSummary:
    """Averages of one model (sparsity: mean over sets; time: totals)."""
    wer, bleu = summarize(scores)

    def mean_sparsity(key: str) -> Optional[float]:
        values = [s.sparsity[key] for s in scores if key in s.sparsity]
        return float(np.mean(values)) if values else None

    seconds = sum(s.seconds for s in scores)
    timed = bool(scores) and all(s.dense_seconds for s in scores)
    changes = _round_changes(scores) if timed else []
    return ModelSummary(
        wer=wer,
        bleu=bleu,
        decoder_sparsity=mean_sparsity("decoder"),
        flops_sparsity=mean_sparsity("flops"),
        seconds=seconds,
        time_change=float(np.median(changes)) if changes else None,
        round_changes=changes,
    )


def _round_changes(scores: list[DecodeScore]) -> list[float]:
    """Per timing round: the model's total time over the sets against the dense
    reference's total in the same round (one round if the sets record none)."""
    rounds = [s.rounds or [s.seconds] for s in scores]
    dense = [s.dense_rounds or [s.dense_seconds] for s in scores]
    if len({len(r) for r in rounds + dense}) != 1:  # timed unevenly: totals only
        rounds, dense = (
            [[s.seconds] for s in scores],
            [[s.dense_seconds] for s in scores],
        )
    gated_totals = np.sum(rounds, axis=0)
    dense_totals = np.sum(dense, axis=0)
    return [float(g / d - 1) for g, d in zip(gated_totals, dense_totals, strict=True)]


def _summary_table(summaries: dict[str, ModelSummary]) -> list[str]:
    lines = [
        "| model | ASR WER | ST BLEU | dec sparsity | FLOPs sparsity | decode s "
        "| time vs dense | each run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, m in summaries.items():
        runs = ", ".join(format_change(c) for c in m.round_changes)
        lines.append(
            f"| {model} | {format_value(m.wer)} | {format_value(m.bleu)} "
            f"| {format_value(m.decoder_sparsity, 2)} "
            f"| {format_value(m.flops_sparsity, 2)} | {m.seconds:.1f} "
            f"| {format_change(m.time_change, missing='')} | {runs} |"
        )
    return lines


def plot_tradeoff(
    summaries: dict[str, ModelSummary], dense: ModelSummary, path: Path
) -> Path:
    """Quality lost and decoding time saved against decoder sparsity, per gated
    model (``summaries``: models with a measured decoder sparsity)."""
    points = sorted((m.decoder_sparsity, name, m) for name, m in summaries.items())
    x = [0.0] + [sparsity for sparsity, _, _ in points]
    fig, (quality, speed) = plt.subplots(1, 2, figsize=(10, 4))
    for value, label in (("wer", "ASR WER (+ is worse)"), ("bleu", "ST BLEU")):
        if getattr(dense, value) is not None:
            y = [0.0] + [getattr(m, value) - getattr(dense, value) for *_, m in points]
            quality.plot(x, y, marker="o", label=label)
    quality.axhline(0, color="gray", linewidth=0.5)
    quality.set(xlabel="decoder sparsity", ylabel="change against dense")
    quality.legend()
    timed = [point for point in points if point[2].time_change is not None]
    speed.plot(
        [0.0] + [sparsity for sparsity, _, _ in timed],
        [0.0] + [100 * m.time_change for *_, m in timed],
        marker="o",
        color="tab:green",
    )
    for sparsity, name, m in timed:
        speed.annotate(name.split("/")[0], (sparsity, 100 * m.time_change), fontsize=7)
    speed.set(xlabel="decoder sparsity", ylabel="decode time against dense (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(
    results: dict[str, list[DecodeScore]],
    out_dir: Path,
    dense: str,
    command: str,
    decode_options: Optional[dict[str, str]] = None,
) -> Path:
    """Write ``RESULTS.md``, ``results.json``, one heatmap per gated model and,
    for two or more gated models, the trade-off curve ``tradeoff.png``.

    Args:
        results: decode dir name -> its scores.
        out_dir: where the files go.
        dense: the name in ``results`` of the dense reference decoding.
        command: the command that wrote the report (shown in it).
        decode_options: model dir name -> the options its test sets were
            decoded with (shown under Environments; none: left out).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# RESULTS", ""] + _environments(decode_options or {})
    lines += [
        "",
        f"Written by `{command}`. WER tables in sclite's columns: Snt sentences,",
        "Wrd reference words; Corr, Sub, Del, Ins and Err (= WER) in % of the",
        "reference words; S.Err = % of sentences with any error; BLEU = sacreBLEU;",
        "both on normalised text (no special tokens or punctuation, lower case).",
        "sparsity = fraction of closed gates (FLOPs: fraction of gateable FLOPs);",
        "decode s = total beam-search seconds over the set, measured in this run",
        "(the median of the timing rounds when it decoded more than once);",
        "time vs dense = change of decode s against the dense reference's decoding",
        "of the same set (the recipe decodes it interleaved with each gated model,",
        "in the same processes; in Averages, the median over the rounds of each",
        "round's total change, and each run's change beside it);",
        f"quality is compared with {dense}.",
    ]
    for model, scores in results.items():
        lines += _model_section(model, scores)
    summaries = {model: summarize_model(scores) for model, scores in results.items()}
    lines += ["", "## Averages", ""] + _summary_table(summaries)
    gated = {
        model: summary
        for model, summary in summaries.items()
        if summary.decoder_sparsity is not None
    }
    if len(gated) > 1 and dense in summaries:
        png = plot_tradeoff(gated, summaries[dense], out_dir / "tradeoff.png")
        lines += [
            "",
            "## Trade-off",
            "",
            f"![quality and decoding time against sparsity]({png.name})",
        ]
    for model, scores in results.items():
        if any(s.open_rate for s in scores):
            name = f"gates_{model.replace('/', '_')}.png"
            png = plot_gate_heatmap(scores, model, out_dir / name)
            lines += [
                "",
                f"## Gates of {model}",
                "",
                f"![gates of {model}]({png.name})",
                "",
                "Open rate (fraction of utterances that ran the module), averaged "
                "over the ASR and over the ST test sets:",
            ] + open_rate_by_task(scores)
    (out_dir / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    payload = {m: [asdict(s) for s in scores] for m, scores in results.items()}
    (out_dir / "results.json").write_text(json.dumps(payload, indent=2))
    return out_dir / "RESULTS.md"
