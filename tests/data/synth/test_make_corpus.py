"""End to end: plan, synthesize and write the corpus; CLI and bad input."""

import hashlib

import numpy as np
import pytest
import soundfile as sf

import espnet_dynprune.data.synth.make_corpus as corpus_module
from espnet_dynprune.bin import make_synth_corpus
from espnet_dynprune.data.kaldi_dir import DATA_FILES
from espnet_dynprune.data.languages import task_pairs
from espnet_dynprune.data.synth.make_corpus import (
    SIZES,
    CorpusSize,
    held_out_split,
    make_corpus,
    parse_size,
    plan_split,
)
from espnet_dynprune.data.synth.tts import (
    INSTALL_HINT,
    EspeakNotFoundError,
    LibrarySynthesizer,
    SynthesisError,
)

TINY = CorpusSize(train=18, dev_per_pair=1, test_per_pair=2)
PAIRS = task_pairs(["eng", "deu", "fra", "ita", "spa"])
TEXT_FILES = ("text", "text_ctc", "text_prev", "utt2spk", "spk2utt", "utt2num_samples")


def _read(path):
    return dict(line.split(" ", 1) for line in path.read_text().splitlines())


def _digest(out):
    """Hash of every text file and every wav file's bytes (not wav.scp paths)."""
    digest = hashlib.sha256()
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != "wav.scp":
            digest.update(str(path.relative_to(out)).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, synthesizer):
    out = tmp_path_factory.mktemp("corpus")
    summary = make_corpus(out, TINY, seed=3, nj=2)
    return out, summary


def test_parse_size():
    assert parse_size("quick") == SIZES["quick"] and SIZES["quick"].train == 600
    assert parse_size("default").train >= 5000
    assert parse_size("1200") == CorpusSize(1200, 10, 20)
    assert parse_size("5") == CorpusSize(5, 2, 2)
    for bad in ("huge", "0", "-3", "1.5"):
        with pytest.raises(ValueError, match="quick, default or a positive integer"):
            parse_size(bad)


def _sentences(specs):
    return [sentence for spec in specs for sentence in spec.sentences]


def test_held_out_sentences_never_reach_training():
    train = _sentences(plan_split("train", PAIRS, [100] * len(PAIRS), 0, 2))
    for split in ("dev", "test"):
        specs = plan_split(split, PAIRS, [10] * len(PAIRS), 0, 2)
        held_out = [
            s for spec in specs if spec.pair.task != "asr" for s in spec.sentences
        ]
        assert {held_out_split(s.target) for s in held_out} == {split}
        assert not {s.source for s in _sentences(specs)} & {s.source for s in train}
        assert not {s.target for s in _sentences(specs)} & {s.target for s in train}


def test_plan_is_balanced_and_unique():
    specs = plan_split("train", PAIRS, [30] * len(PAIRS), seed=1)
    assert len({s.utt_id for s in specs}) == len(specs) == 30 * len(PAIRS)
    assert all(len(s.sentences) == 1 for s in specs)
    assert len({(s.pair.lang, s.sentences[0].source) for s in specs}) == len(specs)
    assert {s.pair for s in specs} == set(PAIRS)
    assert len({s.speaker for s in specs}) > 20
    assert len({s.noise for s in specs}) == 3
    assert all(s.utt_id.startswith(f"{s.speaker}-") for s in specs)
    packed = plan_split(
        "train", PAIRS, [30] * len(PAIRS), seed=1, sentences_per_utterance=3
    )
    sources = [(spec.pair.lang, s.source) for spec in packed for s in spec.sentences]
    assert len(set(sources)) == len(sources) == 3 * len(specs)


def test_corpus_layout(corpus, synthesizer):
    out, summary = corpus
    assert summary.num_utterances == {"train": 18, "dev": 9, "test": 18}
    assert all(seconds > 0 for seconds in summary.seconds.values())
    # Only the library backends report where words start.
    timed = isinstance(synthesizer, LibrarySynthesizer)
    files = set(DATA_FILES) | ({"word_bounds"} if timed else set())
    for split in ["train", "dev", "test"] + [f"test_{pair.name}" for pair in PAIRS]:
        assert {p.name for p in (out / split).iterdir()} == files, split
        lines = (out / split / "text").read_text().splitlines()
        assert lines == sorted(lines)
    texts = _read(out / "test" / "text")
    for pair in PAIRS:
        subset = _read(out / f"test_{pair.name}" / "text")
        assert len(subset) == 2
        assert all(text.startswith(pair.prefix + " ") for text in subset.values())
        assert subset.items() <= texts.items()


def test_written_dev_and_test_sentences_are_not_in_train(corpus):
    out, _ = corpus
    train = set(_read(out / "train" / "text_ctc").values())
    train |= {text.split(" ", 1)[1] for text in _read(out / "train" / "text").values()}
    for split in ("dev", "test"):
        assert not set(_read(out / split / "text_ctc").values()) & train


def test_audio_matches_data_files(corpus):
    out, _ = corpus
    wavs = _read(out / "train" / "wav.scp")
    lengths = _read(out / "train" / "utt2num_samples")
    for utt_id, path in wavs.items():
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.frames == int(lengths[utt_id])
        assert 1.0 < info.frames / 16000 < 6.0
        assert path.startswith(str(out / "wav" / "train"))


def test_same_seed_same_bytes_whatever_nj(corpus, tmp_path):
    out, _ = corpus
    make_corpus(tmp_path / "again", TINY, seed=3, nj=1)
    assert _digest(tmp_path / "again") == _digest(out)
    make_corpus(tmp_path / "other", TINY, seed=4, nj=2)
    assert _digest(tmp_path / "other") != _digest(out)


def test_fixed_length_segments_are_filled_with_sentences_and_noise(tmp_path):
    """With segment_seconds every file has that length, holds as many of its
    planned sentences as fit (in order, the first always), and has noise, never
    digital silence, around and between them."""
    out = tmp_path / "segments"
    summary = make_corpus(out, TINY, seed=3, nj=2, segment_seconds=5.0)
    assert summary.seconds["train"] == pytest.approx(18 * 5.0)
    assert set(_read(out / "train" / "utt2num_samples").values()) == {"80000"}
    specs = {
        spec.utt_id: spec
        for spec in plan_split(
            "train",
            PAIRS,
            corpus_module._counts(18, len(PAIRS)),
            seed=3,
            sentences_per_utterance=corpus_module._SENTENCE_CANDIDATES,
        )
    }
    texts = _read(out / "train" / "text_ctc")
    spoken = []
    for utt_id, path in _read(out / "train" / "wav.scp").items():
        samples, _ = sf.read(path, dtype="float32")
        assert samples.size == 80000
        assert np.mean(samples == 0) < 0.05, utt_id
        sources = [s.source for s in specs[utt_id].sentences]
        words, count = texts[utt_id].split(), 0
        for source in sources:  # the text is an in-order subsequence
            if words[: len(source.split())] == source.split():
                words, count = words[len(source.split()) :], count + 1
        assert not words and texts[utt_id].startswith(sources[0]), utt_id
        spoken.append(count)
    assert np.mean(spoken) > 1.5  # one sentence lasts about 2 s


def test_word_bounds_cover_the_speech(tmp_path, synthesizer):
    """One (start, end) pair per word of text_ctc, in order, inside the segment;
    the audio inside the words is louder than outside them (lead-in, pauses
    between sentences, tail: noise only) by about the SNR."""
    if not isinstance(synthesizer, LibrarySynthesizer):
        pytest.skip("only the library backends report word events")
    out = tmp_path / "segments"
    make_corpus(out, TINY, seed=5, nj=2, segment_seconds=5.0)
    texts = _read(out / "train" / "text_ctc")
    gaps = []
    for utt_id, line in _read(out / "train" / "word_bounds").items():
        bounds = [int(value) for value in line.split()]
        assert len(bounds) == 2 * len(texts[utt_id].split()), utt_id
        assert bounds == sorted(bounds) and 0 <= bounds[0] and bounds[-1] <= 80000
        samples, _ = sf.read(_read(out / "train" / "wav.scp")[utt_id])
        inside = np.zeros(samples.size, bool)
        for start, end in zip(bounds[::2], bounds[1::2], strict=True):
            inside[start:end] = True
        power = [np.mean(samples[mask] ** 2) for mask in (inside, ~inside)]
        gaps.append(10 * np.log10(power[0] / power[1]))
    assert np.median(gaps) > 10 and min(gaps) > 3


def test_segment_too_short_names_the_utterance(tmp_path, synthesizer):
    with pytest.raises(SynthesisError, match=r"utterance \S+-train-.*segment_seconds"):
        make_corpus(tmp_path, CorpusSize(2, 1, 1), nj=1, segment_seconds=0.5)
    with pytest.raises(ValueError, match="segment_seconds must be positive"):
        make_corpus(tmp_path, TINY, segment_seconds=0)


def test_unknown_language(tmp_path):
    with pytest.raises(ValueError, match="xyz.*supported: eng, deu, fra, ita, spa"):
        make_corpus(tmp_path, TINY, langs=("deu", "xyz"))


def test_cli(tmp_path, capsys, synthesizer):
    out = tmp_path / "data"
    make_synth_corpus.main(["--out", str(out), "--size", "4", "--langs", "eng,deu"])
    printed = capsys.readouterr().out
    assert "train: 4 utterances" in printed and "total:" in printed
    assert (out / "test_deu_st_eng" / "text").exists()
    assert not (out / "test_fra_asr").exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--langs", "deu,klingon"], "unknown language code(s) klingon; supported"),
        (["--size", "big"], "size must be quick, default or a positive integer"),
    ],
)
def test_cli_errors(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        make_synth_corpus.main(["--out", str(tmp_path)] + argv)
    assert exit_info.value.code == 1
    assert message in capsys.readouterr().err


def test_cli_without_espeak_then_rerun(tmp_path, capsys, monkeypatch, synthesizer):
    """A missing eSpeak NG is reported; after installing it, a rerun works."""

    def missing():
        raise EspeakNotFoundError(f"eSpeak NG is not installed: {INSTALL_HINT}")

    argv = ["--out", str(tmp_path), "--size", "2", "--langs", "spa"]
    with monkeypatch.context() as patch:
        patch.setattr(corpus_module, "load_synthesizer", missing)
        with pytest.raises(SystemExit):
            make_synth_corpus.main(argv)
    assert "pip install espeakng-loader" in capsys.readouterr().err
    make_synth_corpus.main(argv)
    assert len(_read(tmp_path / "train" / "text")) == 2
