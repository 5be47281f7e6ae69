"""The recipe's data preparation stage: runs the CLI once, then skips."""

import subprocess
import sys
from pathlib import Path

import pytest

DATA_SH = (
    Path(__file__).resolve().parents[2] / "egs2/synth_multiling/s2t1/local/data.sh"
)


def _run(cwd, *args):
    return subprocess.run(
        [str(DATA_SH), "--python", sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_usage_errors(tmp_path):
    result = _run(tmp_path, "--bogus")
    assert result.returncode == 1 and "unknown option --bogus" in result.stderr
    assert "Usage:" in _run(tmp_path, "--help").stdout


@pytest.mark.slow
def test_data_sh_is_idempotent(tmp_path, synthesizer):
    args = ("--size", "2", "--langs", "spa", "--nj", "1")
    first = _run(tmp_path, *args)
    assert first.returncode == 0, first.stderr[-2000:]
    settings = "layout=3 size=2 segment_seconds=5 seed=0 langs=spa\n"
    assert (tmp_path / "data/.done").read_text() == settings
    assert (tmp_path / "data/test_spa_st_eng/text").exists()
    wav_path = (tmp_path / "data/train/wav.scp").read_text().split()[1]
    assert wav_path.startswith("data/wav/train/")
    second = _run(tmp_path, *args)
    assert second.returncode == 0 and "Skip:" in second.stdout
    third = _run(tmp_path, "--size", "3", "--langs", "spa", "--nj", "1")
    assert third.returncode == 0 and "Skip:" not in third.stdout
    assert len((tmp_path / "data/train/text").read_text().splitlines()) == 3
