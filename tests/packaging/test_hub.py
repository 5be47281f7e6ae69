"""Hub round trip against a local stand-in for the Hub (tests/hub_server.py).

Upload with ``huggingface_hub.HfApi``, then ``from_pretrained("owner/name")`` in
a fresh process (``HF_ENDPOINT`` read at import, as users set it), then again
with ``HF_HUB_OFFLINE=1`` from the cache alone; both decode exactly like the
model as trained.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import constants

from espnet_dynprune.io.locate import CACHE_ENV
from espnet_dynprune.packaging.hub import list_upload, upload_packed

from helpers.hub_server import FakeHub
from helpers.pack_fixtures import (  # noqa: F401  (fixtures)
    ToyPackage,
    corpus_fixture,
    dense_exp_fixture,
    gated_run_fixture,
    toy_fixture,
)

pytestmark = pytest.mark.slow

TOKEN = "hf_test_token_never_shown"
TESTS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def hub_environment(tmp_path, monkeypatch):
    """A token for uploads; work files in a fresh directory."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture()
def hub():
    with FakeHub() as server:
        yield server


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(TESTS_DIR),  # the helpers package
            **env,
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert TOKEN not in result.stdout + result.stderr
    return result


def _load_and_decode(tag: str, wavs: list[str], env: dict[str, str]) -> list:
    output = _run(["-m", "helpers.pack_fixtures", tag, *wavs], env)
    output = output.stdout.splitlines()[-1]
    return [tuple(item) for item in json.loads(output)]


def test_upload_download_decode_identically(hub, toy: ToyPackage, tmp_path):
    url = upload_packed(toy.directory, "owner/toy", endpoint=hub.url)
    assert url.startswith(f"{hub.url}/owner/toy/commit/")
    assert hub.commit_count == 1
    repo = hub.repos["owner/toy"]
    stored = repo.trees[repo.commits[-1]]
    assert sorted(stored) == [name for name, _ in list_upload(toy.directory)]
    assert all(auth == f"Bearer {TOKEN}" for m, _, auth in hub.requests if m == "POST")

    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(tmp_path / "hf_home"),
        "HF_HUB_CACHE": str(tmp_path / "hf"),
    }
    assert _load_and_decode("owner/toy", toy.wavs, env) == toy.reference
    snapshot = tmp_path / "hf" / "models--owner--toy" / "snapshots" / repo.commits[-1]
    assert (snapshot / "meta.yaml").is_file()

    # offline: from the cache alone, not a single request
    requests = len(hub.requests)
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    assert _load_and_decode("owner/toy", toy.wavs, offline) == toy.reference
    assert len(hub.requests) == requests

    # an existing repository gets a second commit
    upload_packed(toy.directory, "owner/toy", endpoint=hub.url)
    assert hub.commit_count == 2


def test_upload_command_dry_run_then_upload(hub, toy: ToyPackage):
    module = ["-m", "espnet_dynprune.bin.upload", "--model_dir", str(toy.directory)]
    env = {"HF_ENDPOINT": hub.url}
    dry = _run([*module, "--hf_repo", "owner/cli", "--dry_run", "true"], env)
    for name, size in list_upload(toy.directory):
        assert f"{size:,d}  {name}" in dry.stdout
    assert "total (10 files)" in dry.stdout
    assert hub.requests == []
    _run([*module, "--hf_repo", "owner/cli"], env)
    assert hub.commit_count == 1
    repo = hub.repos["owner/cli"]
    assert "README.md" in repo.trees[repo.commits[-1]]


def test_upload_needs_a_token(toy: ToyPackage, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))
    with pytest.raises(ValueError, match="no Hugging Face token"):
        upload_packed(toy.directory, "owner/toy", endpoint="http://127.0.0.1:9")


def test_upload_needs_owner_and_name(toy: ToyPackage):
    with pytest.raises(ValueError, match="'owner/name'"):
        upload_packed(toy.directory, "just-a-name", endpoint="http://127.0.0.1:9")
