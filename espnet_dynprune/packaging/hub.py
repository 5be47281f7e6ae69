"""Share packed gated models on the Hugging Face Hub.

Uploading uses ``huggingface_hub.HfApi``: the repository is created if needed,
then every file of the package directory goes up in one commit
(``create_commit``; the Hub decides per file between a plain git upload and
LFS / Xet). The token is huggingface_hub's own: ``HF_TOKEN`` or the login cache
(``hf auth login``); it is never logged, printed or written anywhere.
Loading is :mod:`espnet_dynprune.io.locate`'s.
"""

import logging
from pathlib import Path
from typing import Optional, Union

from huggingface_hub import CommitOperationAdd, HfApi, get_token

from espnet_dynprune import __version__
from espnet_dynprune.io.locate import is_repo_id
from espnet_dynprune.io.package import read_package

__all__ = ["list_upload", "upload_packed"]

logger = logging.getLogger(__name__)


def list_upload(model_dir: Union[str, Path]) -> list[tuple[str, int]]:
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
    if not is_repo_id(repo_id):
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
