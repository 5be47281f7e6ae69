"""The default recipe's run.sh, every stage (upload as a dry run), on a very
small corpus (``recipe_run`` in conftest.py): stages, entry points and outputs fit."""

import json

import pytest
import yaml

from helpers.recipe_run import run_recipe

pytestmark = pytest.mark.slow


def test_data_stage_makes_every_test_set(recipe_run):
    tmp, _ = recipe_run
    test_sets = sorted(p.name for p in (tmp / "data").glob("test_*"))
    assert len(test_sets) == 9  # ASR in 5 languages, ST from 4 into English


def test_test_sets_are_decoded_in_both_modes(recipe_run):
    tmp, _ = recipe_run
    model = tmp / "exp" / "s2t_gated_dec0.5"
    for mode in ("predicted", "dense"):
        for test_set in ("test_deu_asr", "test_deu_st_eng"):
            out = model / f"decode_{mode}" / test_set
            timing = json.loads((out / "timing.json").read_text())
            assert len(timing["rounds"]) == 2  # --timing_rounds 2, interleaved
            keys = (tmp / "data" / test_set / "text").read_text().split("\n")
            hyps = (out / "1best_recog" / "text").read_text().split("\n")
            assert len(hyps) == len(keys)


def test_gated_stage_distills_from_the_dense_baseline(recipe_run):
    tmp, _ = recipe_run
    gated = tmp / "exp" / "s2t_gated_dec0.5"
    config = yaml.safe_load((gated / "config.yaml").read_text())
    distill = config["model_conf"]["distill_conf"]
    assert distill["teacher_config"] == str(tmp / "exp" / "s2t_dense" / "config.yaml")
    assert distill["teacher_model_file"].endswith("s2t_dense/valid.acc.ave.pth")
    log = (gated / "train.log").read_text()
    assert "distillation teacher:" in log and "loss_distill_att=" in log


def test_report_is_written_and_printed(recipe_run):
    tmp, log = recipe_run
    report = tmp / "report"
    results = json.loads((report / "results.json").read_text())
    dense, gated = "s2t_gated_dec0.5/decode_dense", "s2t_gated_dec0.5/decode_predicted"
    assert set(results) == {dense, gated}
    for model in (dense, gated):
        metrics = {r["test_set"]: r["metric"] for r in results[model]}
        assert set(metrics) == {"test_deu_asr", "test_deu_st_eng"}
        assert metrics["test_deu_st_eng"] == "BLEU"
        assert metrics["test_deu_asr"] == "WER"
    assert all(r["sparsity"] for r in results[gated])  # measured from the gates
    assert not any(r["sparsity"] for r in results[dense])
    assert (report / "gates_s2t_gated_dec0.5_decode_predicted.png").is_file()
    assert "## Averages" in log  # stage 7 prints RESULTS.md


def test_rerunning_finished_stages_is_safe(recipe_run):
    tmp, _ = recipe_run
    log = run_recipe(tmp, "--stage", "1", "--stop_stage", "1")
    assert "Skip:" in log
    log = run_recipe(tmp, "--stage", "5", "--stop_stage", "6")
    gated = tmp / "exp" / "s2t_gated_dec0.5"
    assert "already reached at max_epoch" in (gated / "train.log").read_text()
    assert "1epoch results" in (gated / "train.log.1").read_text()  # kept
    assert "1epoch results" in log  # the summary line, from the earlier log
    assert "stage 6: decoding" not in log


def test_pack_stage_writes_zip_and_dry_run_lists_it(recipe_run):
    tmp, log = recipe_run
    packed = tmp / "exp" / "packed" / "s2t_gated_dec0.5"
    assert (packed.parent / f"{packed.name}.zip").is_file()
    assert (packed / "README.md").is_file() and (packed / "meta.yaml").is_file()
    config = next(packed.glob("exp/*/config.yaml"))
    assert "distill_conf" not in yaml.safe_load(config.read_text())["model_conf"]
    assert "someone/tiny" in log and "README.md" in log
