"""``s2t_inference`` refuses what it would decode wrongly, naming the utterance
key and file, and leaves no partial outputs."""

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio
import yaml

from espnet_dynprune.bin import s2t_inference
from espnet_dynprune.inference.speech2text import Speech2Text

from helpers.model_factory import write_gated_model


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A tiny gated model whose config has what ESPnet's loader reads too."""
    config, weights = write_gated_model(tmp_path_factory.mktemp("cli_checks"))
    conf = yaml.safe_load(config.read_text())
    conf.update(
        use_preprocessor=True,
        preprocessor="s2t",
        cleaner=None,
        g2p=None,
        non_linguistic_symbols=None,
    )
    config.write_text(yaml.safe_dump(conf))
    return config, weights


def _audio(samples: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.1, 0.1, samples).astype("float32")


def _wav_scp(tmp_path, wavs: dict) -> str:
    """Write ``key -> (samples, rate)`` as real wav files and their wav.scp."""
    lines = []
    for key, (audio, rate) in wavs.items():
        path = tmp_path / f"{key}.wav"
        if audio is not None:
            sf.write(path, audio, rate, subtype="FLOAT")
        lines.append(f"{key} {path}")
    scp = tmp_path / "wav.scp"
    scp.write_text("\n".join(lines) + "\n")
    return str(scp)


def _decode(model_files, scp, out, *extra: str) -> None:
    s2t_inference.main(
        [
            f"--s2t_train_config={model_files[0]}",
            f"--s2t_model_file={model_files[1]}",
            f"--data_path_and_name_and_type={scp},speech,sound",
            f"--output_dir={out}",
            "--beam_size=2",
            *extra,
        ]
    )


CONTEXT = ("--lang_sym=deu", "--task_sym=<st_eng>")


def test_missing_context_is_refused(model_files, tmp_path):
    scp = _wav_scp(tmp_path, {"u1": (_audio(7000), 16000)})
    with pytest.raises(ValueError, match="no lang_sym and task_sym given") as error:
        _decode(model_files, scp, tmp_path / "out")
    assert "['<eng>', '<deu>', '<fra>']" in str(error.value)
    assert not (tmp_path / "out" / "1best_recog").exists()


def test_8khz_audio_is_resampled(model_files, tmp_path):
    slow = _audio(3500)
    scp = _wav_scp(tmp_path, {"u1": (slow, 8000)})
    _decode(model_files, scp, tmp_path / "out", *CONTEXT)
    got = (tmp_path / "out" / "1best_recog" / "token_int").read_text().split()[1:]
    s2t = Speech2Text(*model_files, beam_size=2, lang_sym="deu", task_sym="st_eng")
    want = s2t(torchaudio.functional.resample(torch.from_numpy(slow), 8000, 16000))
    assert got == [str(t) for t in want[0][2]]


@pytest.mark.parametrize(
    "audio, rate, message",
    [
        (np.full(7000, np.nan, dtype="float32"), 16000, "7000 of 7000 samples are NaN"),
        (_audio(600), 16000, "0.037 s of audio is shorter than the 0.048 s"),
        (_audio(9600), 16000, "0.60 s of audio is longer than the 0.5 s"),
        (np.stack([_audio(7000)] * 2, axis=1), 16000, r"shape \(7000, 2\)"),
        (None, 16000, r"cannot read .*u2\.wav \(no such file\)"),
    ],
)
def test_unusable_audio_names_the_key_and_leaves_no_outputs(
    model_files, tmp_path, audio, rate, message
):
    scp = _wav_scp(tmp_path, {"u1": (_audio(7000), 16000), "u2": (audio, rate)})
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=message) as error:
        _decode(model_files, scp, out, *CONTEXT)
    assert "utterance u2" in str(error.value)
    assert str(tmp_path / "u2.wav") in str(error.value)
    assert not (out / "1best_recog").exists()  # u1's hypothesis is not left behind
    assert not list(out.glob(".decoding.*"))
