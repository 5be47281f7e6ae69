"""ESPnet's own ``Speech2Text`` and ``s2t_inference`` decode a gated model: the
context comes from the prompt they prime the beam search with."""

import subprocess
import sys

import pytest
import soundfile as sf
import torch
import yaml
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.models.gating import describe_gates

from helpers.model_factory import write_context_gated_model

CONTEXTS = [("<deu>", "<st_eng>"), ("<eng>", "<asr>"), ("<fra>", "<asr>")]
OPTIONS = dict(beam_size=3, nbest=2, device="cpu")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return write_context_gated_model(tmp_path_factory.mktemp("stock_decode"))


def _speech() -> torch.Tensor:
    return torch.randn(7000, generator=torch.Generator().manual_seed(4))


def _decode(s2t, lang: str, task: str) -> tuple[list, str]:
    nbest = s2t(_speech(), lang_sym=lang, task_sym=task)
    gates = s2t.s2t_model.last_gates
    described = "dense" if gates is None else str(describe_gates(gates))
    return [(hyp[2], round(float(hyp[4].score), 4)) for hyp in nbest], described


def test_stock_speech2text_follows_each_calls_context(model_files):
    stock = ESPnetSpeech2Text(*model_files, **OPTIONS)
    plugin = Speech2Text(*model_files, **OPTIONS)
    # one context after another: a stale context would give the previous gates
    results = [_decode(stock, *CONTEXTS[i % 3]) for i in (0, 1, 2, 0, 2)]
    expected = [_decode(plugin, *CONTEXTS[i % 3]) for i in (0, 1, 2, 0, 2)]
    assert results == expected
    assert len({gates for _, gates in results}) == 3  # the contexts differ


def test_stock_speech2text_uses_its_default_context(model_files):
    stock = ESPnetSpeech2Text(*model_files, lang_sym="<fra>", **OPTIONS)
    # the plugin has no default task: ESPnet's is <asr>
    plugin = Speech2Text(*model_files, lang_sym="<fra>", task_sym="<asr>", **OPTIONS)
    assert _decode(stock, None, None) == _decode(plugin, None, None)


def test_yaml_inference_gate_mode_dense_decodes_densely(model_files, tmp_path):
    config, model_file = model_files
    conf = yaml.safe_load(config.read_text())
    conf["model_conf"]["inference_gate_mode"] = "dense"
    dense_config = tmp_path / "config.yaml"
    dense_config.write_text(yaml.safe_dump(conf))
    stock = ESPnetSpeech2Text(dense_config, model_file, **OPTIONS)
    plugin = Speech2Text(config, model_file, gate_mode="dense", **OPTIONS)
    assert _decode(stock, *CONTEXTS[0]) == _decode(plugin, *CONTEXTS[0])
    assert _decode(stock, *CONTEXTS[0])[1] == "dense"


def test_a_prompt_without_a_language_is_an_error(model_files):
    stock = ESPnetSpeech2Text(*model_files, **OPTIONS)
    with pytest.raises(ValueError, match="<asr>"):  # a task where a language goes
        stock(_speech(), lang_sym="<asr>", task_sym="<asr>")


@pytest.mark.slow
def test_stock_s2t_inference_command_decodes_like_the_plugin(model_files, tmp_path):
    """``python -m espnet2.bin.s2t_inference`` in a fresh process, no plugin code."""
    config, model_file = model_files
    conf = yaml.safe_load(config.read_text())
    conf["use_preprocessor"] = False  # as a trainer-written config.yaml has it set
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(conf))
    wav = tmp_path / "utt1.wav"
    sf.write(wav, _speech().numpy(), 16000)
    (tmp_path / "wav.scp").write_text(f"utt1 {wav}\n")
    out = tmp_path / "decode"
    cmd = [sys.executable, "-m", "espnet2.bin.s2t_inference"]
    cmd += ["--s2t_train_config", str(config), "--s2t_model_file", str(model_file)]
    cmd += ["--data_path_and_name_and_type", f"{tmp_path / 'wav.scp'},speech,sound"]
    cmd += ["--lang_sym", "<deu>", "--task_sym", "<st_eng>", "--beam_size", "3"]
    cmd += ["--output_dir", str(out), "--ngpu", "0"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    token_int = (out / "1best_recog" / "token_int").read_text().split()[1:]
    plugin = Speech2Text(*model_files, beam_size=3, device="cpu")
    speech, _ = sf.read(wav, dtype="float32")
    want = plugin(speech, lang_sym="<deu>", task_sym="<st_eng>")[0][2]
    assert [int(t) for t in token_int] == want
