"""Models trained and packed under one ESPnet release decode identically under
the other (fixtures written by ``python -m helpers.release_fixture``)."""

import json
import zipfile

import pytest
import torch

from espnet_dynprune.io.package import read_package

from helpers.release_fixture import FIXTURES, decode, load

RELEASES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir())


def test_both_release_lines_have_a_fixture():
    assert RELEASES == ["espnet-202511", "espnet-202611"]


@pytest.mark.parametrize("release", RELEASES)
def test_package_decodes_as_it_did_where_it_was_made(release):
    recorded = json.loads((FIXTURES / release / "hypotheses.json").read_text())
    got = decode(load(FIXTURES / release / "model.zip"))
    want = recorded["hypotheses"]
    assert [(r["tokens"], r["active_modules"]) for r in got] == [
        (r["tokens"], r["active_modules"]) for r in want
    ]
    torch.testing.assert_close(
        [r["scores"] for r in got], [r["scores"] for r in want], atol=1e-3, rtol=0
    )


@pytest.mark.parametrize("release", RELEASES)
def test_package_records_the_releases_it_was_made_with(release, tmp_path):
    with zipfile.ZipFile(FIXTURES / release / "model.zip") as archive:
        archive.extractall(tmp_path)
    made_with = read_package(tmp_path).made_with
    assert made_with["espnet"] == release.removeprefix("espnet-")
    assert made_with["torch"]
    card = (tmp_path / "README.md").read_text()
    assert f"with espnet {made_with['espnet']} and torch {made_with['torch']}" in card
