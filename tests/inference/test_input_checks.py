"""``Speech2Text`` refuses inputs it would decode wrongly, naming the input."""

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text
from espnet2.schedulers.warmup_lr import WarmupLR
from espnet2.train.reporter import Reporter

from espnet_dynprune.inference.speech2text import Speech2Text

from helpers.model_factory import build_s2t, write_gated_model

CONTEXT = dict(lang_sym="<deu>", task_sym="<st_eng>")
# the tiny models: 16 kHz, hop 128, conv2d subsampling, speech_length 0.5 s


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return write_gated_model(tmp_path_factory.mktemp("input_checks"))


@pytest.fixture(scope="module")
def s2t(model_files):
    return Speech2Text(*model_files, beam_size=2, device="cpu")


def _speech(samples: int = 7000) -> torch.Tensor:
    return torch.randn(samples, generator=torch.Generator().manual_seed(5))


def _best(nbest) -> list[int]:
    return list(nbest[0][2])


def test_no_context_is_refused_listing_the_symbols(s2t):
    with pytest.raises(ValueError, match="no lang_sym and task_sym given") as error:
        s2t(_speech())
    assert "['<eng>', '<deu>', '<fra>']" in str(error.value)
    assert "['<asr>', '<st_eng>']" in str(error.value)
    with pytest.raises(ValueError, match="no task_sym given"):
        s2t(_speech(), lang_sym="deu")
    # deu and <deu> are the same symbol, in the constructor and in calls
    assert _best(s2t(_speech(), lang_sym="deu", task_sym="st_eng")) == _best(
        s2t(_speech(), **CONTEXT)
    )


def test_constructor_symbols_are_the_default_context(model_files, s2t):
    default = Speech2Text(*model_files, beam_size=2, lang_sym="deu", task_sym="st_eng")
    assert (default.lang_sym, default.task_sym) == ("<deu>", "<st_eng>")
    assert _best(default(_speech())) == _best(s2t(_speech(), **CONTEXT))


def test_other_rates_are_resampled(s2t, tmp_path):
    slow = _speech(3500).numpy() * 0.1
    want = torchaudio.functional.resample(torch.from_numpy(slow).float(), 8000, 16000)
    expected = _best(s2t(want, **CONTEXT))
    assert _best(s2t(slow, sample_rate=8000, **CONTEXT)) == expected
    wav = tmp_path / "slow.wav"
    sf.write(wav, slow, 8000, subtype="FLOAT")
    assert _best(s2t(wav, **CONTEXT)) == expected


@pytest.mark.parametrize(
    "speech, message",
    [
        (torch.randn(7000, 2), r"speech: audio of shape \(7000, 2\); expected mono"),
        (torch.randn(400), r"speech: 0\.025 s of audio is shorter than the 0\.048 s"),
        (torch.randn(9600), r"speech: 0\.60 s of audio is longer than the 0\.5 s"),
    ],
)
def test_unusable_audio_is_refused(s2t, speech, message):
    with pytest.raises(ValueError, match=message):
        s2t(speech, **CONTEXT)


def test_nan_samples_are_refused(s2t):
    speech = _speech()
    speech[::100] = float("nan")  # 1 %
    speech[1] = float("inf")
    with pytest.raises(ValueError, match="speech: 71 of 7000 samples are NaN"):
        s2t(speech, **CONTEXT)


def test_unreadable_file_is_named(s2t, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\0\0")
    with pytest.raises(ValueError, match=f"{bad}: cannot read audio"):
        s2t(bad, **CONTEXT)
    with pytest.raises(ValueError, match="no such audio file"):
        s2t(tmp_path / "missing.wav", **CONTEXT)


def test_batch_decode_names_the_utterance(s2t):
    if not hasattr(ESPnetSpeech2Text, "batch_decode"):
        pytest.skip("batch_decode needs espnet 202611")
    speech = [_speech(), torch.full((7000,), float("nan"))]
    with pytest.raises(ValueError, match=r"speech\[1\]: 7000 of 7000 samples"):
        s2t.batch_decode(speech, **CONTEXT)


def test_trainer_checkpoint_is_refused_naming_the_weights_file(model_files, tmp_path):
    # the dict ESPnet's Trainer saves as checkpoint.pth, from its own classes
    model = build_s2t(gated=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = WarmupLR(optimizer, warmup_steps=10)
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save(
        {
            "model": model.state_dict(),
            "reporter": Reporter().state_dict(),
            "optimizers": [optimizer.state_dict()],
            "schedulers": [scheduler.state_dict()],
            "scaler": None,
        },
        checkpoint,
    )
    with pytest.raises(
        ValueError, match="this is ESPnet's trainer checkpoint"
    ) as error:
        Speech2Text(model_files[0], checkpoint, **CONTEXT)
    assert str(checkpoint) in str(error.value)
    assert "valid.acc.ave.pth" in str(error.value)
    assert "\x1b" not in str(error.value)  # no terminal colour codes


def test_trainer_checkpoint_that_is_not_weights_only_is_recognised(
    model_files, tmp_path
):
    # espnet 202511's reporter state held numpy scalars: weights_only cannot load it
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save(
        {"model": {}, "reporter": {"stats": np.float64(1.0)}, "optimizers": []},
        checkpoint,
    )
    with pytest.raises(ValueError, match="this is ESPnet's trainer checkpoint"):
        Speech2Text(model_files[0], checkpoint, **CONTEXT)
