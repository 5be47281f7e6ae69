"""Find a packed model: a directory, an archive or a Hugging Face Hub repository.

Archives are unpacked with ESPnet's ``pack_funcs.unpack``; Hub repositories are
fetched with ``huggingface_hub.snapshot_download`` (which honours
``HF_ENDPOINT``, ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``). Work files (unpacked
archives, configs with absolute paths) go under ``$ESPNET_DYNPRUNE_CACHE``
(default ``~/.cache/espnet_dynprune``); the Hub cache itself is never modified.
"""

import hashlib
import logging
import os
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Optional, Union

from espnet2.main_funcs.pack_funcs import unpack
from huggingface_hub import snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError

from espnet_dynprune import __version__
from espnet_dynprune.io.package import localize_package, read_package

__all__ = [
    "CACHE_ENV",
    "cache_home",
    "is_archive",
    "is_repo_id",
    "locate_package",
    "resolve_pretrained",
]

logger = logging.getLogger(__name__)

CACHE_ENV = "ESPNET_DYNPRUNE_CACHE"

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

_ARCHIVES = (".zip", ".tar", ".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz")


def cache_home() -> Path:
    """``$ESPNET_DYNPRUNE_CACHE``, else ``$XDG_CACHE_HOME/espnet_dynprune``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "espnet_dynprune"


def _key(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()[:16]


def is_repo_id(text: str) -> bool:
    """Whether ``text`` has the form of a Hub repository id ``owner/name``."""
    return _REPO_ID.fullmatch(text) is not None


def is_archive(path: Path) -> bool:
    """Whether ``path`` is a packed-model archive file (``.zip``, ``.tar.gz``...)."""
    return path.is_file() and path.name.endswith(_ARCHIVES)


def locate_package(
    model_tag: Union[str, Path],
    revision: Optional[str] = None,
    cache_dir: Optional[Union[str, Path]] = None,
) -> Path:
    """The local directory of a packed model (gated or stock ESPnet).

    Args:
        model_tag: a package directory, a packed archive (``.zip``...), or a
            Hub repository id ``owner/name`` (a local path wins over a Hub id).
        revision: Hub branch, tag or commit (Hub ids only).
        cache_dir: huggingface_hub's cache directory (Hub ids only; default
            ``HF_HUB_CACHE``).

    Raises:
        FileNotFoundError: ``model_tag`` is neither a local package nor a Hub id,
            or a Hub id that is not cached while the Hub cannot be reached.
        ValueError: a truncated or corrupt archive.
    """
    path = Path(model_tag)
    if path.is_dir():
        return path
    if is_archive(path):
        return _unpacked(path)
    if path.exists() or path.name.endswith(_ARCHIVES):
        raise FileNotFoundError(
            f"{path}: no package directory or archive ({', '.join(_ARCHIVES)})"
        )
    if is_repo_id(str(model_tag)):
        return _downloaded(str(model_tag), revision, cache_dir)
    raise FileNotFoundError(
        f"{model_tag}: no such package directory or archive, and not a Hub "
        "repository id (owner/name)"
    )


def _unpacked(path: Path) -> Path:
    """The directory an archive unpacks to (once per file version).

    Raises:
        ValueError: the archive is truncated or corrupt (names it).
    """
    stat = path.stat()
    key = _key(path.resolve(), stat.st_size, stat.st_mtime)
    root = (cache_home() / "unpacked" / key).resolve()
    try:
        unpack(path, root)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise ValueError(
            f"{path}: not a complete archive ({error}); it is truncated or "
            "corrupt, e.g. an interrupted download: download it again"
        ) from error
    return root


def _downloaded(
    repo_id: str, revision: Optional[str], cache_dir: Optional[Union[str, Path]]
) -> Path:
    """A Hub repository's snapshot, downloaded or from the cache.

    Raises:
        FileNotFoundError: not cached, and the Hub cannot be reached (offline,
            ``HF_HUB_OFFLINE=1``); names the repository and what to do.
    """
    try:
        return Path(
            snapshot_download(
                repo_id,
                revision=revision,
                cache_dir=cache_dir,
                library_name="espnet_dynprune",
                library_version=__version__,
            )
        )
    except LocalEntryNotFoundError as error:
        raise FileNotFoundError(
            f"{repo_id}: this Hub repository is not in the local Hugging Face "
            "cache and the Hub cannot be reached (offline, or HF_HUB_OFFLINE=1): "
            "download it once while online, or pass a local package directory "
            "or .zip instead"
        ) from error


def resolve_pretrained(
    model_tag: Union[str, Path],
    revision: Optional[str] = None,
    cache_dir: Optional[Union[str, Path]] = None,
) -> dict[str, str]:
    """``Speech2Text`` arguments of a packed gated model.

    Args:
        model_tag, revision, cache_dir: as for :func:`locate_package`.

    Returns:
        ``{"s2t_train_config": ..., "s2t_model_file": ...}`` (absolute paths),
        for this package's ``Speech2Text`` or ESPnet's own.

    Raises:
        FileNotFoundError: ``model_tag`` is neither a local package nor a Hub id,
            or the package lacks a file.
        ValueError: the package format is newer than this version reads.
    """
    root = locate_package(model_tag, revision, cache_dir)
    info = read_package(root)
    logger.info(
        "%s: package format %d, packed by espnet_dynprune %s",
        root,
        info.format_version,
        info.packed_by,
    )
    work_dir = cache_home() / "resolved" / _key(root.resolve())
    return localize_package(info, work_dir)
