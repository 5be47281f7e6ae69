"""Recipe steps without training: data checks, token list, scoring, report."""

import json
import subprocess
import sys

import espnet
import jiwer
import numpy as np
import pytest
import sentencepiece as spm
import soundfile as sf
import torch

import espnet_dynprune
from espnet_dynprune.bin.score import dense_reference
from espnet_dynprune.data.audio import AudioReadError, read_mono_audio
from espnet_dynprune.data.check_data import check_data_dir
from espnet_dynprune.data.token_list import build_token_list
from espnet_dynprune.eval import report
from espnet_dynprune.eval.report import summarize_model, write_report
from espnet_dynprune.eval.scoring import (
    DecodeScore,
    normalize,
    read_decode_options,
    read_gates,
    score_decode_dir,
)

UTTS = {
    "u1": ("<deu><st_eng><notimestamps> the red house is old", "das rote haus"),
    "u2": ("<deu><st_eng><notimestamps> the green tree is tall", "der gruene baum"),
    "u3": ("<eng><asr><notimestamps> a small dog", "a small dog"),
}


def write_dir(path, utts=UTTS, audio=True):
    path.mkdir(parents=True, exist_ok=True)
    files = {
        n: [] for n in ("wav.scp", "text", "text_prev", "text_ctc", "utt2num_samples")
    }
    for key, (text, ctc) in sorted(utts.items()):
        wav = path / f"{key}.wav"
        if audio:
            sf.write(wav, np.full(1600, 0.1, dtype="float32"), 16000)
        files["wav.scp"].append(f"{key} {wav}")
        files["text"].append(f"{key} {text}")
        files["text_prev"].append(f"{key} <na>")
        files["text_ctc"].append(f"{key} {ctc}")
        files["utt2num_samples"].append(f"{key} 1600")
    for name, lines in files.items():
        (path / name).write_text("\n".join(lines) + "\n")
    return path


def test_usable_dir_has_no_problems(tmp_path):
    assert check_data_dir(write_dir(tmp_path / "d")) == []


def test_bad_entries_are_named(tmp_path):
    bad = dict(UTTS)
    bad["u4"] = ("<fra><asr><notimestamps> ", "")
    data = write_dir(tmp_path / "d", bad)
    (data / "u1.wav").write_bytes(b"not audio")
    problems = "\n".join(check_data_dir(data))
    assert "u4: empty transcript" in problems
    assert "u1" in problems and "u1.wav" in problems


def test_nan_short_and_long_audio_are_named(tmp_path):
    data = write_dir(tmp_path / "d")
    nan = np.full(1600, 0.1, dtype="float32")
    nan[::100] = np.nan
    sf.write(data / "u1.wav", nan, 16000, subtype="FLOAT")
    sf.write(data / "u2.wav", np.full(800, 0.1, dtype="float32"), 16000)
    sf.write(data / "u3.wav", np.full(16000, 0.1, dtype="float32"), 16000)
    problems = check_data_dir(data, max_seconds=0.5)
    assert problems == [
        f"{data}/wav.scp:1: u1: {data}/u1.wav: 16 of 1600 samples are NaN or infinite",
        f"{data}/wav.scp:2: u2: {data}/u2.wav: 0.050 s of audio, shorter than "
        "--min_seconds 0.1",
        f"{data}/wav.scp:3: u3: {data}/u3.wav: 1.00 s of audio, longer than "
        "--max_seconds 0.5 (ESPnet's S2T preprocessor would cut it off)",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "espnet_dynprune.bin.check_data", str(data)]
        + ["--min_seconds", "0.01", "--max_seconds", "2"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == problems[0]


def test_read_mono_audio_names_the_file_and_the_fault(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, np.full(160, 0.1, dtype="float32"), 16000)
    assert read_mono_audio(good, 16000).shape == (160,)
    faults = {
        "corrupt.wav": "cannot read audio",
        "empty.wav": "empty audio",
        "stereo.wav": "expected mono 16000 Hz",
        "slow.wav": "8000 Hz audio",
    }
    (tmp_path / "corrupt.wav").write_bytes(b"not audio")
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype="float32"), 16000)
    sf.write(tmp_path / "stereo.wav", np.zeros((160, 2), dtype="float32"), 16000)
    sf.write(tmp_path / "slow.wav", np.zeros(160, dtype="float32"), 8000)
    for name, fault in faults.items():
        with pytest.raises(AudioReadError, match=fault) as error:
            read_mono_audio(tmp_path / name, 16000)
        assert str(tmp_path / name) in str(error.value)


def test_word_bounds_are_checked(tmp_path):
    data = write_dir(tmp_path / "d")
    lines = [
        "u1 0 400 400 800 800 1600",  # good: 3 words
        "u2 0 400 800 400 900 1000",  # out of order
        "u3 0 400 400 800 800 2000",  # past the 1600-sample audio
    ]
    (data / "word_bounds").write_text("\n".join(lines) + "\n")
    problems = check_data_dir(data)
    assert len(problems) == 2
    assert "word_bounds:2: u2: bounds out of order" in problems[0]
    assert "word_bounds:3: u3: bounds past the audio (1600 samples)" in problems[1]
    (data / "word_bounds").write_text("u1 0 400\nu2 0 1\nu3 0 x\n")
    problems = "\n".join(check_data_dir(data))
    assert "u1: 2 values for 3 words" in problems and "u3: not integers" in problems
    (data / "word_bounds").write_text("u1 0 400 400 800 800 1600\n")
    assert "utterance ids differ from text_ctc ['u2', 'u3']" in check_data_dir(data)[0]


def test_token_list_keeps_special_symbols_whole(tmp_path):
    data = write_dir(tmp_path / "train", audio=False)
    tokens, model = build_token_list(data, tmp_path / "tok", 20, 1.0, 0.5)
    token_list = tokens.read_text().split()
    for symbol in (
        "<blank>",
        "<unk>",
        "<na>",
        "<deu>",
        "<eng>",
        "<asr>",
        "<st_eng>",
        "<notimestamps>",
        "<0.00>",
        "<1.00>",
        "<sos>",
        "<eos>",
        "<sop>",
    ):
        assert symbol in token_list, symbol
    pieces = spm.SentencePieceProcessor(model_file=str(model)).encode(
        "<deu><st_eng><notimestamps> the red house", out_type=str
    )
    # ESPnet's S2T preprocessor drops the leading "▁": text[:, 0] is the language
    assert pieces[:4] == ["▁", "<deu>", "<st_eng>", "<notimestamps>"]


def test_token_list_rejects_text_without_prefix(tmp_path):
    data = write_dir(tmp_path / "train", {"u1": ("hello", "hello")}, audio=False)
    with pytest.raises(ValueError, match="text:1"):
        build_token_list(data, tmp_path / "tok", 20, 1.0, 0.5)


def test_normalize():
    assert normalize("<eng><asr><notimestamps> Hello, World!") == "hello world"


def _decode_dir(path, hyps, gates=None, seconds=2.0, options=None, rounds=None):
    (path / "1best_recog").mkdir(parents=True)
    (path / "1best_recog" / "text").write_text(
        "\n".join(f"{k} {v}" for k, v in hyps.items()) + "\n"
    )
    if gates:
        (path / "1best_recog" / "gates").write_text("\n".join(gates) + "\n")
    timing = {"utterances": len(hyps), "seconds": seconds}
    if rounds is not None:
        timing["rounds"] = rounds
    if options is not None:
        timing["options"] = options
    (path / "timing.json").write_text(json.dumps(timing))
    return path


def test_scores_bleu_sparsity_and_report(tmp_path):
    st = {k: v for k, v in UTTS.items() if "st_eng" in v[0]}
    data = write_dir(tmp_path / "data" / "test_deu_st_eng", st, audio=False)
    gates = [
        "u1 encoder=1111 1011 decoder=111 010",
        "u2 encoder=1111 1111 decoder=111 000",
    ]
    decode = _decode_dir(
        tmp_path / "exp" / "m" / "decode_predicted" / "test_deu_st_eng",
        {"u1": "the red house is old", "u2": "the green tree is tall"},
        gates,
    )
    flops = {"encoder": np.array([1.0, 2.0, 1.0, 1.0]), "decoder": np.ones(3)}
    score = score_decode_dir(decode, data, flops)
    assert score.metric == "BLEU" and score.score == pytest.approx(100.0)
    assert score.sparsity["decoder"] == pytest.approx(5 / 12)
    assert score.sparsity["encoder"] == pytest.approx(1 / 16)
    assert score.sparsity["flops"] == pytest.approx((1 + 2.5) / (10 + 6))
    assert read_gates(decode / "1best_recog" / "gates")["decoder"].shape == (2, 2, 3)
    report = write_report({"m/decode_predicted": [score]}, tmp_path / "r", "x", "cmd")
    text = report.read_text()
    assert "## m/decode_predicted\n\n### BLEU\n" in text
    assert "|dataset|Snt|BLEU|\n|---|---|---|\n|test_deu_st_eng|2|100.0|" in text
    assert f"sacreBLEU signature: `{score.signature}`" in text
    assert "| test_deu_st_eng | BLEU | 100.0 | 0.06 | 0.42 | 0.22 | 2.0 |  |" in text
    assert "![gates of m/decode_predicted](gates_m_decode_predicted.png)" in text
    # open rate by task: decoder layer 1 keeps self-attention only in u1 of two
    assert "| decoder module | task | layer 0 | layer 1 | mean |" in text
    assert "| self_attn | ST | 1.00 | 0.00 | 0.50 |" in text
    assert "| src_attn | ST | 1.00 | 0.50 | 0.75 |" in text
    assert "| encoder module | task | layer 0 | layer 1 | mean |" in text
    assert "| self_attn | ST | 1.00 | 0.50 | 0.75 |" in text  # encoder, u2 only
    assert "| cgmlp | ST | 1.00 | 1.00 | 1.00 |" in text
    assert "| ASR |" not in text  # no ASR set scored
    assert (tmp_path / "r" / "gates_m_decode_predicted.png").stat().st_size > 0


def test_gated_decodings_are_timed_against_the_dense_one_beside_them(tmp_path):
    asr = {k: v for k, v in UTTS.items() if "<asr>" in v[0]}
    data = write_dir(tmp_path / "data" / "test_eng_asr", asr, audio=False)
    exp = tmp_path / "exp"
    dirs = {
        name: _decode_dir(exp / name / "test_eng_asr", {"u3": "a small dog"}, None, t)
        for name, t in (
            ("g1/decode_dense", 4.0),
            ("g1/decode_predicted", 3.0),
            ("g2/decode_dense", 8.0),
            ("g2/decode_predicted", 2.0),
            ("g3/decode_predicted", 1.0),
        )
    }
    first_dense = exp / "g1" / "decode_dense"
    assert dense_reference(first_dense, first_dense) is None
    for model, reference in (("g1", "g1"), ("g2", "g2"), ("g3", "g1")):
        decode = exp / model / "decode_predicted"
        found = dense_reference(decode, first_dense)
        score = score_decode_dir(
            dirs[f"{model}/decode_predicted"], data, None, found / "test_eng_asr"
        )
        assert found == exp / reference / "decode_dense"
        assert score.dense_seconds == {"g1": 4.0, "g2": 8.0}[reference]
    assert score.time_change() == pytest.approx(1.0 / 4.0 - 1)


def _scores(score, seconds, dense_seconds, sparsity=None):
    common = dict(utterances=1, seconds=seconds, dense_seconds=dense_seconds)
    if sparsity is not None:
        common["sparsity"] = {"decoder": sparsity}
    return [
        DecodeScore("test_eng_asr", "asr", metric="WER", score=score, **common),
        DecodeScore(
            "test_deu_st_eng", "st_eng", metric="BLEU", score=50 - score, **common
        ),
    ]


def test_report_summary_and_tradeoff_curve(tmp_path):
    results = {
        "g1/decode_dense": _scores(10.0, 4.0, None),
        "g1/decode_predicted": _scores(12.0, 3.0, 4.0, sparsity=0.25),
    }
    text = write_report(results, tmp_path / "one", "g1/decode_dense", "cmd").read_text()
    row = "| g1/decode_predicted | 12.0 | 38.0 | 0.25 | - | 6.0 | -25.0% | -25.0% |"
    assert row in text
    assert "| g1/decode_dense | 10.0 | 40.0 | - | - | 8.0 |  |  |" in text
    assert "Trade-off" not in text  # one gated model: no curve
    assert not (tmp_path / "one" / "tradeoff.png").exists()

    results["g2/decode_predicted"] = _scores(15.0, 2.0, 5.0, sparsity=0.5)
    text = write_report(results, tmp_path / "two", "g1/decode_dense", "cmd").read_text()
    assert "| g2/decode_predicted | 15.0 | 35.0 | 0.50 | - | 4.0 | -60.0% |" in text
    assert "| g1/decode_predicted | 12.0 | 38.0 | 0.25 | - | 6.0 | -25.0% |" in text
    assert "![quality and decoding time against sparsity](tradeoff.png)" in text
    assert (tmp_path / "two" / "tradeoff.png").stat().st_size > 0
    saved = json.loads((tmp_path / "two" / "results.json").read_text())
    assert saved["g2/decode_predicted"][0]["dense_seconds"] == 5.0


def test_wer_and_missing_hypotheses(tmp_path):
    asr = {k: v for k, v in UTTS.items() if "<asr>" in v[0]}
    data = write_dir(tmp_path / "data" / "test_eng_asr", asr, audio=False)
    decode = _decode_dir(tmp_path / "d1", {"u3": "a big dog"})
    score = score_decode_dir(decode, data)
    assert score.metric == "WER" and score.score == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match="no hypothesis"):
        score_decode_dir(_decode_dir(tmp_path / "d2", {"u9": "x"}), data)


WER_UTTS = {  # reference (as in data/text), hypothesis (as decoded)
    "u1": ("<eng><asr><notimestamps> the cat sat on the mat", "the dog sat on mat"),
    "u2": ("<eng><asr><notimestamps> a small dog", "a small dog barks"),
    "u3": ("<eng><asr><notimestamps> hello world", "Hello, World!"),
}


def test_wer_breakdown_counts_each_error_once(tmp_path):
    data = write_dir(tmp_path / "data" / "test_eng_asr", WER_UTTS, audio=False)
    hyps = {key: hyp for key, (_, hyp) in WER_UTTS.items()}
    score = score_decode_dir(_decode_dir(tmp_path / "d", hyps), data)
    # u1: cat -> dog (substitution), the second "the" missing (deletion);
    # u2: "barks" added (insertion); u3: equal once normalised
    counts = (score.words, score.hits, score.substitutions, score.deletions)
    assert counts == (6 + 3 + 2, 4 + 3 + 2, 1, 1)
    assert (score.insertions, score.sentence_errors) == (1, 2)
    assert score.score == pytest.approx(100 * 3 / 11)
    refs = [normalize(ref) for ref, _ in WER_UTTS.values()]
    assert score.score == 100 * jiwer.wer(refs, [normalize(h) for h in hyps.values()])
    text = write_report({"m/decode_dense": [score]}, tmp_path / "r", "x", "c")
    corr, sub, delete, ins = (100 * n / 11 for n in (9, 1, 1, 1))
    row = f"|test_eng_asr|3|11|{corr:.1f}|{sub:.1f}|{delete:.1f}|{ins:.1f}|"
    assert f"{row}{score.score:.1f}|{100 * 2 / 3:.1f}|" in text.read_text()


def test_report_starts_with_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not a git checkout: no hash, no failure
    decode_dir = tmp_path / "exp" / "g1" / "decode_dense"
    recorded = "--s2t_train_config c.yaml --beam_size 5"
    _decode_dir(decode_dir / "test_eng_asr", {"u1": "a"}, options=recorded)
    options = read_decode_options(decode_dir)
    assert options == "--s2t_train_config c.yaml --beam_size 5"
    older = _decode_dir(tmp_path / "exp" / "g2" / "decode_dense" / "t", {"u1": "a"})
    assert read_decode_options(older.parent) is None  # timing.json without options
    results = {"g1/decode_dense": _scores(10.0, 4.0, None)}
    text = write_report(
        results, tmp_path / "r", "g1/decode_dense", "cmd", {"g1": options}
    ).read_text()
    python = sys.version.replace("\n", " ")
    for line in (
        "# RESULTS\n\n## Environments\n- date: `",
        f"\n- python version: `{python}`\n",
        f"\n- espnet version: `espnet {espnet.__version__}`\n",
        f"\n- pytorch version: `pytorch {torch.__version__}`\n",
        f"\n- espnet_dynprune version: `espnet_dynprune {espnet_dynprune.__version__}`",
        f" CPUs, torch threads: {torch.get_num_threads()}\n",
        "\n- decoding options of g1: `--s2t_train_config c.yaml --beam_size 5`\n",
        "\nWritten by `cmd`.",
        "\n## g1/decode_dense\n\n### WER\n\n"
        "|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|\n",
        "\n### Sparsity and speed\n",
        "\n## Averages\n",
    ):
        assert line in text, line
    assert "Git hash" not in text


def test_report_names_the_git_commit_of_a_checkout(tmp_path):
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        pytest.skip("the tests do not run in a git checkout")
    results = {"g1/decode_dense": _scores(10.0, 4.0, None)}
    text = write_report(results, tmp_path, "g1/decode_dense", "cmd").read_text()
    assert f"- Git hash: `{head.stdout.strip()}`\n  - Commit date: `" in text


def test_results_without_wer_counts_still_load_and_report(tmp_path):
    entry = {  # a results.json entry written before the WER counts existed
        "test_set": "test_eng_asr",
        "task": "asr",
        "utterances": 60,
        "metric": "WER",
        "score": 9.822646657571624,
        "seconds": 16.5,
        "signature": None,
        "sparsity": {},
        "open_rate": {},
        "dense_seconds": None,
    }
    score = DecodeScore(**entry)
    assert score.words is None and score.sentence_errors is None
    text = write_report({"m/decode_dense": [score]}, tmp_path, "m/decode_dense", "")
    assert "|test_eng_asr|60|-|-|-|-|-|9.8|-|" in text.read_text()
    saved = json.loads((tmp_path / "results.json").read_text())["m/decode_dense"][0]
    assert DecodeScore(**saved) == score


def test_merge_decode_concatenates_jobs_of_each_set(tmp_path):
    sets = [tmp_path / "decode_dense" / "a", tmp_path / "decode_predicted" / "a"]
    for number, decode_dir in enumerate(sets):
        for job in (2, 1):
            _decode_dir(
                decode_dir / "logdir" / f"output.{job}",
                {f"u{job}": f"t{number}{job}"},
                options="--beam_size 5" if number else None,
            )
    subprocess.run(
        [sys.executable, "-m", "espnet_dynprune.bin.merge_decode", *map(str, sets)],
        check=True,
    )
    for number, decode_dir in enumerate(sets):
        merged = (decode_dir / "1best_recog" / "text").read_text().splitlines()
        assert merged == [f"u1 t{number}1", f"u2 t{number}2"]
        timing = json.loads((decode_dir / "timing.json").read_text())
        recorded = {"options": "--beam_size 5"} if number else {}
        assert timing == {"utterances": 2, "seconds": 4.0, "rounds": [4.0], **recorded}


def test_merge_decode_sums_rounds_and_keeps_their_median(tmp_path):
    decode_dir = tmp_path / "decode_predicted" / "a"
    for job, rounds in ((1, [1.0, 5.0, 2.0]), (2, [1.0, 1.0, 4.0])):
        _decode_dir(
            decode_dir / "logdir" / f"output.{job}",
            {f"u{job}": "t"},
            seconds=sorted(rounds)[1],
            rounds=rounds,
        )
    subprocess.run(
        [sys.executable, "-m", "espnet_dynprune.bin.merge_decode", str(decode_dir)],
        check=True,
    )
    timing = json.loads((decode_dir / "timing.json").read_text())
    # the median of the whole set's rounds (2, 6, 6), not the sum of medians (4)
    assert timing["rounds"] == [2.0, 6.0, 6.0] and timing["seconds"] == 6.0


def test_time_change_is_the_median_of_each_rounds_total_change():
    def scores(rounds, dense_rounds):
        return [
            DecodeScore(
                f"test_{n}_asr",
                "asr",
                utterances=1,
                metric="WER",
                score=1.0,
                seconds=float(np.median(r)),
                dense_seconds=float(np.median(d)),
                rounds=r,
                dense_rounds=d,
            )
            for n, (r, d) in enumerate(zip(rounds, dense_rounds, strict=True))
        ]

    # per-round totals: gated 6, 6, 9; dense 10, 8, 10 -> -40%, -25%, -10%
    summary = summarize_model(
        scores([[2.0, 3.0, 4.0], [4.0, 3.0, 5.0]], [[5.0, 4.0, 5.0], [5.0, 4.0, 5.0]])
    )
    assert summary.round_changes == pytest.approx([-0.4, -0.25, -0.1])
    assert summary.time_change == pytest.approx(-0.25)
    text = "\n".join(
        report._summary_table({"g/decode_predicted": summary})  # noqa: SLF001
    )
    assert "| -25.0% | -40.0%, -25.0%, -10.0% |" in text


def test_merge_decode_names_a_set_without_outputs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "espnet_dynprune.bin.merge_decode", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"{tmp_path}/logdir: no output.* to merge" in result.stderr


def test_decode_list_lines_are_checked(tmp_path):
    from espnet_dynprune.bin.s2t_inference import read_decode_list

    wav_scp = write_dir(tmp_path / "d", audio=False) / "wav.scp"
    good = tmp_path / "good.list"
    good.write_text(f"out/a {wav_scp} - deu st_eng predicted\n\n")
    (decoding,) = read_decode_list(good)
    assert (decoding.lang_sym, decoding.task_sym, decoding.key_file) == (
        "<deu>",
        "<st_eng>",
        None,
    )
    for line, error in (
        (f"out/a {wav_scp} - deu st_eng", "expected 'OUTPUT_DIR"),
        (f"out/a {wav_scp} - deu st_eng sparse", "gate.mode .*'sparse'"),
        (f"out/a {wav_scp} missing.keys deu asr dense", "no such file missing.keys"),
    ):
        bad = tmp_path / "bad.list"
        bad.write_text(f"{good.read_text()}{line}\n")
        with pytest.raises(ValueError, match=f"bad.list:3: {error}"):
            read_decode_list(bad)
