"""egs2/europarl_st/s2t1 on a tiny corpus in Europarl-ST's published layout.

The fixture's talks are AAC in MP4 (``.m4a``, as the real corpus), written with
FFmpeg's AAC encoder through PyAV and decoded back by the recipe. The later
stages start from a tiny random OWSM-shaped model (OWSM's token-list layout,
preprocessor, global_mvn statistics), saved as ESPnet saves models.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
import torch

from espnet_dynprune.data.audio import AudioReadError
from espnet_dynprune.data.europarl_st import prepare_europarl_st
from espnet_dynprune.data.token_list import build_token_list
from espnet_dynprune.io.checkpoint import load_state_dict_safely

from helpers.owsm_factory import owsm_stock_config, save_espnet_model
from helpers.toy_helpers import REPO_ROOT, read_kaldi_file

pytestmark = pytest.mark.slow

RECIPE = REPO_ROOT / "egs2" / "europarl_st" / "s2t1"
TEMPLATE = REPO_ROOT / "egs2" / "TEMPLATE" / "s2t1"
RATE = 44100  # the corpus's talks are not 16 kHz
SEGMENTS = ((0.2, 1.4), (1.5, 2.6), (2.7, 3.8))
WORDS = {
    "de": ["das haus ist rot", "wir stimmen ab", "der bericht ist gut"],
    "fr": ["la maison est rouge", "nous votons", "le rapport est bon"],
    "it": ["la casa è rossa", "votiamo ora", "la relazione è buona"],
    "en": ["the house is red", "we vote now", "the report is good"],
}
SPLITS = ("train", "dev", "test")
TINY = dict(
    encoder_conf=dict(
        output_size=32,
        attention_heads=2,
        linear_units=64,
        cgmlp_linear_units=64,
        num_blocks=2,
    ),
    decoder_conf=dict(attention_heads=2, linear_units=64, num_blocks=2),
)


def write_m4a(path: Path, audio: np.ndarray, rate: int = RATE) -> None:
    """Encode mono float audio as AAC in an MP4 container (a real ``.m4a``)."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(audio[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def make_corpus(root: Path, langs=("de", "fr", "it")) -> Path:
    """One 4 s talk per language and split, three segments each."""
    rng = np.random.default_rng(0)
    t = np.arange(4 * RATE) / RATE
    for number, src in enumerate(langs):
        (root / src / "audios").mkdir(parents=True)
        for index, split in enumerate(SPLITS):
            talk = f"{src}.2009011{index}.18.3-0{number}{index}"
            tone = 0.2 * np.sin(2 * np.pi * (200 + 50 * index) * t)
            audio = (tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
            write_m4a(root / src / "audios" / f"{talk}.m4a", audio)
            split_dir = root / src / "en" / split
            split_dir.mkdir(parents=True)
            (split_dir / "segments.lst").write_text(
                "".join(f"{talk} {a:.2f} {b:.2f}\n" for a, b in SEGMENTS)
            )
            for lang in (src, "en"):
                (split_dir / f"segments.{lang}").write_text(
                    "\n".join(WORDS[lang]) + "\n", encoding="utf-8"
                )
    return root


def _env(corpus: Path) -> dict:
    return {
        **os.environ,
        "EUROPARL_ST": str(corpus),
        "OMP_NUM_THREADS": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


def run_recipe(recipe: Path, corpus: Path, *args: str) -> str:
    result = subprocess.run(
        ["./run.sh", *args],
        cwd=recipe,
        env=_env(corpus),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("europarl_st") / "v1.1")


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, corpus) -> Path:
    """A copy of the recipe after stages 1-2 (data preparation and checks)."""
    recipe = tmp_path_factory.mktemp("recipe") / "s2t1"
    shutil.copytree(RECIPE, recipe, symlinks=True)
    for link in ("dynprune.sh", "utils"):
        (recipe / link).unlink()
        (recipe / link).symlink_to(TEMPLATE / link)
    log = run_recipe(recipe, corpus, "--stage", "1", "--stop_stage", "2")
    assert "data directories are usable" in log
    return recipe


def test_data_dirs_in_owsm_format(recipe):
    data = recipe / "data"
    names = sorted(p.name for p in data.iterdir() if p.is_dir() and p.name != "wav")
    tests = [
        f"test_{lang}_{task}"
        for lang in ("deu", "fra", "ita")
        for task in ("asr", "st_eng")
    ]
    assert names == sorted(["dev", "train", *tests])
    text = read_kaldi_file(data / "train" / "text")
    assert len(text) == 3 * 3 * 2  # languages x segments x tasks
    utt = "de.20090110.18.3-000-0000020-0000140"
    assert text[f"{utt}-asr"] == "<deu><asr><notimestamps> das haus ist rot"
    assert text[f"{utt}-st"] == "<deu><st_eng><notimestamps> the house is red"
    assert read_kaldi_file(data / "train" / "text_ctc")[f"{utt}-st"] == (
        "das haus ist rot"
    )
    assert set(read_kaldi_file(data / "train" / "text_prev").values()) == {"<na>"}
    assert read_kaldi_file(data / "train" / "utt2lang")[f"{utt}-st"] == "deu"
    assert read_kaldi_file(data / "train" / "utt2task")[f"{utt}-st"] == "st_eng"
    test = read_kaldi_file(data / "test_ita_st_eng" / "text")
    assert all(v.startswith("<ita><st_eng><notimestamps> ") for v in test.values())
    wavs = read_kaldi_file(data / "train" / "wav.scp")
    samples = read_kaldi_file(data / "train" / "utt2num_samples")
    for key, path in wavs.items():
        info = sf.info(path)
        assert info.samplerate == 16000 and info.format == "FLAC"
        assert info.frames == int(samples[key])
    assert int(samples[f"{utt}-asr"]) == round(1.2 * 16000)


def test_segments_are_cut_from_the_decoded_talk(recipe):
    """The FLAC segment holds the talk's tone (200 Hz for train), not silence."""
    wav = read_kaldi_file(recipe / "data" / "train" / "wav.scp")
    audio, rate = sf.read(next(iter(wav.values())))
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * rate / len(audio) - 200) < 5
    assert 0.1 < np.sqrt(np.mean(audio**2)) < 0.2  # 0.2 amplitude sine: 0.14 RMS


def test_undecodable_talk_is_named(tmp_path):
    corpus = make_corpus(tmp_path / "v1.1", langs=("de",))
    broken = next((corpus / "de" / "audios").glob("*.m4a"))
    broken.write_bytes(b"\0" * 100)
    with pytest.raises(AudioReadError, match=str(broken)):
        prepare_europarl_st(corpus, tmp_path / "data", langs=["de"])


def test_missing_split_file_is_named(tmp_path):
    corpus = make_corpus(tmp_path / "v1.1", langs=("fr",))
    (corpus / "fr" / "en" / "dev" / "segments.en").unlink()
    with pytest.raises(ValueError, match="dev/segments.en: missing"):
        prepare_europarl_st(corpus, tmp_path / "data", langs=["fr"])


def test_gate_training_decoding_and_scoring_from_owsm(recipe, corpus, tmp_path):
    """Stages 3-7 with --init_model: convert, train gates (frozen), decode, score."""
    tokens, bpe = build_token_list(
        recipe / "data" / "train", tmp_path / "tok", 40, 30.0, 0.02
    )
    saved = save_espnet_model(
        tmp_path / "owsm",
        owsm_stock_config("base", **TINY),
        tokens.read_text(encoding="utf-8").split(),
        bpe_model=bpe,
    )
    log = run_recipe(
        recipe,
        corpus,
        "--stage", "3",
        "--stop_stage", "7",
        "--init_model", str(saved.root),
        "--targets", "0.5",
        "--test_sets", "test_deu_st_eng",  # one set: each decode is a process
        "--nj", "1",
        "--timing_rounds", "1",
        "--gated_args", "--max_epoch 1 --batch_size 6 --num_workers 0",
        "--decode_args", "--beam_size 1 --maxlenratio -3",
    )  # fmt: skip
    assert "stage 3: skipped" in log
    init = load_state_dict_safely(recipe / "exp" / "s2t_init" / "init.pth")
    trained = load_state_dict_safely(
        recipe / "exp" / "s2t_gated_dec0.5" / "valid.acc.ave.pth"
    )
    for key, value in load_state_dict_safely(saved.root / saved.model_file).items():
        assert torch.equal(init[key], value), key  # conversion keeps the weights
        assert torch.equal(trained[key], value.to(trained[key].dtype)), key  # frozen
    assert int(trained["gating.predictor.num_updates"]) > 0
    report = (recipe / "RESULTS.md").read_text()
    assert "| test_deu_st_eng | BLEU |" in report
    decode = recipe / "exp" / "s2t_gated_dec0.5" / "decode_predicted"
    assert (decode / "test_deu_st_eng" / "1best_recog" / "gates").is_file()
