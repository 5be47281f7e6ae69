"""Reading a packed gated model: ``meta.yaml``, ``dynprune.yaml`` and its config.

A package is the ``.zip`` that ESPnet's ``espnet2.main_funcs.pack_funcs.pack``
writes (see :mod:`espnet_dynprune.packaging.pack` for its layout), or the same
files unzipped. :func:`read_package` checks ``dynprune.yaml`` first, so a package
written by a newer, incompatible ``espnet_dynprune`` fails with a message saying
so; :func:`localize_package` rewrites the config's package paths into absolute
ones in a separate directory (the package itself, e.g. a Hub cache snapshot, is
never modified).

This module reads YAML only: it imports neither torch nor ESPnet.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml

from espnet_dynprune import __version__

__all__ = [
    "FORMAT_VERSION",
    "META",
    "SIDECAR",
    "PackageInfo",
    "localize_package",
    "read_package",
    "read_yaml_mapping",
]

FORMAT_VERSION = 1
"""Package format written here; readers accept this one and older ones."""

SIDECAR = "dynprune.yaml"

META = "meta.yaml"

PathLike = Union[str, Path]


@dataclass(frozen=True)
class PackageInfo:
    """What ``meta.yaml`` and ``dynprune.yaml`` of a package say.

    Attributes:
        root: the package directory.
        format_version: package format (:data:`FORMAT_VERSION` or older).
        packed_by: ``espnet_dynprune`` version that wrote it.
        gate_weights: whether the weights include the gate predictor.
        made_with: releases the weights were saved with (``espnet``, ``torch``;
            empty for packages that do not record them).
        yaml_files: ESPnet's ``yaml_files`` (key -> package path).
        files: ESPnet's ``files`` (key -> package path).
    """

    root: Path
    format_version: int
    packed_by: str
    gate_weights: bool
    yaml_files: dict[str, str]
    files: dict[str, str]
    made_with: dict[str, str]


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML mapping from a file.

    Raises:
        ValueError: the file does not hold a mapping (names the file).
    """
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping, got {type(data).__name__}")
    return data


def read_package(root: PathLike) -> PackageInfo:
    """Check a package directory and say what it holds.

    Raises:
        FileNotFoundError: ``meta.yaml``, ``dynprune.yaml`` or a file they name
            is missing (names it).
        ValueError: written in a newer package format than this version reads,
            or ``meta.yaml`` names no S2T config and weights.
    """
    root = Path(root)
    for name in (META, SIDECAR):
        if not (root / name).is_file():
            raise FileNotFoundError(
                f"{root / name} not found: {root} is not a model packed by "
                "espnet_dynprune (python -m espnet_dynprune.bin.pack)"
            )
    sidecar = read_yaml_mapping(root / SIDECAR)
    version = sidecar.get("format_version")
    if not isinstance(version, int):
        raise ValueError(f"{root / SIDECAR}: no integer format_version")
    packed_by = str(sidecar.get("espnet_dynprune_version", "unknown"))
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{root / SIDECAR}: package format {version} (espnet_dynprune "
            f"{packed_by}) is newer than this espnet_dynprune {__version__} reads "
            f"(format {FORMAT_VERSION} and older): pip install -U espnet_dynprune"
        )
    meta = read_yaml_mapping(root / META)
    yaml_files, files = meta.get("yaml_files") or {}, meta.get("files") or {}
    if "s2t_train_config" not in yaml_files or "s2t_model_file" not in files:
        raise ValueError(
            f"{root / META}: needs yaml_files.s2t_train_config and files.s2t_model_file"
        )
    for name in [*yaml_files.values(), *files.values()]:
        if not (root / name).is_file():
            raise FileNotFoundError(f"{root / name} not found (named in {META})")
    return PackageInfo(
        root=root,
        format_version=version,
        packed_by=packed_by,
        gate_weights=bool(sidecar.get("gate_weights", False)),
        yaml_files=dict(yaml_files),
        files=dict(files),
        made_with={str(k): str(v) for k, v in (sidecar.get("made_with") or {}).items()},
    )


def _localize(value: Any, paths: dict[str, str]) -> Any:
    """``value`` with every string that is a package path made absolute."""
    if isinstance(value, dict):
        return {k: _localize(v, paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_localize(v, paths) for v in value]
    if isinstance(value, str):
        return paths.get(value, value)
    return value


def localize_package(info: PackageInfo, work_dir: PathLike) -> dict[str, str]:
    """Write the package's YAML files with absolute paths into ``work_dir``.

    Args:
        info: a checked package (:func:`read_package`).
        work_dir: where the rewritten YAML files go (the package is read only).

    Returns:
        ``Speech2Text`` arguments: ``s2t_train_config`` and ``s2t_model_file``.
    """
    root = info.root.resolve()
    paths = {p.relative_to(root).as_posix(): str(p) for p in root.rglob("*")}
    kwargs = {key: str(root / name) for key, name in info.files.items()}
    for key, name in info.yaml_files.items():
        target = Path(work_dir) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        data = _localize(read_yaml_mapping(root / name), paths)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f, allow_unicode=True, sort_keys=False)
        tmp.replace(target)  # atomic: a concurrent reader sees old or new
        kwargs[key] = str(target)
    return kwargs
