"""Tiny end to end: ESPnet trainer -> gated training -> CLI decoding, on toy audio."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
import torch
import yaml
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.bin import s2t_inference
from espnet_dynprune.eval.scoring import read_gates
from espnet_dynprune.inference.speech2text import Speech2Text

from helpers import toy_data
from helpers.trained_toy import (  # noqa: F401  (fixtures)
    DENSE_CONFIG,
    MODEL,
    corpus_fixture,
    dense_exp_fixture,
    gated_run_fixture,
    joint_run_fixture,
    run_inference,
)

pytestmark = pytest.mark.slow


def _state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_training_log_shows_gate_stats(gated_run):
    _, log = gated_run
    for stat in ("loss_sparsity=", "sparsity_enc=", "sparsity_dec=", "sparsity_flops="):
        assert stat in log, stat
    assert "gate_temperature=" in log


def test_frozen_backbone_is_unchanged_and_gates_trained(dense_exp, gated_run):
    dense, gated = _state(dense_exp / MODEL), _state(gated_run[0] / MODEL)
    assert set(gated) - set(dense) == {k for k in gated if k.startswith("gating.")}
    for key, value in dense.items():
        assert torch.equal(gated[key], value), key
    assert int(gated["gating.predictor.num_updates"]) > 0


@pytest.mark.parametrize("mode", ["predicted", "dense"])
def test_cli_decodes_test_set(corpus, gated_run, tmp_path, mode):
    exp, _ = gated_run
    out = tmp_path / mode
    run_inference(
        exp,
        "--data_path_and_name_and_type",
        f"{corpus.test_dir / 'wav.scp'},speech,sound",
        "--lang_sym",
        "deu",
        "--task_sym",
        "st_eng",
        "--beam_size",
        "2",
        "--gate_mode",
        mode,
        "--output_dir",
        str(out),
    )
    keys = [line.split()[0] for line in open(corpus.test_dir / "wav.scp")]
    decoded = (out / "1best_recog" / "token").read_text().splitlines()
    assert sorted(line.split()[0] for line in decoded) == sorted(keys)
    gates = out / "1best_recog" / "gates"
    if mode == "dense":
        assert not gates.exists()
    else:
        parsed = read_gates(gates)
        assert parsed["encoder"].shape == (len(keys), 2, 4)
        assert parsed["decoder"].shape == (len(keys), 2, 3)


def test_decode_list_decodes_sets_and_modes_with_one_model_load(
    corpus, gated_run, tmp_path
):
    exp, _ = gated_run
    wav_scp = corpus.test_dir / "wav.scp"
    keys = [line.split()[0] for line in open(wav_scp)]
    (tmp_path / "first_key").write_text(f"{keys[0]}\n")
    decode_list = tmp_path / "decode.list"
    decode_list.write_text(
        f"{tmp_path / 'st'} {wav_scp} - deu st_eng predicted\n"
        f"{tmp_path / 'asr'} {wav_scp} {tmp_path / 'first_key'} fra asr dense\n"
    )
    run_inference(exp, "--decode_list", str(decode_list), "--beam_size", "2")
    s2t = Speech2Text(exp / "config.yaml", exp / MODEL, beam_size=2)
    for out, lang, task, mode, wanted in (
        ("st", "<deu>", "<st_eng>", "predicted", keys),
        ("asr", "<fra>", "<asr>", "dense", keys[:1]),
    ):
        s2t.gate_mode = mode
        lines = (tmp_path / out / "1best_recog" / "token_int").read_text()
        decoded = dict(line.split(" ", 1) for line in lines.splitlines())
        assert sorted(decoded) == sorted(wanted)
        audio, _ = sf.read(next(open(wav_scp)).split()[1], dtype="float32")
        best = s2t(audio, lang_sym=lang, task_sym=task)[0]
        assert decoded[keys[0]] == " ".join(map(str, best[2])), out
        assert (tmp_path / out / "1best_recog" / "gates").exists() == (
            mode == "predicted"
        )
        timing = json.loads((tmp_path / out / "timing.json").read_text())
        assert timing["utterances"] == len(wanted)
        assert timing["options"].endswith("--beam_size 2")  # no --decode_list
        assert "--decode_list" not in timing["options"]


def test_dense_mode_equals_stock_espnet(corpus, dense_exp, gated_run, tmp_path):
    """The gated model in dense mode decodes like ESPnet's model on its backbone."""
    exp, _ = gated_run
    backbone = {
        k: v for k, v in _state(exp / MODEL).items() if not k.startswith("gating.")
    }
    torch.save(backbone, tmp_path / "backbone.pth")
    stock = ESPnetSpeech2Text(
        dense_exp / "config.yaml", tmp_path / "backbone.pth", beam_size=3, nbest=3
    )
    gated = Speech2Text(
        exp / "config.yaml", exp / MODEL, gate_mode="dense", beam_size=3, nbest=3
    )
    wavs = [line.split()[1] for line in open(corpus.test_dir / "wav.scp")]
    for wav in wavs[:3]:
        audio, _ = sf.read(wav, dtype="float32")
        for lang, task in (("<deu>", "<st_eng>"), ("<fra>", "<asr>")):
            want = stock(audio, lang_sym=lang, task_sym=task)
            got = gated(audio, lang_sym=lang, task_sym=task)
            assert [r[2] for r in got] == [r[2] for r in want]
            for g, w in zip(got, want, strict=True):
                assert abs(float(g[4].score) - float(w[4].score)) < 1e-4


def test_joint_training_updates_backbone_and_gates_at_their_own_lr(
    dense_exp, joint_run
):
    exp, log = joint_run
    dense, joint = _state(dense_exp / MODEL), _state(exp / MODEL)
    assert not torch.equal(
        joint["decoder.output_layer.weight"], dense["decoder.output_layer.weight"]
    )
    assert int(joint["gating.predictor.num_updates"]) > 0
    # ESPnet's reporter logs every group's lr: backbone, then gates.
    lrs = [
        float(re.search(rf"optim0_lr{group}=([0-9.e-]+)", log)[1]) for group in (0, 1)
    ]
    assert lrs[1] / lrs[0] == pytest.approx(0.05 / 0.002, rel=0.02)


def test_dense_model_file_decodes_the_baseline_beside_the_gated_model(
    corpus, dense_exp, joint_run, tmp_path
):
    """Dense lines use the baseline's weights, predicted lines the joint model's;
    three timing rounds keep the first round's outputs and time each round."""
    exp, _ = joint_run
    wav_scp = corpus.test_dir / "wav.scp"
    decode_list = tmp_path / "decode.list"
    decode_list.write_text(
        f"{tmp_path / 'gated'} {wav_scp} - fra asr predicted\n"
        f"{tmp_path / 'dense'} {wav_scp} - fra asr dense\n"
    )
    run_inference(
        exp,
        "--decode_list",
        str(decode_list),
        "--dense_model_file",
        str(dense_exp / MODEL),
        "--beam_size",
        "2",
        "--timing_rounds",
        "3",
    )
    for out in ("dense", "gated"):
        timing = json.loads((tmp_path / out / "timing.json").read_text())
        assert len(timing["rounds"]) == 3 and min(timing["rounds"]) > 0
        assert timing["seconds"] == sorted(timing["rounds"])[1]
    stock = ESPnetSpeech2Text(dense_exp / "config.yaml", dense_exp / MODEL, beam_size=2)
    gated = Speech2Text(exp / "config.yaml", exp / MODEL, beam_size=2)
    written = {out: _scores(tmp_path / out) for out in ("dense", "gated")}
    for line in open(wav_scp):
        key, wav = line.split()
        audio, _ = sf.read(wav, dtype="float32")
        for out, model in (("dense", stock), ("gated", gated)):
            best = model(audio, lang_sym="<fra>", task_sym="<asr>")[0]
            assert written[out][key] == pytest.approx(float(best[4].score), abs=1e-3)
    assert written["dense"] != written["gated"]


def _scores(decode_dir: Path) -> dict:
    """``1best_recog/score``, written as ``str(tensor)`` (4 decimals)."""
    lines = (decode_dir / "1best_recog" / "score").read_text().splitlines()
    return {
        key: float(value.removeprefix("tensor(").removesuffix(")"))
        for key, value in (line.split(" ", 1) for line in lines)
    }


def test_dense_model_file_with_a_model_tag_is_refused(dense_exp, tmp_path):
    with pytest.raises(ValueError, match="--dense_model_file goes with"):
        s2t_inference.main(
            [
                "--model_tag",
                str(tmp_path / "packed"),
                "--dense_model_file",
                str(dense_exp / MODEL),
                "--output_dir",
                str(tmp_path / "out"),
                "--data_path_and_name_and_type",
                "wav.scp,speech,sound",
            ]
        )


def test_predicted_mode_reports_active_modules(corpus, gated_run):
    exp, _ = gated_run
    s2t = Speech2Text(exp / "config.yaml", exp / MODEL, beam_size=2)
    audio, _ = sf.read(
        next(open(corpus.test_dir / "wav.scp")).split()[1], dtype="float32"
    )
    s2t(audio, lang_sym="<deu>", task_sym="<st_eng>")
    active = s2t.active_modules()
    assert set(active) == {"encoder", "decoder"}
    with pytest.raises(ValueError, match="unknown lang symbol '<xyz>'"):
        s2t(audio, lang_sym="<xyz>", task_sym="<asr>")


def test_checkpoint_without_gate_weights_is_an_error(dense_exp, gated_run):
    exp, _ = gated_run
    with pytest.raises(ValueError, match="no gate predictor weights"):
        Speech2Text(exp / "config.yaml", dense_exp / MODEL, gate_mode="predicted")
    # dense mode only needs the backbone
    Speech2Text(exp / "config.yaml", dense_exp / MODEL, gate_mode="dense")


def test_stock_config_is_refused(dense_exp):
    with pytest.raises(ValueError, match="model: dynprune"):
        Speech2Text(dense_exp / "config.yaml", dense_exp / MODEL)


def test_gated_config_keeps_every_stock_option(gated_run):
    exp, _ = gated_run
    config = yaml.safe_load((exp / "config.yaml").read_text())
    dense = yaml.safe_load(DENSE_CONFIG.read_text())
    assert config["encoder"] == "gated_e_branchformer"
    assert config["decoder"] == "gated_transformer"
    for key, value in dense["encoder_conf"].items():
        assert config["encoder_conf"][key] == value


def test_killed_training_resumes_from_its_checkpoint(corpus, tmp_path):
    exp = tmp_path / "exp"
    args = [
        sys.executable,
        "-m",
        "espnet_dynprune.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, DENSE_CONFIG, exp, max_epoch=2),
        "--resume",
        "true",
    ]
    first = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    try:
        # ESPnet writes checkpoint.pth before 1epoch.pth at the end of epoch 1.
        deadline = time.monotonic() + 300
        while not (exp / "1epoch.pth").exists():
            assert first.poll() is None, "training ended before its first epoch"
            assert time.monotonic() < deadline, "no epoch finished in 300 s"
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        first.kill()
        first.wait()
    assert not (exp / "2epoch.pth").exists(), "killed too late to test a resume"

    second = subprocess.run(args, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr[-4000:]
    assert "The training was resumed using" in second.stderr
    assert "1epoch results" not in second.stderr
    assert "2epoch results" in second.stderr
    assert (exp / "2epoch.pth").exists()
