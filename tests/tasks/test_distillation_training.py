"""Gated training with distillation through ESPnet's trainer, from the recipe's CLI."""

import pytest
import torch
import yaml

from helpers import toy_data
from helpers.toy_helpers import TOY_CONFIG as DENSE_CONFIG
from helpers.trained_toy import (  # noqa: F401  (fixtures)
    MODEL,
    corpus_fixture,
    dense_exp_fixture,
    run,
)

pytestmark = pytest.mark.slow


def gated_config(corpus, dense_exp, name: str, *options: str):
    """``make_gated_config`` with a gate conf holding ``distill_conf``, as stage 5."""
    gate_conf = corpus.root / "gate_kd.yaml"
    gate_conf.write_text(
        yaml.safe_dump(
            {
                "gate_predictor_conf": {"temperature_anneal_steps": 20},
                "distill_conf": {"weight": 0.5, "temperature": 2.0},
            }
        )
    )
    out = corpus.root / f"train_{name}.yaml"
    run(
        "espnet_dynprune.bin.make_gated_config",
        str(DENSE_CONFIG),
        str(out),
        "--decoder_target",
        "0.5",
        "--gate_conf",
        str(gate_conf),
        "--teacher_config",
        str(dense_exp / "config.yaml"),
        "--teacher_model_file",
        str(dense_exp / MODEL),
        *options,
    )
    return out, yaml.safe_load(out.read_text())


def test_distillation_trains_through_espnets_trainer(corpus, dense_exp):
    config_file, config = gated_config(corpus, dense_exp, "kd")
    distill = config["model_conf"]["distill_conf"]
    assert distill["teacher_model_file"] == str(dense_exp / MODEL)
    assert distill["weight"] == 0.5
    exp = corpus.root / "exp_kd"
    log = run(
        "espnet_dynprune.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, config_file, exp, max_epoch=1),
        "--init_param",
        str(dense_exp / MODEL),
        "--gate_lr",
        "0.05",
        "--scheduler",
        "none",
    )
    assert "distillation teacher: " + str(dense_exp / MODEL) in log
    for term in ("loss_distill=", "loss_distill_att=", "loss_distill_ctc="):
        assert term in log.split("[train]")[-1].split("[valid]")[0], term  # train
        assert term in log.split("[valid]")[-1], term  # and validation stats
    saved = torch.load(exp / "1epoch.pth", weights_only=True)
    dense = torch.load(dense_exp / MODEL, weights_only=True)
    assert {k for k in saved if not k.startswith("gating.")} == set(dense)


def test_distill_weight_zero_writes_no_distillation(corpus, dense_exp):
    _, config = gated_config(corpus, dense_exp, "nokd", "--distill_weight", "0")
    assert "distill_conf" not in config["model_conf"]
