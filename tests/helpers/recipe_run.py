"""The default recipe's run.sh on a very small corpus (ESPnet's mini_an4 habit)."""

import os
import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[2] / "egs2" / "synth_multiling" / "s2t1"
TINY = [
    "--data_opts", "--size 60",
    "--dense_args",
    "--max_epoch 1 --batch_size 8 --scheduler_conf warmup_steps_list=[0,4,8]",
    "--gated_args", "--max_epoch 1 --batch_size 8",
    "--decode_args", "--beam_size 2 --maxlenratio 0.1",
    "--nj", "1",
    "--timing_rounds", "2",
    "--test_sets", "test_deu_asr test_deu_st_eng",  # every process start costs
]  # fmt: skip


def recipe_env() -> dict[str, str]:
    """The environment of a recipe run: this interpreter's bin first on PATH."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")


def run_recipe(tmp: Path, *args: str) -> str:
    """``./run.sh`` with data, exp and report under ``tmp``, the tiny options and
    ``args``; it must succeed. Returns its output."""
    cmd = [
        "./run.sh",
        "--datadir", str(tmp / "data"),
        "--expdir", str(tmp / "exp"),
        "--report_dir", str(tmp / "report"),
        *TINY,
        *args,
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=RECIPE, env=recipe_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout + result.stderr
