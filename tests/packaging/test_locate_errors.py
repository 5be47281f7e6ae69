"""Finding a package fails with what to do: a truncated ``.zip``, an uncached
Hub id while offline."""

import os
import subprocess
import sys
import zipfile

import pytest

from espnet_dynprune.io.locate import locate_package


def test_truncated_zip_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_DYNPRUNE_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as f:
        f.writestr("meta.yaml", "files: {}\n" * 200)
        f.writestr("exp/model.pth", b"\0" * 4096)
    archive.write_bytes(archive.read_bytes()[:2000])  # an interrupted download
    with pytest.raises(ValueError, match="not a complete archive") as error:
        locate_package(archive)
    assert str(archive) in str(error.value) and "download it again" in str(error.value)


def test_uncached_hub_id_offline_says_what_to_do(tmp_path):
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        HF_HOME=str(tmp_path / "hf"),
        ESPNET_DYNPRUNE_CACHE=str(tmp_path / "cache"),
    )
    env.pop("HF_HUB_CACHE", None)
    code = (
        "from espnet_dynprune.inference.speech2text import Speech2Text\n"
        "Speech2Text.from_pretrained('owner/missing-model')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("FileNotFoundError: owner/missing-model: this Hub ")
    assert "download it once while online" in last
