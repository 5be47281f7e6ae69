"""Locate a pretrained ESPnet S2T model and carry its assets into a directory.

A source is one of:

* a Hugging Face Hub repository id such as ``espnet/owsm_v3.1_ebf``, a packed
  model (the ``.zip`` that ``espnet2.bin.pack`` writes) or a directory holding
  ``meta.yaml``: found by :func:`espnet_dynprune.io.locate.locate_package`, the same
  way as gated packages (``HF_HUB_OFFLINE=1`` takes Hub ids from the cache);
* a training ``config.yaml`` with its ``.pth`` weights.

Packed models and Hub snapshots name their files in ``meta.yaml``
(``files.s2t_model_file``, ``yaml_files.s2t_train_config``) relative to their
root, and so do the paths inside the config (``bpemodel``,
``normalize_conf.stats_file``). :func:`localize_assets` copies the token list,
the BPE model and the normalisation statistics next to the converted model and
rewrites those paths, so the result no longer depends on where the source was.
"""

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from espnet_dynprune.io.locate import is_archive, locate_package
from espnet_dynprune.io.package import read_yaml_mapping

__all__ = [
    "RUN_KEYS",
    "SourceModel",
    "localize_assets",
    "resolve_source",
]

logger = logging.getLogger(__name__)

TOKENS_FILE = "tokens.txt"
BPE_FILE = "bpe.model"
STATS_FILE = "feats_stats.npz"
# Keys of ESPnet's config.yaml that describe the source's own training run, or
# that the trainer adds without being options (required, version, distributed: a
# config holding them is refused by the parser). Run keys would leak into a new
# run: the *_data_path_and_name_and_type options append to the config's list, so
# the source's data would be trained on too.
RUN_KEYS = (
    "required",
    "version",
    "distributed",
    "config",
    "output_dir",
    "train_data_path_and_name_and_type",
    "valid_data_path_and_name_and_type",
    "train_shape_file",
    "valid_shape_file",
    "init_param",
    "freeze_param",
    "resume",
    "ngpu",
    "dist_world_size",
    "dist_rank",
    "local_rank",
    "dist_master_addr",
    "dist_master_port",
    "dist_launcher",
    "multiprocessing_distributed",
)


@dataclass(frozen=True)
class SourceModel:
    """A stock ESPnet S2T model on disk.

    Attributes:
        config: the training ``config.yaml``.
        model_file: the ``.pth`` weights.
        roots: directories that relative paths inside the config refer to,
            tried in order.
    """

    config: Path
    model_file: Path
    roots: list[Path]


def _from_meta(root: Path) -> SourceModel:
    """The S2T config and weights named by ``root/meta.yaml``."""
    meta = read_yaml_mapping(root / "meta.yaml")
    try:
        model_file = meta["files"]["s2t_model_file"]
        config = meta["yaml_files"]["s2t_train_config"]
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{root / 'meta.yaml'}: no files.s2t_model_file / "
            f"yaml_files.s2t_train_config (not an S2T model): {error}"
        ) from error
    return SourceModel(root / config, root / model_file, [root])


def resolve_source(
    source: Union[str, Path],
    model_file: Optional[Union[str, Path]] = None,
    revision: Optional[str] = None,
) -> SourceModel:
    """Find the config and weights of a source model (see the module doc).

    Args:
        source: Hub id, ``.zip``, directory with ``meta.yaml``, or ``config.yaml``.
        model_file: the weights, needed (only) when ``source`` is a config.
        revision: Hub revision (branch, tag or commit).
    Raises:
        ValueError: the source cannot be recognised or a named file is missing.
    """
    path = Path(source)
    if path.is_file() and not is_archive(path):
        if model_file is None:
            raise ValueError(f"{path}: a config.yaml source needs --model_file")
        # exp/<name>/config.yaml names its assets relative to the recipe root.
        roots = [Path.cwd(), path.parent, *path.resolve().parents[:3]]
        found = SourceModel(path, Path(model_file), roots)
    else:
        try:
            root = locate_package(source, revision)  # directory, archive or Hub id
        except FileNotFoundError as error:
            raise ValueError(str(error)) from error
        if not (root / "meta.yaml").is_file():
            raise ValueError(f"{root}: directory without meta.yaml")
        found = _from_meta(root)
    for name in (found.config, found.model_file):
        if not name.is_file():
            raise ValueError(f"{source}: missing {name}")
    logger.info("source model: %s, %s", found.config, found.model_file)
    return found


def _find(value: str, key: str, source: SourceModel) -> Path:
    """An asset path from the config, absolute or relative to a source root."""
    path = Path(value)
    candidates = [path] if path.is_absolute() else [r / path for r in source.roots]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ValueError(
        f"{source.config}: {key}: {value} not found (looked in "
        f"{', '.join(str(c) for c in candidates)})"
    )


def localize_assets(
    config: dict[str, Any], source: SourceModel, out_dir: Path
) -> dict[str, Any]:
    """Copy token list, BPE model and stats into ``out_dir``; rewrite the config.

    Returns:
        A copy of ``config`` whose ``token_list``, ``bpemodel`` and
        ``normalize_conf.stats_file`` name the copies (absolute paths), without
        the keys of the source's own training run (:data:`RUN_KEYS`).
    Raises:
        ValueError: the config has no token list or names a missing file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in config.items() if k not in RUN_KEYS}
    tokens = config.get("token_list")
    if isinstance(tokens, str):
        tokens = _find(tokens, "token_list", source).read_text(encoding="utf-8")
        tokens = [line.strip() for line in tokens.splitlines() if line.strip()]
    if not tokens:
        raise ValueError(f"{source.config}: token_list is missing or empty")
    (out_dir / TOKENS_FILE).write_text("\n".join(tokens) + "\n", encoding="utf-8")
    config["token_list"] = str((out_dir / TOKENS_FILE).resolve())
    if config.get("bpemodel"):
        bpe = _find(config["bpemodel"], "bpemodel", source)
        shutil.copyfile(bpe, out_dir / BPE_FILE)
        config["bpemodel"] = str((out_dir / BPE_FILE).resolve())
    normalize_conf = dict(config.get("normalize_conf") or {})
    if normalize_conf.get("stats_file"):
        shutil.copyfile(
            _find(normalize_conf["stats_file"], "normalize_conf.stats_file", source),
            out_dir / STATS_FILE,
        )
        normalize_conf["stats_file"] = str((out_dir / STATS_FILE).resolve())
        config["normalize_conf"] = normalize_conf
    return config
