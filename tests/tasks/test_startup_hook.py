"""The start-up hook: ESPnet's own entry points know the plugin with no user code."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.tasks.gated_config import write_gated_config

from helpers import toy_data
from helpers.toy_helpers import TOY_CONFIG as DENSE_CONFIG

HOOK = "espnet_dynprune-startup.pth"
ROOT = Path(__file__).resolve().parents[2]
OFF = "ESPNET_DYNPRUNE_AUTOREGISTER"
REGISTERED = (
    "import sys\n"
    "from espnet2.tasks import asr, s2t\n"
    "print('dynprune' in s2t.model_choices.classes,"
    " 'gated_e_branchformer' in s2t.encoder_choices.classes,"
    " 'gated_transformer' in asr.decoder_choices.classes)"
)


def _python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter outside the repository (no ``-m``,
    no import of the plugin by the code itself)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env={**os.environ, **env},
    )
    return result.stdout.strip().splitlines()[-1]  # ESPnet 202511 prints a notice


def test_install_places_the_hook_in_site_packages():
    installed = Path(sysconfig.get_paths()["purelib"]) / HOOK
    assert installed.is_file(), f"{installed}: reinstall the package (make install)"
    assert installed.read_text() == (ROOT / HOOK).read_text()


def test_start_up_loads_neither_torch_nor_espnet():
    loaded = _python(
        "import sys; print(sorted(m for m in ('torch', 'espnet2', 'espnet') "
        "if m in sys.modules), 'espnet_dynprune' in sys.modules)"
    )
    assert loaded == "[] True"


def test_espnet_tasks_know_the_plugin_without_importing_it():
    assert _python(REGISTERED).split() == ["True"] * 3


def test_environment_variable_turns_the_hook_off():
    assert _python(REGISTERED, **{OFF: "0"}).split() == ["False"] * 3
    assert (
        _python("import sys; print('espnet_dynprune' in sys.modules)", **{OFF: "0"})
        == "False"
    )


@pytest.mark.slow
def test_stock_s2t_train_offers_the_gated_classes():
    result = subprocess.run(
        [sys.executable, "-m", "espnet2.bin.s2t_train", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    for name in ("dynprune", "gated_e_branchformer", "gated_transformer"):
        assert name in result.stdout


@pytest.mark.slow
def test_stock_s2t_train_trains_a_gated_yaml(tmp_path):
    """ESPnet's own trainer, in a fresh process outside the repository."""
    corpus = toy_data.make_toy_corpus(tmp_path, num_train=16, num_dev=4, num_test=2)
    config = write_gated_config(
        DENSE_CONFIG,
        tmp_path / "train_gated.yaml",
        sparsity_conf={"decoder_target": 0.5},
    )
    exp = tmp_path / "exp"
    args = toy_data.s2t_train_args(corpus, config, exp, max_epoch=1)
    result = subprocess.run(
        [sys.executable, "-m", "espnet2.bin.s2t_train", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loss_sparsity" in result.stderr  # the gated model trained
    state = load_state_dict_safely(exp / "valid.acc.ave.pth")
    assert any(key.startswith(GATE_PREFIX) for key in state)
