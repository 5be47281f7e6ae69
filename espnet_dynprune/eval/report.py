"""RESULTS.md, results.json and gate heatmaps from recipe scores."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from espnet_dynprune.eval.scoring import (  # noqa: E402
    DecodeScore,
    format_change,
    format_value,
    summarize,
)
from espnet_dynprune.nets.gate_contract import DECODER_MODULES, ENCODER_MODULES  # noqa: E402

__all__ = [
    "ModelSummary",
    "plot_gate_heatmap",
    "plot_tradeoff",
    "summarize_model",
    "write_report",
]

_MODULES = {"encoder": ENCODER_MODULES, "decoder": DECODER_MODULES}


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
        modules = _MODULES[part]
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


def _table(results: dict[str, list[DecodeScore]]) -> list[str]:
    lines = [
        "| model | test set | metric | score | enc sparsity | dec sparsity "
        "| FLOPs sparsity | decode s | time vs dense |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model, scores in results.items():
        for s in scores:
            sparsity = [
                format_value(s.sparsity.get(k), 2)
                for k in ("encoder", "decoder", "flops")
            ]
            lines.append(
                f"| {model} | {s.test_set} | {s.metric} | {s.score:.1f} | "
                f"{' | '.join(sparsity)} | {s.seconds:.1f} | "
                f"{format_change(s.time_change(), missing='')} |"
            )
    return lines


@dataclass
class ModelSummary:
    """One model's averages over its test sets: a point of the trade-off curve."""

    wer: Optional[float]
    bleu: Optional[float]
    decoder_sparsity: Optional[float]
    flops_sparsity: Optional[float]
    seconds: float
    time_change: Optional[float]
    """Total decode time against the total of the sets' dense references."""


def summarize_model(scores: list[DecodeScore]) -> ModelSummary:
    """Averages of one model (sparsity: mean over sets; time: totals)."""
    wer, bleu = summarize(scores)

    def mean_sparsity(key: str) -> Optional[float]:
        values = [s.sparsity[key] for s in scores if key in s.sparsity]
        return float(np.mean(values)) if values else None

    seconds = sum(s.seconds for s in scores)
    dense = [s.dense_seconds for s in scores]
    timed = bool(scores) and all(dense)
    return ModelSummary(
        wer=wer,
        bleu=bleu,
        decoder_sparsity=mean_sparsity("decoder"),
        flops_sparsity=mean_sparsity("flops"),
        seconds=seconds,
        time_change=seconds / sum(dense) - 1 if timed else None,
    )


def _summary_table(summaries: dict[str, ModelSummary]) -> list[str]:
    lines = [
        "| model | ASR WER | ST BLEU | dec sparsity | FLOPs sparsity | decode s "
        "| time vs dense |",
        "|---|---|---|---|---|---|---|",
    ]
    for model, m in summaries.items():
        lines.append(
            f"| {model} | {format_value(m.wer)} | {format_value(m.bleu)} "
            f"| {format_value(m.decoder_sparsity, 2)} "
            f"| {format_value(m.flops_sparsity, 2)} | {m.seconds:.1f} "
            f"| {format_change(m.time_change, missing='')} |"
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
    results: dict[str, list[DecodeScore]], out_dir: Path, dense: str, command: str
) -> Path:
    """Write ``RESULTS.md``, ``results.json``, one heatmap per gated model and,
    for two or more gated models, the trade-off curve ``tradeoff.png``.

    Args:
        results: decode dir name -> its scores.
        out_dir: where the files go.
        dense: the name in ``results`` of the dense reference decoding.
        command: the command that wrote the report (shown in it).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# RESULTS",
        "",
        f"Written by `{command}`. WER (%) on ASR test sets, sacreBLEU on ST sets;",
        "sparsity = fraction of closed gates (FLOPs: fraction of gateable FLOPs);",
        "decode s = total beam-search seconds over the set, measured in this run;",
        "time vs dense = change of decode s against the dense reference's decoding",
        "of the same set (the recipe decodes it interleaved with each gated model,",
        f"in the same processes; quality is compared with {dense}).",
        "",
    ]
    lines += _table(results)
    summaries = {model: summarize_model(scores) for model, scores in results.items()}
    lines += ["", "## Averages", ""] + _summary_table(summaries)
    signatures = {s.signature for scores in results.values() for s in scores}
    signatures.discard(None)
    if signatures:
        lines += ["", "sacreBLEU signature: `" + "`, `".join(sorted(signatures)) + "`"]
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
            ]
    (out_dir / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    payload = {m: [asdict(s) for s in scores] for m, scores in results.items()}
    (out_dir / "results.json").write_text(json.dumps(payload, indent=2))
    return out_dir / "RESULTS.md"
