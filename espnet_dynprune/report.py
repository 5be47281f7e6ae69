"""RESULTS.md, results.json and gate heatmaps from recipe scores."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from espnet_dynprune.gates import DECODER_MODULES, ENCODER_MODULES  # noqa: E402
from espnet_dynprune.scoring import DecodeScore, summarize  # noqa: E402

__all__ = ["plot_gate_heatmap", "write_report"]

_MODULES = {"encoder": ENCODER_MODULES, "decoder": DECODER_MODULES}


def plot_gate_heatmap(scores: List[DecodeScore], title: str, path: Path) -> Path:
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


def _table(results: Dict[str, List[DecodeScore]], dense: str) -> List[str]:
    lines = [
        "| model | test set | metric | score | enc sparsity | dec sparsity "
        "| FLOPs sparsity | decode s | time vs dense |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    reference = {s.test_set: s.seconds for s in results.get(dense, [])}
    for model, scores in results.items():
        for s in scores:
            ratio = (
                f"{100 * (s.seconds / reference[s.test_set] - 1):+.1f}%"
                if s.test_set in reference and model != dense
                else ""
            )
            sparsity = [
                f"{s.sparsity[k]:.2f}" if k in s.sparsity else "-"
                for k in ("encoder", "decoder", "flops")
            ]
            lines.append(
                f"| {model} | {s.test_set} | {s.metric} | {s.score:.1f} | "
                f"{' | '.join(sparsity)} | {s.seconds:.1f} | {ratio} |"
            )
    return lines


def write_report(
    results: Dict[str, List[DecodeScore]], out_dir: Path, dense: str, command: str
) -> Path:
    """Write ``RESULTS.md``, ``results.json`` and one heatmap per gated model."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# RESULTS",
        "",
        f"Written by `{command}`. WER (%) on ASR test sets, sacreBLEU on ST sets;",
        "sparsity = fraction of closed gates (FLOPs: fraction of gateable FLOPs);",
        "decode s = total beam-search seconds over the set, measured in this run;",
        f"time vs dense = change of decode s against {dense} on the same set.",
        "",
    ]
    lines += _table(results, dense)
    lines += ["", "## Averages", "", "| model | ASR WER | ST BLEU |", "|---|---|---|"]
    for model, scores in results.items():
        wer, bleu = summarize(scores)
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        lines.append(f"| {model} | {fmt(wer)} | {fmt(bleu)} |")
    signatures = {s.signature for scores in results.values() for s in scores}
    signatures.discard(None)
    if signatures:
        lines += ["", "sacreBLEU signature: `" + "`, `".join(sorted(signatures)) + "`"]
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
