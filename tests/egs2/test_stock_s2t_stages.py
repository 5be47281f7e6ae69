"""The stage commands of ESPnet's ``egs2/TEMPLATE/s2t1/s2t.sh`` on a gated YAML,
with ESPnet's entry points only: ``espnet2.bin.launch`` -> ``s2t_train``, then
``s2t_inference --lang_sym --task_sym``, then sacreBLEU / WER scoring."""

import subprocess
import sys
from pathlib import Path

import jiwer
import pytest
import sacrebleu
import soundfile as sf

from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.tasks.gated_config import write_gated_config

from helpers import toy_data
from helpers.toy_helpers import TOY_CONFIG as DENSE_CONFIG
from helpers.toy_helpers import read_kaldi_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUN_CMD = ROOT / "egs2" / "TEMPLATE" / "s2t1" / "utils" / "run_local.sh"
CONTEXT = ("<deu>", "<st_eng>")


def _stock(module: str, *args: str, cwd: Path) -> None:
    """``python -m module args`` in a fresh process; the plugin is never imported
    by the command line itself (the start-up hook registers it)."""
    cmd = [sys.executable, "-m", module, *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    assert result.returncode == 0, result.stderr[-4000:]


def test_s2t_sh_stages_train_decode_and_score(tmp_path):
    corpus = toy_data.make_toy_corpus(tmp_path, num_train=48, num_dev=8, num_test=6)
    config = write_gated_config(
        DENSE_CONFIG,
        tmp_path / "train_gated.yaml",
        sparsity_conf={"decoder_target": 0.5},
        gate_predictor_conf={"temperature_anneal_steps": 20},
    )
    exp = tmp_path / "exp" / "s2t_gated"
    # s2t.sh's training stage: launch -> s2t_train (multiprocessing_distributed true)
    _stock(
        "espnet2.bin.launch",
        "--cmd",
        str(RUN_CMD),
        "--log",
        str(exp / "train.log"),
        "--ngpu",
        "0",
        "--multiprocessing_distributed",
        "true",
        "--",
        sys.executable,
        "-m",
        "espnet2.bin.s2t_train",
        *toy_data.s2t_train_args(corpus, config, exp, max_epoch=1),
        cwd=tmp_path,
    )
    assert "loss_sparsity" in (exp / "train.log").read_text()
    # s2t.sh's decoding stage: one (language, task) per test set
    decode = exp / "decode_test"
    _stock(
        "espnet2.bin.s2t_inference",
        "--ngpu",
        "0",
        "--data_path_and_name_and_type",
        f"{corpus.test_dir / 'wav.scp'},speech,sound",
        "--s2t_train_config",
        str(exp / "config.yaml"),
        "--s2t_model_file",
        str(exp / "valid.acc.ave.pth"),
        "--lang_sym",
        CONTEXT[0],
        "--task_sym",
        CONTEXT[1],
        "--beam_size",
        "3",
        "--output_dir",
        str(decode),
        cwd=tmp_path,
    )
    stock_text = read_kaldi_file(decode / "1best_recog" / "text")
    wavs = read_kaldi_file(corpus.test_dir / "wav.scp")
    assert set(stock_text) == set(wavs)  # one hypothesis line per utterance
    # the same decoding through the plugin's own class
    plugin = Speech2Text(
        exp / "config.yaml", exp / "valid.acc.ave.pth", beam_size=3, device="cpu"
    )
    plugin_text = {}
    for utt, path in wavs.items():
        speech, _ = sf.read(path, dtype="float32")
        nbest = plugin(speech, lang_sym=CONTEXT[0], task_sym=CONTEXT[1])
        plugin_text[utt] = nbest[0][0]
    assert stock_text == plugin_text
    # s2t.sh's scoring stage on the stock hypotheses: sacreBLEU and WER
    references = read_kaldi_file(corpus.test_dir / "text")
    refs = [references[utt].split(">")[-1].strip() for utt in wavs]
    hyps = [stock_text[utt] for utt in wavs]
    print(
        f"BLEU {sacrebleu.corpus_bleu(hyps, [refs]).score:.1f}, "
        f"WER {jiwer.wer(refs, [h or '-' for h in hyps]):.3f} after one epoch"
    )
