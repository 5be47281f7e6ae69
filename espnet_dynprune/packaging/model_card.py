"""Hugging Face Hub model card (``README.md``) of a packed gated model.

The card has the Hub's YAML front matter (``library_name: espnet``, languages,
tags, license) and, from the recipe's ``results.json`` (written by the scoring
stage, :mod:`espnet_dynprune.eval.report`), a quality table (WER / BLEU, dense
versus gated decoding) and a speed / sparsity table per (language, task).
"""

import re
from collections.abc import Mapping, Sequence
from typing import Optional

import yaml

from espnet_dynprune.eval.scoring import (
    DecodeScore,
    format_change,
    format_value,
    sparsity_cells,
)

__all__ = ["model_languages", "render_model_card", "select_results"]

_TEST_SET = re.compile(r"^test_(?P<lang>[a-z]{3})_(?P<task>asr|st_[a-z]{3})$")
_PIPELINE = {"asr": "automatic-speech-recognition", "st": "speech-translation"}


def select_results(
    results: dict[str, list[DecodeScore]], model_name: str
) -> tuple[list[DecodeScore], list[DecodeScore]]:
    """The gated (``predicted``) and dense scores of one model.

    Args:
        results: ``results.json`` of the recipe, ``decode dir name -> scores``,
            e.g. ``s2t_gated_dec0.5/decode_predicted``.
        model_name: the model's experiment directory name, e.g.
            ``s2t_gated_dec0.5``.

    Returns:
        ``(gated, dense)``; ``dense`` comes from the model's own
        ``decode_dense`` or, failing that, from any ``*/decode_dense`` (the
        recipe scores the dense baseline once, beside its first target).

    Raises:
        ValueError: ``results`` has no ``<model_name>/decode_predicted``.
    """
    gated_key = f"{model_name}/decode_predicted"
    if gated_key not in results:
        raise ValueError(
            f"results.json has no {gated_key!r} (it has {sorted(results)}); "
            "score this model first (recipe stage 7)"
        )
    dense_keys = [k for k in results if k.endswith("/decode_dense")]
    own = f"{model_name}/decode_dense"
    dense_key = own if own in results else (dense_keys[0] if dense_keys else None)
    return results[gated_key], results.get(dense_key, [])


def model_languages(scores: Sequence[DecodeScore]) -> list[str]:
    """Language codes of ``test_<lang>_<task>`` test sets, sorted."""
    matches = (_TEST_SET.match(s.test_set) for s in scores)
    return sorted({m.group("lang") for m in matches if m is not None})


def _quality_table(gated: list[DecodeScore], dense: dict[str, DecodeScore]) -> str:
    lines = [
        "| test set | metric | dense | gated |",
        "|---|---|---|---|",
    ]
    for s in gated:
        reference = dense.get(s.test_set)
        lines.append(
            f"| {s.test_set} | {s.metric} | "
            f"{format_value(reference.score if reference else None)} | {s.score:.1f} |"
        )
    return "\n".join(lines)


def _speed_table(gated: list[DecodeScore]) -> str:
    lines = [
        "| test set | enc sparsity | dec sparsity | FLOPs sparsity | "
        "dense decode s | gated decode s | time vs dense |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in gated:
        sparsity = sparsity_cells(s)
        lines.append(
            f"| {s.test_set} | {' | '.join(sparsity)} | "
            f"{format_value(s.dense_seconds)} | {s.seconds:.1f} | "
            f"{format_change(s.time_change())} |"
        )
    return "\n".join(lines)


def _front_matter(languages: list[str], tasks: list[str], license: str) -> str:
    data = {
        "library_name": "espnet",
        "license": license,
        "tags": [
            "espnet",
            "espnet_dynprune",
            "audio",
            *tasks,
            "dynamic-pruning",
        ],
        "pipeline_tag": "automatic-speech-recognition",
    }
    if languages:
        data["language"] = languages
    return "---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n"


def _made_with(releases: Optional[Mapping[str, str]]) -> str:
    """`` with espnet X and torch Y`` (empty when unknown)."""
    if not releases:
        return ""
    return " with " + " and ".join(f"{name} {v}" for name, v in releases.items())


def render_model_card(
    model_name: str,
    repo_id: str,
    license: str,
    version: str,
    results: Optional[dict[str, list[DecodeScore]]] = None,
    heatmaps: Sequence[str] = (),
    made_with: Optional[Mapping[str, str]] = None,
) -> str:
    """The ``README.md`` of a packed model.

    Args:
        model_name: experiment directory name, e.g. ``s2t_gated_dec0.5``.
        repo_id: Hub repository shown in the loading example.
        license: Hub license identifier, e.g. ``cc-by-4.0``.
        version: ``espnet_dynprune`` version that packed the model.
        results: the recipe's ``results.json`` (``None``: no tables).
        heatmaps: file names of gate heatmaps inside the package.
        made_with: releases the weights were saved with (``espnet``, ``torch``).

    Returns:
        The card's text.
    """
    gated, dense = select_results(results, model_name) if results else ([], [])
    by_set = {s.test_set: s for s in dense}
    tasks = sorted(
        {_PIPELINE["asr" if s.task == "asr" else "st"] for s in gated}
        or {_PIPELINE["asr"]}
    )
    examples = [m for m in (_TEST_SET.match(s.test_set) for s in gated) if m]
    lang, task = examples[0].groups() if examples else ("eng", "asr")
    lang_sym, task_sym = f"<{lang}>", f"<{task}>"
    parts = [
        _front_matter(model_languages(gated), tasks, license),
        f"# {model_name}: ESPnet S2T model with context-aware dynamic pruning",
        "",
        "An ESPnet 2 speech-to-text model (E-Branchformer encoder, Transformer "
        "decoder; ASR and speech translation) with a gate predictor that switches "
        "whole modules off for each (language, task): a closed module is not "
        "computed at all. Trained and packed with "
        f"[espnet_dynprune](https://pypi.org/project/espnet_dynprune/) {version}"
        + _made_with(made_with)
        + ". It loads under espnet 202511 and 202611 alike.",
        "",
        "## How to use",
        "",
        "ESPnet alone cannot build this model: it needs the `espnet_dynprune` "
        "plugin, which registers the gated encoder, decoder and model classes "
        "into ESPnet when imported.",
        "",
        "```bash",
        "pip install espnet_dynprune",
        "```",
        "",
        "```python",
        "import soundfile",
        "from espnet_dynprune import Speech2Text",
        "",
        "s2t = Speech2Text.from_pretrained(",
        f'    "{repo_id}", lang_sym="{lang_sym}", task_sym="{task_sym}", '
        'gate_mode="predicted"',
        ")",
        'speech, rate = soundfile.read("speech.wav")  # 16 kHz mono',
        "text, *_ = s2t(speech)[0]",
        "print(text, s2t.active_modules())  # which modules ran",
        "```",
        "",
        '`gate_mode="dense"` runs every module. `from_pretrained` also takes '
        "the packed `.zip` or a local copy of this repository.",
    ]
    if gated:
        parts += [
            "",
            "## Results",
            "",
            "WER (%) on ASR test sets, sacreBLEU on ST test sets, from the "
            "recipe's scoring stage (`results.json`); dense = every module runs, "
            "gated = the gate predictor decides.",
            "",
            _quality_table(gated, by_set),
            "",
            "## Speed and sparsity",
            "",
            "Sparsity = fraction of closed gates (FLOPs: fraction of the gateable "
            "FLOPs); decode s = total beam-search seconds over the test set, "
            "measured in the recipe run.",
            "",
            _speed_table(gated),
        ]
    if heatmaps:
        parts += ["", "## Gates", "", "Per test set, how often each module ran:"]
        parts += ["", *(f"![gates]({name})" for name in heatmaps)]
    parts += [
        "",
        "## Files",
        "",
        "ESPnet's packed-model layout (`meta.yaml`, `exp/*/config.yaml`, "
        "weights, BPE model and token list) plus `dynprune.yaml` (package "
        "format), `RESULTS.md`, `results.json` and the gate heatmap.",
    ]
    return "\n".join(parts) + "\n"
