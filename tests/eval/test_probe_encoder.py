"""The encoder probe tells an encoder that uses the audio from a collapsed one."""

import numpy as np
import pytest
import soundfile as sf
import torch

from espnet_dynprune.bin import probe_encoder as probe_cli
from espnet_dynprune.eval.probe_encoder import probe_encoder

from helpers.model_factory import build_s2t, write_gated_model


def _speech(batch=4, seconds=0.5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    time = torch.arange(int(16000 * seconds)) / 16000
    freqs = 200 + 150 * torch.arange(batch)[:, None]
    tones = torch.sin(2 * torch.pi * freqs * time)
    return 0.3 * tones + 0.01 * torch.randn(tones.shape, generator=generator)


def test_random_encoder_depends_on_the_audio():
    result = probe_encoder(build_s2t(gated=False), _speech())
    assert [s.name for s in result.stages] == ["embed", "layer 0", "layer 1"]
    assert all(stage.ratio > 0.05 for stage in result.stages), result.stages
    assert result.num_utterances == 4


def test_collapsed_encoder_is_reported():
    model = build_s2t(gated=False)
    out = model.encoder.embed.out  # Sequential(Linear, pos. enc.) before 202611
    linear = out[0] if isinstance(out, torch.nn.Sequential) else out
    with torch.no_grad():  # subsampling output no longer depends on the input
        linear.weight.zero_()
    result = probe_encoder(model, _speech())
    assert all(stage.ratio < 1e-4 for stage in result.stages), result.stages
    assert len(result.ctc_outputs) == 1


def test_gated_model_is_probed_with_every_gate_open():
    gated = probe_encoder(build_s2t(gated=True), _speech())
    dense = probe_encoder(build_s2t(gated=False), _speech())
    for ours, stock in zip(gated.stages, dense.stages, strict=True):
        assert ours.ratio == pytest.approx(stock.ratio, rel=1e-4)
    with pytest.raises(ValueError, match="need"):
        probe_encoder(build_s2t(gated=False), _speech(batch=1))


def test_cli(tmp_path, capsys):
    config, model_file = write_gated_model(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for i, row in enumerate(_speech(batch=3, seconds=0.3).numpy()):
        path = data / f"u{i}.wav"
        sf.write(path, row, 16000, subtype="PCM_16")
        lines.append(f"u{i} {path}")
    (data / "wav.scp").write_text("\n".join(lines) + "\n")
    argv = ["--s2t_train_config", str(config), "--s2t_model_file", str(model_file)]
    probe_cli.main(argv + ["--data_dir", str(data)])
    printed = capsys.readouterr().out
    assert "layer 1" in printed and "distinct CTC greedy outputs:" in printed
    assert "of 3 utterances" in printed

    (data / "u1.wav").write_bytes(b"not audio")
    with pytest.raises(SystemExit) as exit_info:
        probe_cli.main(argv + ["--data_dir", str(data)])
    assert exit_info.value.code == 1
    assert "wav.scp: u1: " in capsys.readouterr().err
    sf.write(data / "u1.wav", np.zeros(1600, dtype=np.float32), 8000)
    with pytest.raises(SystemExit):
        probe_cli.main(argv + ["--data_dir", str(data)])
    assert "8000 Hz" in capsys.readouterr().err
