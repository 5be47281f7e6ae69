"""The toy model trained through ESPnet's trainer: fixtures shared by test modules.

``corpus`` -> ``dense_exp`` (dense, 1 epoch) -> ``gated_run`` (gates only, on
the frozen backbone) or ``joint_run`` (gates and backbone together). The
fixtures are module-scoped: a test module that imports them trains its own.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from espnet_dynprune.tasks.gated_config import write_gated_config

from helpers import toy_data
from helpers.toy_helpers import TOY_CONFIG as DENSE_CONFIG

MODEL = "valid.acc.ave.pth"


def run(module: str, *args: str) -> str:
    """Run ``python -m module args``; return stderr (ESPnet logs there)."""
    cmd = [sys.executable, "-m", module, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stderr


def run_inference(exp: Path, *args: str) -> str:
    """``s2t_inference`` with the model in ``exp`` and more options."""
    return run(
        "espnet_dynprune.bin.s2t_inference",
        "--s2t_train_config",
        str(exp / "config.yaml"),
        "--s2t_model_file",
        str(exp / MODEL),
        *args,
    )


@pytest.fixture(scope="module", name="corpus")
def corpus_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    return toy_data.make_toy_corpus(root, num_train=48, num_dev=8, num_test=4)


@pytest.fixture(scope="module", name="dense_exp")
def dense_exp_fixture(corpus):
    exp = corpus.root / "exp_dense"
    run(
        "espnet_dynprune.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, DENSE_CONFIG, exp, max_epoch=1),
    )
    return exp


def train_gated(
    corpus, dense_exp: Path, name: str, sparsity_conf: dict, *options: str
) -> tuple:
    """Gated training from the dense model; returns its exp dir and log."""
    exp = corpus.root / f"exp_{name}"
    config = write_gated_config(
        DENSE_CONFIG,
        corpus.root / f"train_{name}.yaml",
        sparsity_conf=sparsity_conf,
        gate_predictor_conf={"temperature_anneal_steps": 20},
    )
    log = run(
        "espnet_dynprune.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, config, exp, max_epoch=1),
        "--init_param",
        str(dense_exp / MODEL),
        *options,
    )
    return exp, log


@pytest.fixture(scope="module", name="gated_run")
def gated_run_fixture(corpus, dense_exp):
    """Gates only, on the frozen backbone."""
    frozen = ("frontend", "normalize", "encoder", "decoder", "ctc")
    targets = {"decoder_target": 0.5, "encoder_target": 0.25}
    return train_gated(corpus, dense_exp, "gated", targets, "--freeze_param", *frozen)


@pytest.fixture(scope="module", name="joint_run")
def joint_run_fixture(corpus, dense_exp):
    """Gates and backbone trained together, the gates at their own lr."""
    targets = {"decoder_target": 0.5}
    options = ("--gate_lr", "0.05", "--scheduler", "none")
    return train_gated(corpus, dense_exp, "joint", targets, *options)
