"""The benchmark command runs and reports side-by-side ratios (not a speed test)."""

import json
import subprocess
import sys

import pytest
import torch

from espnet_dynprune.eval.benchmark import (
    SHAPES,
    build_models,
    pattern_mask,
    supports_batch_decode,
)

from helpers.model_factory import write_gated_model

pytestmark = pytest.mark.slow


def run_short_benchmark(*args: str) -> subprocess.CompletedProcess:
    """``python -m espnet_dynprune.bin.benchmark --short ARGS``; it must succeed."""
    cmd = [sys.executable, "-m", "espnet_dynprune.bin.benchmark", "--short", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_short_benchmark_writes_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    result = run_short_benchmark("--out", str(out))
    assert "## tiny, 1 s, 2 steps, beam 2" in result.stdout
    (entry,) = json.loads(out.read_text())["results"]
    assert (entry["seconds"], entry["steps"], entry["beam"]) == (1.0, 2, 2)
    rows = entry["rows"]
    by_name = {row["setting"]: row for row in rows}
    assert {"stock", "dense", "dec 0.5", "joint 0.5"} <= set(by_name)
    assert by_name["dense"]["time_red_vs_dense"] == 0.0
    # FLOPs are counted, not timed: pruning and the source cache both remove work
    assert by_name["dec 0.5"]["flops"] < by_name["dense"]["flops"]
    assert by_name["dense"]["flops"] < by_name["stock"]["flops"]
    joint = [by_name[f"joint {s}"]["flops"] for s in (0.5, 0.75, 0.9)]
    assert joint == sorted(joint, reverse=True) and len(set(joint)) == 3
    vs_stock = [by_name[n]["flops_red_vs_stock"] for n in ("dense", "joint 0.9")]
    assert 0 < vs_stock[0] < vs_stock[1]  # the caches, then pruning on top
    # the decode of stock, dense and joint 0.5 split into its parts
    for name, row in by_name.items():
        parts = row["time_parts"]
        assert (parts is not None) == (name in ("stock", "dense", "joint 0.5")), name
    assert "seconds per part of one decode" in result.stdout
    assert "round 1 of 1:" in result.stderr  # progress while the rounds run
    assert by_name["dense, no cache"]["flops"] == by_name["stock"]["flops"]
    # the self-attention cache projects one position per step, not the prefix
    assert (
        by_name["dense"]["flops"]
        < by_name["dense, no self-attn cache"]["flops"]
        < by_name["dense, no cache"]["flops"]
    )
    # an export keeps fewer weights; every decode allocates some tensor memory
    assert by_name["joint 0.5"]["weight_bytes"] < by_name["dense"]["weight_bytes"]
    assert by_name["dense"]["weight_bytes"] == by_name["stock"]["weight_bytes"]
    assert all(row["peak_bytes"] > 0 for row in rows)
    # ESPnet's dynamic int8 quantization decodes with gates; no FLOPs counted
    int8 = by_name["joint 0.5 int8"]
    assert int8["time_s"] > 0 and int8["flops"] is None and int8["quotient"] is None
    assert "joint 0.5 int8" in result.stdout
    batched = json.loads(out.read_text())["batched"][0]["rows"]
    by_name = {row["setting"]: row for row in batched}
    assert by_name["pruned, grouped"]["flops"] < by_name["dense, batched"]["flops"]
    assert "## tiny, encoder only, 2 utterances" in result.stdout


def test_short_benchmark_of_a_saved_model_has_a_row_per_context(tmp_path):
    """Its predictor closes modules in every context (see ``write_gated_model``)."""
    _, model_file = write_gated_model(tmp_path)
    out = tmp_path / "bench.json"
    result = run_short_benchmark(
        "--model_dir", str(tmp_path), "--model_file", model_file.name, "--out", str(out)
    )
    assert f"## {tmp_path}, 1 s, 2 steps, beam 2" in result.stdout
    (entry,) = json.loads(out.read_text())["results"]
    by_name = {row["setting"]: row for row in entry["rows"]}
    contexts = {
        f"predicted {lang}/{task}"
        for lang in ("eng", "deu", "fra")
        for task in ("asr", "st_eng")
    }
    assert set(by_name) == {"stock", "dense", *contexts}
    dense = by_name["dense"]
    assert dense["flops"] < by_name["stock"]["flops"]
    assert dense["weight_bytes"] == by_name["stock"]["weight_bytes"]
    for name in contexts:
        assert by_name[name]["flops"] < dense["flops"], name
        assert by_name[name]["weight_bytes"] < dense["weight_bytes"], name


def test_pattern_mask_closes_the_requested_fraction():
    mask = pattern_mask(6, 3, 0.5, seed=1)
    assert mask.shape == (6, 3) and int((mask == 0).sum()) == 9
    assert torch.equal(mask, pattern_mask(6, 3, 0.5, seed=1))


def test_models_share_weights():
    models = build_models(SHAPES["tiny"])
    stock, gated = models["stock"].state_dict(), models["gated"].state_dict()
    for key, value in stock.items():
        assert torch.equal(gated[key], value), key


def test_an_unreadable_wav_is_named_before_any_model_loads(tmp_path):
    wav = tmp_path / "speech.wav"
    wav.write_bytes(b"not audio")
    cmd = [sys.executable, "-m", "espnet_dynprune.bin.benchmark"]
    cmd += ["--model_dir", str(tmp_path / "no_model"), "--wav", str(wav)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert f"error: {wav}: cannot read audio" in result.stderr


def test_short_batch_decode_table_or_a_clear_refusal(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "espnet_dynprune.bin.benchmark", "--short"]
    cmd += ["--batch", "0", "--batch_decode", "2", "--out", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if not supports_batch_decode():
        assert result.returncode == 2
        assert "--batch_decode needs espnet 202611 or newer" in result.stderr
        return
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## tiny, decoding 2 utterances of 2 contexts" in result.stdout
    rows = json.loads(out.read_text())["batch_decode"][0]["rows"]
    assert [row["setting"] for row in rows] == [
        f"{model}, {way}"
        for model in ("stock", "dense", "joint 0.5")
        for way in ("1 at a time", "batch decode")
    ]
    assert all(row["same_hypotheses"] for row in rows)
    by_name = {row["setting"]: row for row in rows}
    for row in rows:  # ratios of the times in the same table
        single = by_name[row["setting"].replace("batch decode", "1 at a time")]
        assert row["speedup_vs_single"] == single["time_s"] / row["time_s"]
    assert by_name["stock, batch decode"]["speedup_vs_stock"] == 1.0
