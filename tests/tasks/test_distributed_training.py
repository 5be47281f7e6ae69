"""Gated training under ESPnet's distributed trainer: two CPU processes (gloo)."""

import os
import subprocess
import sys

import pytest
import torch

from espnet_dynprune.tasks.gated_config import write_gated_config

from helpers import toy_data
from helpers.toy_helpers import TOY_CONFIG as DENSE_CONFIG

pytestmark = pytest.mark.slow


def test_two_process_gloo_training(tmp_path):
    corpus = toy_data.make_toy_corpus(tmp_path, num_train=16, num_dev=4, num_test=2)
    config = write_gated_config(
        DENSE_CONFIG,
        tmp_path / "gated.yaml",
        sparsity_conf={"encoder_target": 0.25, "decoder_target": 0.5},
    )
    exp = tmp_path / "exp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "--module",
        "espnet_dynprune.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, config, exp, max_epoch=1),
        "--batch_size",
        "4",
        "--dist_backend",
        "gloo",
        "--unused_parameters",
        "true",
    ]
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["OMP_NUM_THREADS"] = "1"
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert ":0/2]" in result.stderr  # ESPnet's log prefix: rank 0 of world size 2
    state = torch.load(exp / "1epoch.pth", map_location="cpu", weights_only=True)
    assert int(state["gating.predictor.num_updates"]) > 0
    assert "sparsity_dec=" in result.stderr
