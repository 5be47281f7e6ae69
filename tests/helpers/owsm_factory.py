"""Randomly initialised OWSM-shaped models, saved the way ESPnet saves them.

The layout is that of a packed model or Hub snapshot (``espnet/owsm_v3.1_ebf*``)::

    meta.yaml
    exp/s2t_train_owsm_raw_bpe{N}/config.yaml        # every option (trainer's)
    exp/s2t_train_owsm_raw_bpe{N}/valid.acc.ave.pth  # state dict
    exp/s2t_stats_raw_bpe{N}/train/feats_stats.npz   # global_mvn statistics
    data/token_list/bpe_unigram{N}/bpe.model

with the paths inside ``config.yaml`` relative to that root, as in OWSM.
Architectures come from ``conf/owsm_v3.1/{base,small,medium}.yaml`` with the stock
ESPnet classes (``e_branchformer``, ``transformer``, ``espnet``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import espnet
import numpy as np
import torch
import yaml
from espnet2.tasks.s2t import S2TTask

import espnet_dynprune  # noqa: F401  (registers the plugin classes)

__all__ = ["SavedModel", "owsm_stock_config", "save_espnet_model"]

CONF_DIR = Path(__file__).resolve().parents[2] / "conf" / "owsm_v3.1"
EXP_NAME = "s2t_train_owsm_raw_bpe{n}"
MODEL_FILE = "valid.acc.ave.pth"


@dataclass(frozen=True)
class SavedModel:
    """Paths of a saved model (``config`` and ``model_file`` relative to ``root``)."""

    root: Path
    config: str
    model_file: str
    bpe_model: str
    stats_file: str


def owsm_stock_config(size: str, **overrides: Any) -> dict[str, Any]:
    """The stock ESPnet config of an OWSM v3.1 size, from ``conf/owsm_v3.1``.

    Args:
        size: ``base``, ``small`` or ``medium``.
        **overrides: top-level keys to replace; ``encoder_conf`` and
            ``decoder_conf`` mappings are merged into the file's.
    """
    config = yaml.safe_load((CONF_DIR / f"{size}.yaml").read_text(encoding="utf-8"))
    config.update(encoder="e_branchformer", decoder="transformer", model="espnet")
    model_conf = dict(config["model_conf"])
    model_conf.pop("gate_predictor_conf")
    model_conf.pop("sparsity_conf")
    config["model_conf"] = model_conf
    for key in ("encoder_conf", "decoder_conf", "preprocessor_conf"):
        config[key] = {**config[key], **overrides.pop(key, {})}
    config.update(overrides)
    return config


def _stats(n_mels: int, seed: int) -> dict[str, np.ndarray]:
    """``feats_stats.npz`` content as ESPnet's collect-stats stage writes it."""
    rng = np.random.default_rng(seed)
    count = 1000.0
    mean = rng.normal(-5.0, 2.0, n_mels)
    var = rng.uniform(1.0, 4.0, n_mels)
    return {
        "count": np.array(count),
        "sum": mean * count,
        "sum_square": (var + mean**2) * count,
    }


def save_espnet_model(
    root: Path,
    config: dict[str, Any],
    token_list: Sequence[str],
    bpe_model: Path | None = None,
    seed: int = 0,
) -> SavedModel:
    """Build a model from ``config`` with random weights; save it like ESPnet.

    The full ``config.yaml`` comes from ESPnet's own argument parser (every
    option, ``token_list`` inline), as ``espnet2.bin.s2t_train`` writes it.

    Args:
        root: output root (created).
        config: a (partial) stock S2T training config.
        token_list: the token list.
        bpe_model: sentencepiece model to ship; ``None`` writes a placeholder
            (conversion copies it without reading it).
        seed: seed of the weights and statistics.
    """
    n = len(token_list)
    exp = Path("exp") / EXP_NAME.format(n=n)
    stats = Path("exp") / f"s2t_stats_raw_bpe{n}" / "train" / "feats_stats.npz"
    bpe = Path("data") / "token_list" / f"bpe_unigram{n}" / "bpe.model"
    for path in (exp, stats.parent, bpe.parent):
        (root / path).mkdir(parents=True, exist_ok=True)
    n_mels = (config.get("frontend_conf") or {}).get("n_mels", 80)
    np.savez(root / stats, **_stats(n_mels, seed))
    if bpe_model is None:
        (root / bpe).write_bytes(b"placeholder sentencepiece model " + bytes([seed]))
    else:
        (root / bpe).write_bytes(bpe_model.read_bytes())
    config = {
        **config,
        "normalize": "global_mvn",
        "normalize_conf": {"stats_file": str(stats)},
    }
    (root / exp / "train.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / exp / "tokens.txt").write_text("\n".join(token_list) + "\n")
    previous = Path.cwd()
    os.chdir(root)  # relative asset paths, as in a recipe directory
    try:
        args = S2TTask.get_parser().parse_args(
            [
                "--config",
                str(exp / "train.yaml"),
                "--token_list",
                str(exp / "tokens.txt"),
                "--bpemodel",
                str(bpe),
                "--token_type",
                "bpe",
                "--output_dir",
                str(exp),
            ]
        )
        torch.manual_seed(seed)
        model = S2TTask.build_model(args)  # replaces args.token_list by the list
    finally:
        os.chdir(previous)
    (root / exp / "train.yaml").unlink()
    (root / exp / "tokens.txt").unlink()
    config = {**vars(args), "version": espnet.__version__, "distributed": False}
    with open(root / exp / "config.yaml", "w", encoding="utf-8") as f:  # as main_worker
        yaml.safe_dump(config, f, indent=4, sort_keys=False)
    torch.save(model.state_dict(), root / exp / MODEL_FILE)
    meta = {
        "files": {"s2t_model_file": str(exp / MODEL_FILE)},
        "yaml_files": {"s2t_train_config": str(exp / "config.yaml")},
    }
    (root / "meta.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return SavedModel(
        root, str(exp / "config.yaml"), str(exp / MODEL_FILE), str(bpe), str(stats)
    )
