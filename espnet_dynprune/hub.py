"""Share packed gated models on the Hugging Face Hub, and find them again.

Uploading uses ``huggingface_hub.HfApi``: the repository is created if needed,
then every file of the package directory goes up in one commit
(``create_commit``; the Hub decides per file between a plain git upload and
LFS / Xet). The token is huggingface_hub's own: ``HF_TOKEN`` or the login cache
(``hf auth login``); it is never logged, printed or written anywhere.

Loading accepts a package directory, a packed ``.zip`` (unpacked with ESPnet's
``pack_funcs.unpack``) or a Hub repository id (``snapshot_download``, which
honours ``HF_ENDPOINT``, ``HF_HUB_CACHE`` and ``HF_HUB_OFFLINE``). The work
files (unpacked archives, configs with absolute paths) go under
``$ESPNET_DYNPRUNE_CACHE`` (default ``~/.cache/espnet_dynprune``); the Hub cache
itself is never modified.
"""

import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from espnet2.main_funcs.pack_funcs import unpack
from huggingface_hub import CommitOperationAdd, HfApi, get_token, snapshot_download

from espnet_dynprune import __version__
from espnet_dynprune.pack import localize_package, read_package

__all__ = [
    "CACHE_ENV",
    "cache_home",
    "is_archive",
    "list_upload",
    "locate_package",
    "resolve_pretrained",
    "upload_packed",
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


def list_upload(model_dir: Union[str, Path]) -> List[Tuple[str, int]]:
    """``(path in repo, size in bytes)`` of every file that would be uploaded.

    Hidden files and directories (``.cache``, ``.git``...) are left out.
    """
    root = Path(model_dir)
    files = []
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and not any(p.startswith(".") for p in name.split("/")):
            files.append((name, path.stat().st_size))
    return files


def upload_packed(
    model_dir: Union[str, Path],
    repo_id: str,
    private: bool = False,
    commit_message: str = "Upload gated ESPnet model (espnet_dynprune)",
    endpoint: Optional[str] = None,
) -> str:
    """Upload a package directory to a Hub model repository, in one commit.

    Args:
        model_dir: the unzipped package (``espnet_dynprune.bin.pack --out_dir``).
        repo_id: ``owner/name``; created if it does not exist.
        private: create the repository private.
        commit_message: the commit's title.
        endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co).

    Returns:
        The commit's URL.

    Raises:
        ValueError: ``repo_id`` is not ``owner/name``, or no token is configured.
        FileNotFoundError: ``model_dir`` is not a complete package.
    """
    if not _REPO_ID.fullmatch(repo_id):
        raise ValueError(f"Hub repository must be 'owner/name', got {repo_id!r}")
    read_package(model_dir)
    if get_token() is None:
        raise ValueError(
            "no Hugging Face token: set HF_TOKEN or log in with `hf auth login`"
        )
    api = HfApi(
        endpoint=endpoint,
        library_name="espnet_dynprune",
        library_version=__version__,
    )
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    operations = [
        CommitOperationAdd(path_in_repo=name, path_or_fileobj=Path(model_dir) / name)
        for name, _ in list_upload(model_dir)
    ]
    info = api.create_commit(
        repo_id,
        operations=operations,
        commit_message=commit_message,
        repo_type="model",
    )
    logger.info("uploaded %d files to %s", len(operations), info.commit_url)
    return info.commit_url


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
        FileNotFoundError: ``model_tag`` is neither a local package nor a Hub id.
    """
    path = Path(model_tag)
    if path.is_dir():
        return path
    if is_archive(path):
        stat = path.stat()
        key = _key(path.resolve(), stat.st_size, stat.st_mtime)
        root = (cache_home() / "unpacked" / key).resolve()
        unpack(path, root)
        return root
    if path.exists() or path.name.endswith(_ARCHIVES):
        raise FileNotFoundError(
            f"{path}: no package directory or archive ({', '.join(_ARCHIVES)})"
        )
    if _REPO_ID.fullmatch(str(model_tag)):
        return Path(
            snapshot_download(
                str(model_tag),
                revision=revision,
                cache_dir=cache_dir,
                library_name="espnet_dynprune",
                library_version=__version__,
            )
        )
    raise FileNotFoundError(
        f"{model_tag}: no such package directory or archive, and not a Hub "
        "repository id (owner/name)"
    )


def resolve_pretrained(
    model_tag: Union[str, Path],
    revision: Optional[str] = None,
    cache_dir: Optional[Union[str, Path]] = None,
) -> Dict[str, str]:
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
