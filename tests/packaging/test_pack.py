"""Packing a trained gated model, and loading it back from the zip or a directory."""

import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import soundfile as sf
import yaml
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text
from huggingface_hub import ModelCard

from espnet_dynprune import Speech2Text
from espnet_dynprune.io.locate import CACHE_ENV, resolve_pretrained
from espnet_dynprune.io.package import FORMAT_VERSION, SIDECAR, read_package
from espnet_dynprune.packaging.pack import pack_model

from helpers.pack_fixtures import (  # noqa: F401  (fixtures)
    CONTEXTS,
    MODEL,
    ToyPackage,
    corpus_fixture,
    decode,
    dense_exp_fixture,
    gated_run_fixture,
    load,
    toy_fixture,
)
from helpers.trained_toy import run

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Unpacked archives and rewritten configs go to a fresh directory."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


def test_package_holds_espnet_files_and_gate_artefacts(toy: ToyPackage):
    model = f"exp/{toy.gated_exp.name}"
    names = set(zipfile.ZipFile(toy.zip).namelist())
    assert {
        "meta.yaml",
        SIDECAR,
        "README.md",
        "RESULTS.md",
        "results.json",
        f"gates_{toy.gated_exp.name}_decode_predicted.png",
        f"{model}/config.yaml",
        f"{model}/{MODEL}",
        "data/token_list/bpe.model",
        "data/token_list/tokens.txt",
    } == names
    config = yaml.safe_load((toy.directory / model / "config.yaml").read_text())
    assert config["bpemodel"] == "data/token_list/bpe.model"
    info = read_package(toy.directory)
    assert (info.format_version, info.gate_weights) == (FORMAT_VERSION, True)


def test_model_card_has_hub_metadata_and_results(toy: ToyPackage):
    card = ModelCard.load(toy.directory / "README.md")
    assert card.data.library_name == "espnet"
    assert card.data.license == "cc-by-4.0"
    assert card.data.language == ["deu", "fra"]
    assert {
        "espnet_dynprune",
        "automatic-speech-recognition",
        "speech-translation",
    } <= set(card.data.tags)
    assert "| test_fra_asr | WER | 45.6 | 47.8 |" in card.text
    assert "| test_fra_asr | 0.19 | 0.33 | 0.27 | 2.0 | 1.0 | -50.0% |" in card.text
    assert "pip install espnet_dynprune" in card.text
    assert 'Speech2Text.from_pretrained(\n    "owner/toy"' in card.text


@pytest.mark.parametrize("source", ["zip", "directory"])
def test_packed_model_decodes_like_the_trained_one(toy: ToyPackage, source):
    before = [p.read_bytes() for p in sorted(toy.directory.rglob("*.yaml"))]
    s2t = load(str(toy.zip if source == "zip" else toy.directory))
    assert decode(s2t, toy.wavs) == toy.reference
    # the package is read, never rewritten
    assert before == [p.read_bytes() for p in sorted(toy.directory.rglob("*.yaml"))]


def test_espnet_own_class_loads_the_resolved_files(toy: ToyPackage):
    kwargs = resolve_pretrained(toy.zip)
    s2t = ESPnetSpeech2Text(**kwargs, beam_size=2, nbest=2)
    texts = []
    for wav in toy.wavs:
        audio, _ = sf.read(wav, dtype="float32")
        for lang, task in CONTEXTS:
            # ESPnet's class does not set the model's context itself
            s2t.s2t_model.set_inference_context(lang, task, "predicted")
            texts.append([r[0] for r in s2t(audio, lang_sym=lang, task_sym=task)])
    assert texts == [texts for _, _, texts in toy.reference]


def test_weights_without_gates_are_refused_unless_dense_only(toy: ToyPackage, tmp_path):
    config, dense_weights = toy.gated_exp / "config.yaml", toy.dense_exp / MODEL
    with pytest.raises(ValueError, match=rf"{MODEL}: no gate predictor weights"):
        pack_model(config, dense_weights, tmp_path / "dense.zip")
    out_dir = tmp_path / "dense"
    pack_model(
        config, dense_weights, tmp_path / "dense.zip", dense_only=True, out_dir=out_dir
    )
    assert read_package(out_dir).gate_weights is False
    with pytest.raises(ValueError, match="no gate predictor weights"):
        Speech2Text.from_pretrained(str(out_dir))
    Speech2Text.from_pretrained(str(out_dir), gate_mode="dense")


def test_stock_config_is_refused(toy: ToyPackage, tmp_path):
    config = toy.dense_exp / "config.yaml"
    with pytest.raises(ValueError, match="config.yaml: model is 'espnet'"):
        pack_model(config, toy.dense_exp / MODEL, tmp_path / "x.zip")


def test_newer_package_format_is_refused(toy: ToyPackage, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(toy.directory, copy)
    sidecar = yaml.safe_load((copy / SIDECAR).read_text())
    sidecar["format_version"] = FORMAT_VERSION + 1
    (copy / SIDECAR).write_text(yaml.safe_dump(sidecar))
    with pytest.raises(ValueError, match="newer than this espnet_dynprune .* pip"):
        Speech2Text.from_pretrained(str(copy))


@pytest.mark.parametrize("missing", [SIDECAR, "meta.yaml", "weights"])
def test_missing_file_is_named(toy: ToyPackage, tmp_path, missing):
    copy = tmp_path / "copy"
    shutil.copytree(toy.directory, copy)
    if missing == "weights":
        missing = read_package(copy).files["s2t_model_file"]
    (copy / missing).unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(copy / missing))):
        Speech2Text.from_pretrained(str(copy))


def test_unknown_model_tag(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Hub repository id"):
        Speech2Text.from_pretrained(str(tmp_path / "nothing" / "here"))


def test_pack_command(toy: ToyPackage, tmp_path):
    out = tmp_path / "cli.zip"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "espnet_dynprune.bin.pack",
            "--s2t_train_config",
            str(toy.gated_exp / "config.yaml"),
            "--s2t_model_file",
            str(toy.gated_exp / MODEL),
            "--report_dir",
            str(toy.report_dir),
            "--out",
            str(out),
            "--license",
            "apache-2.0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    card = zipfile.ZipFile(out).read("README.md").decode()
    assert "license: apache-2.0" in card


def test_decoding_command_takes_a_model_tag(toy: ToyPackage, tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text("".join(f"utt{i} {wav}\n" for i, wav in enumerate(toy.wavs)))
    out = tmp_path / "decode"
    run(
        "espnet_dynprune.bin.s2t_inference",
        "--model_tag", str(toy.zip),
        "--data_path_and_name_and_type", f"{scp},speech,sound",
        "--lang_sym", "deu",
        "--task_sym", "st_eng",
        "--beam_size", "2",
        "--nbest", "2",
        "--output_dir", str(out),
    )  # fmt: skip
    got = [
        [
            (out / f"{n}best_recog" / "text")
            .read_text()
            .splitlines()[i]
            .split(" ", 1)[1]
            for n in (1, 2)
        ]
        for i in range(len(toy.wavs))
    ]
    want = [texts for context, _, texts in toy.reference if context == "<deu><st_eng>"]
    assert got == want
