"""Kaldi-style data directories: sorted, complete, validated."""

from dataclasses import replace

import pytest

from espnet_dynprune.data.kaldi_dir import DATA_FILES, KaldiEntry, write_data_dir
from espnet_dynprune.data.languages import TaskPair


def _entry(utt_id, speaker="deu_m1", target="the dog sleeps", source="der hund"):
    return KaldiEntry(
        utt_id=utt_id,
        speaker=speaker,
        wav_path=f"data/wav/{utt_id}.wav",
        num_samples=16000,
        pair=TaskPair("deu", "st_eng"),
        target=target,
        source=source,
    )


def test_write_data_dir(tmp_path):
    entries = [
        _entry("deu_m2-b", speaker="deu_m2"),
        _entry("deu_m1-b"),
        _entry("deu_m1-a"),
    ]
    write_data_dir(tmp_path, entries)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DATA_FILES)
    text = (tmp_path / "text").read_text().splitlines()
    assert text == [
        "deu_m1-a <deu><st_eng><notimestamps> the dog sleeps",
        "deu_m1-b <deu><st_eng><notimestamps> the dog sleeps",
        "deu_m2-b <deu><st_eng><notimestamps> the dog sleeps",
    ]
    assert (tmp_path / "spk2utt").read_text() == (
        "deu_m1 deu_m1-a deu_m1-b\ndeu_m2 deu_m2-b\n"
    )
    assert (tmp_path / "text_prev").read_text().splitlines()[0] == "deu_m1-a <na>"
    assert (tmp_path / "text_ctc").read_text().splitlines()[0] == "deu_m1-a der hund"
    assert (tmp_path / "utt2task").read_text().splitlines()[0] == "deu_m1-a st_eng"


@pytest.mark.parametrize(
    "entry,message",
    [
        (_entry("deu_m1-x", target=" "), "utterance deu_m1-x: empty transcript"),
        (_entry("deu_m1-x", source=""), "utterance deu_m1-x: empty transcript"),
        (_entry("eng_m1-x"), "must start with its speaker"),
    ],
)
def test_bad_entries_are_named_and_nothing_is_written(tmp_path, entry, message):
    with pytest.raises(ValueError, match=message):
        write_data_dir(tmp_path / "dir", [_entry("deu_m1-a"), entry])
    assert not (tmp_path / "dir").exists()


def test_duplicate_ids(tmp_path):
    with pytest.raises(ValueError, match="duplicate"):
        write_data_dir(tmp_path, [_entry("deu_m1-a"), _entry("deu_m1-a")])


def test_word_bounds_written_when_every_utterance_has_them(tmp_path):
    timed = [replace(_entry(f"deu_m1-{n}"), word_bounds=(0, 10, 12, 30)) for n in "ab"]
    write_data_dir(tmp_path, timed)
    assert (tmp_path / "word_bounds").read_text() == (
        "deu_m1-a 0 10 12 30\ndeu_m1-b 0 10 12 30\n"
    )
    write_data_dir(tmp_path, [timed[0], _entry("deu_m1-b")])  # one without
    assert not (tmp_path / "word_bounds").exists()


@pytest.mark.parametrize("bounds", [(0, 10), (10, 0, 12, 30), (0, 10, 12, 16001)])
def test_bad_word_bounds_are_refused(tmp_path, bounds):
    entry = replace(_entry("deu_m1-a"), word_bounds=bounds)
    with pytest.raises(ValueError, match="deu_m1-a: word_bounds must be ordered"):
        write_data_dir(tmp_path, [entry])
