"""Pack a trained gated model in ESPnet's packed-model format, and read it back.

A package is the ``.zip`` that ESPnet's ``espnet2.main_funcs.pack_funcs.pack``
writes; its directory form (the same files unzipped) is what goes to the
Hugging Face Hub. Layout, every path relative to the package root::

    meta.yaml                    ESPnet's: files, yaml_files, torch / espnet versions
    dynprune.yaml                this package's format (FORMAT_VERSION, version, gates)
    README.md                    Hub model card (espnet_dynprune.packaging.model_card)
    RESULTS.md, results.json     the recipe's scores (scoring stage)
    gates_<model>_*.png          the recipe's gate heatmap
    exp/<model>/config.yaml      training config; its asset paths are package paths
    exp/<model>/<weights>.pth
    exp/<model>/feats_stats.npz  only for global_mvn
    data/token_list/bpe.model, data/token_list/tokens.txt

Reading checks ``dynprune.yaml`` first, so a package written by a newer,
incompatible ``espnet_dynprune`` fails with a message saying so, and rewrites
the config's package paths into absolute ones in a separate directory (the
package itself, e.g. a Hub cache snapshot, is never modified).
"""

import contextlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional, Union

import torch
import yaml
from espnet2.main_funcs.pack_funcs import pack

from espnet_dynprune import __version__
from espnet_dynprune.compat.espnet_release import ESPNET_VERSION
from espnet_dynprune.eval.scoring import DecodeScore
from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.io.package import FORMAT_VERSION, SIDECAR, read_yaml_mapping
from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.packaging.model_card import render_model_card, select_results

__all__ = ["pack_model"]

logger = logging.getLogger(__name__)


TOKEN_DIR = "data/token_list"


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """ESPnet's ``pack`` stores paths relative to the working directory."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _place(source: Path, staging: Path, name: str) -> str:
    """Hard-link (else copy) ``source`` to ``staging/name``; return ``name``."""
    target = staging / name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source.resolve(), target)
    except OSError:  # other file system, or no hard links
        shutil.copy2(source, target)
    return name


def _asset(config: Path, key: str, value: str, base_dir: Path) -> Path:
    path = Path(value) if Path(value).is_absolute() else base_dir / value
    if not path.is_file():
        raise FileNotFoundError(
            f"{config}: {key}: {path} not found (relative paths are read from "
            f"{base_dir}, the recipe directory)"
        )
    return path


def _stage_config(
    config: Path,
    conf: dict[str, Any],
    model_dir: str,
    staging: Path,
    token_list: Optional[Path],
    base: Path,
) -> tuple[str, list[str]]:
    """Config with package asset paths; returns its name and the asset names."""
    assets = []
    if conf.get("bpemodel"):
        bpe = _asset(config, "bpemodel", conf["bpemodel"], base)
        conf["bpemodel"] = _place(bpe, staging, f"{TOKEN_DIR}/bpe.model")
        assets.append(conf["bpemodel"])
        if token_list is None and (bpe.parent / "tokens.txt").is_file():
            token_list = bpe.parent / "tokens.txt"
    if isinstance(conf.get("token_list"), str):
        token_list = _asset(config, "token_list", conf["token_list"], base)
        conf["token_list"] = f"{TOKEN_DIR}/tokens.txt"
    if token_list is not None:
        assets.append(_place(token_list, staging, f"{TOKEN_DIR}/tokens.txt"))
    normalize_conf = conf.get("normalize_conf") or {}
    if normalize_conf.get("stats_file"):
        stats_file = normalize_conf["stats_file"]
        stats = _asset(config, "normalize_conf.stats_file", stats_file, base)
        normalize_conf["stats_file"] = _place(
            stats, staging, f"{model_dir}/feats_stats.npz"
        )
        assets.append(normalize_conf["stats_file"])
    # The distillation teacher is a training-time file of this machine, not part of
    # the model: a package names none (fine-tuning it sets its own).
    (conf.get("model_conf") or {}).pop("distill_conf", None)
    name = f"{model_dir}/config.yaml"
    (staging / model_dir).mkdir(parents=True, exist_ok=True)
    with open(staging / name, "w", encoding="utf-8") as f:
        yaml.safe_dump(conf, f, allow_unicode=True, sort_keys=False)
    return name, assets


def _read_results(path: Path) -> dict[str, list[DecodeScore]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return {k: [DecodeScore(**s) for s in v] for k, v in data.items()}
    except (AttributeError, TypeError) as error:
        raise ValueError(f"{path}: not a results.json of the scoring stage") from error


def _stage_report(
    report_dir: Path, model_name: str, staging: Path
) -> tuple[dict[str, list[DecodeScore]], list[str]]:
    """Copy RESULTS.md, results.json and the model's heatmaps; return scores."""
    for name in ("RESULTS.md", "results.json"):
        if not (report_dir / name).is_file():
            raise FileNotFoundError(
                f"{report_dir / name} not found: run the scoring stage first"
            )
        _place(report_dir / name, staging, name)
    results = _read_results(report_dir / "results.json")
    try:
        select_results(results, model_name)
    except ValueError as error:  # the model was not scored: fail before packing
        raise ValueError(f"{report_dir / 'results.json'}: {error}") from error
    heatmaps = sorted(p.name for p in report_dir.glob(f"gates_{model_name}_*.png"))
    for name in heatmaps:
        _place(report_dir / name, staging, name)
    return results, heatmaps


def pack_model(
    config: Union[str, Path],
    model_file: Union[str, Path],
    out: Union[str, Path],
    report_dir: Optional[Union[str, Path]] = None,
    token_list: Optional[Union[str, Path]] = None,
    repo_id: Optional[str] = None,
    license: str = "cc-by-4.0",
    dense_only: bool = False,
    out_dir: Optional[Union[str, Path]] = None,
    base_dir: Optional[Union[str, Path]] = None,
) -> Path:
    """Write a package (see the module doc) of a trained gated model.

    Args:
        config: the training ``exp/<model>/config.yaml`` (``model: dynprune``).
        model_file: its weights, e.g. ``exp/<model>/valid.acc.ave.pth``.
        out: the ``.zip`` (or ``.tar.gz``) to write.
        report_dir: where the scoring stage wrote ``RESULTS.md``,
            ``results.json`` and ``gates_<model>_*.png`` (``None``: no results).
        token_list: ``tokens.txt``; default: next to the config's ``bpemodel``.
        repo_id: Hub repository named in the model card's loading example.
        license: Hub license identifier of the model card.
        dense_only: allow weights without the gate predictor (for
            ``gate_mode="dense"`` only).
        out_dir: also unzip the package here (the form that is uploaded).
        base_dir: directory that relative paths in the config refer to
            (default: the working directory, as in ESPnet recipes).

    Returns:
        ``out``.

    Raises:
        ValueError: not a gated config, or no ``gating.*`` weights without
            ``dense_only``.
        FileNotFoundError: a file named by the arguments or the config is missing.
    """
    config, model_file, out = Path(config), Path(model_file), Path(out)
    token_list = None if token_list is None else Path(token_list)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    conf = read_yaml_mapping(config)
    if conf.get("model") != "dynprune":
        raise ValueError(
            f"{config}: model is {conf.get('model')!r}, not 'dynprune': only gated "
            "models are packed here (ESPnet's own pack handles stock models)"
        )
    state = load_state_dict_safely(model_file)
    gate_weights = any(k.startswith(GATE_PREFIX) for k in state)
    if not gate_weights and not dense_only:
        raise ValueError(
            f"{model_file}: no gate predictor weights ('{GATE_PREFIX}*'); train "
            "the gates first, or pack for dense decoding only (dense_only)"
        )
    del state
    model_name = config.resolve().parent.name
    model_dir = f"exp/{model_name}"
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".pack_") as tmp:
        staging = Path(tmp)
        config_name, assets = _stage_config(
            config, conf, model_dir, staging, token_list, base
        )
        weights = _place(model_file, staging, f"{model_dir}/{model_file.name}")
        results, heatmaps = (None, [])
        if report_dir is not None:
            results, heatmaps = _stage_report(Path(report_dir), model_name, staging)
        made_with = {"espnet": ESPNET_VERSION, "torch": str(torch.__version__)}
        sidecar = {
            "format_version": FORMAT_VERSION,
            "espnet_dynprune_version": __version__,
            "gate_weights": gate_weights,
            "made_with": made_with,
        }
        (staging / SIDECAR).write_text(yaml.safe_dump(sidecar), encoding="utf-8")
        card = render_model_card(
            model_name,
            repo_id or f"<owner>/{model_name}",
            license,
            __version__,
            results,
            heatmaps,
            made_with,
        )
        (staging / "README.md").write_text(card, encoding="utf-8")
        report = [n for n in ("RESULTS.md", "results.json") if (staging / n).exists()]
        with _working_directory(staging):
            pack(
                files={"s2t_model_file": weights},
                yaml_files={"s2t_train_config": config_name},
                outpath=out,
                option=[SIDECAR, "README.md", *report, *heatmaps, *assets],
            )
    if out_dir is not None:
        with zipfile.ZipFile(out) as archive:
            archive.extractall(out_dir)
    logger.info("packed %s (%d bytes)", out, out.stat().st_size)
    return out
