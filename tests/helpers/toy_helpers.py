"""Test helpers: toy corpus, ESPnet S2T training runs and decoding.

The training helpers run ESPnet's trainer in a subprocess, exactly as a recipe
does: ``python -m espnet2.bin.s2t_train <train_cmd_args(...)>``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jiwer
import sacrebleu
import soundfile as sf
from espnet2.bin.s2t_inference import Speech2Text

from helpers import toy_data
from helpers.toy_data import ToyCorpus

__all__ = [
    "REPO_ROOT",
    "STOCK_TRAINER",
    "TOY_CONFIG",
    "TRAINED_MODEL",
    "ToyScores",
    "decode_wav",
    "load_speech2text",
    "make_toy_corpus",
    "read_kaldi_file",
    "score_data_dir",
    "train_cmd_args",
    "train_toy_model",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
TOY_CONFIG = REPO_ROOT / "tests" / "helpers" / "conf" / "toy_train_dense.yaml"
"""Stock dense S2T configuration for the toy corpus."""

STOCK_TRAINER = "espnet2.bin.s2t_train"
"""ESPnet's S2T training entry point."""

TRAINED_MODEL = "valid.acc.ave.pth"
"""Checkpoint that ESPnet's trainer leaves for decoding (best valid accuracy)."""


@dataclass(frozen=True)
class ToyScores:
    """Decoding quality on (part of) a toy data directory.

    Attributes:
        asr_wer: Word error rate of the ASR utterances (0 is perfect).
        st_bleu: Corpus BLEU of the ST utterances (100 is perfect).
        exact: Fraction of utterances decoded without any error.
        pairs: (utterance id, reference, hypothesis) of every utterance.
    """

    asr_wer: float
    st_bleu: float
    exact: float
    pairs: list[tuple[str, str, str]]


def read_kaldi_file(path: Path | str) -> dict[str, str]:
    """Reads a Kaldi ``<utt_id> <value>`` file, keeping the file order.

    Args:
        path: File to read.

    Returns:
        Mapping from the first field to the rest of the line.
    """
    entries = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        entries[key] = value
    return entries


def make_toy_corpus(
    tmp_path: Path, num_train: int = toy_data.DEFAULT_NUM_TRAIN, seed: int = 0
) -> ToyCorpus:
    """Generates a toy corpus (data directories and token list) under a folder.

    Args:
        tmp_path: Output folder, e.g. pytest's ``tmp_path``.
        num_train: Number of training utterances (dev and test have 50 each).
        seed: Seed of the corpus.

    Returns:
        The corpus paths.
    """
    return toy_data.make_toy_corpus(tmp_path, num_train=num_train, seed=seed)


def train_cmd_args(
    corpus: ToyCorpus,
    config: Path,
    exp_dir: Path,
    max_epoch: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> list[str]:
    """Builds the argument list of ESPnet's S2T trainer for the toy corpus.

    Args:
        corpus: The toy corpus.
        config: Training configuration, e.g. :data:`TOY_CONFIG`.
        exp_dir: Output (experiment) directory.
        max_epoch: Number of epochs; ``None`` keeps the configuration's.
        extra_args: More trainer options; later options override earlier
            ones, e.g. ``("--batch_size", "8")``.

    Returns:
        The arguments, without the program name.
    """
    return [
        *toy_data.s2t_train_args(corpus, config, exp_dir, max_epoch=max_epoch),
        *extra_args,
    ]


def train_toy_model(
    corpus: ToyCorpus,
    config: Path,
    exp_dir: Path,
    max_epoch: int | None = None,
    extra_args: tuple[str, ...] = (),
    module: str = STOCK_TRAINER,
    num_threads: int = 1,
) -> Path:
    """Trains a model on the toy corpus with ``python -m <module>``.

    Args:
        corpus: The toy corpus.
        config: Training configuration.
        exp_dir: Output (experiment) directory.
        max_epoch: Number of epochs; ``None`` keeps the configuration's.
        extra_args: More trainer options.
        module: Trainer entry point, e.g. ``espnet_dynprune.bin.s2t_train``
            for configurations that use the plugin's classes.
        num_threads: Torch (OpenMP) threads of the trainer. One is about as
            fast as two for this tiny model and, unlike two, does not slow
            down many times over when other processes share the CPUs.

    Returns:
        ``exp_dir``, which then holds ``config.yaml``, ``valid.acc.ave.pth``
        and the trainer's output in ``train.log``.

    Raises:
        RuntimeError: If the trainer fails; the message ends with its log.
    """
    cmd = [
        sys.executable,
        "-m",
        module,
        *train_cmd_args(corpus, config, exp_dir, max_epoch, extra_args),
    ]
    exp_dir.mkdir(parents=True, exist_ok=True)
    log = exp_dir / "train.log"
    with log.open("w", encoding="utf-8") as stream:
        result = subprocess.run(
            cmd,
            stdout=stream,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OMP_NUM_THREADS": str(num_threads)},
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n"
            + log.read_text(encoding="utf-8")[-5000:]
        )
    return exp_dir


def load_speech2text(
    exp_dir: Path,
    model_file: str = TRAINED_MODEL,
    lang_sym: str = "<eng>",
    task_sym: str = "<asr>",
    beam_size: int = 1,
) -> Speech2Text:
    """Loads a trained toy model into ESPnet's ``Speech2Text``.

    Args:
        exp_dir: Experiment directory of a finished training run.
        model_file: Checkpoint name inside ``exp_dir``.
        lang_sym: Default language symbol.
        task_sym: Default task symbol.
        beam_size: Beam size (1: greedy, the fastest).

    Returns:
        The decoder, on the CPU.
    """
    return Speech2Text(
        s2t_train_config=exp_dir / "config.yaml",
        s2t_model_file=exp_dir / model_file,
        lang_sym=lang_sym,
        task_sym=task_sym,
        beam_size=beam_size,
    )


def decode_wav(
    speech2text: Speech2Text, wav: Path | str, lang_sym: str, task_sym: str
) -> str:
    """Decodes one wav file.

    Args:
        speech2text: A loaded ``Speech2Text``.
        wav: Audio file.
        lang_sym: Language symbol, e.g. ``<deu>``.
        task_sym: Task symbol, e.g. ``<st_eng>``.

    Returns:
        The best hypothesis without special symbols.
    """
    audio, _ = sf.read(wav, dtype="float32")
    results = speech2text(audio, lang_sym=lang_sym, task_sym=task_sym)
    return results[0][3].strip()


def score_data_dir(
    speech2text: Speech2Text, data_dir: Path, limit: int | None = None
) -> ToyScores:
    """Decodes a toy data directory and scores the hypotheses.

    The language and task symbols of each utterance come from its reference.

    Args:
        speech2text: A loaded ``Speech2Text``.
        data_dir: A toy data directory, e.g. ``corpus.test_dir``.
        limit: Decode only the first utterances (``None``: all).

    Returns:
        The scores.
    """
    wavs = read_kaldi_file(data_dir / "wav.scp")
    texts = list(read_kaldi_file(data_dir / "text").items())[:limit]
    pairs = []
    by_task: dict[bool, tuple[list[str], list[str]]] = {True: ([], []), False: ([], [])}
    for utt, line in texts:
        prefix, ref = line.split(" ", 1)
        lang_sym, task_sym = re.findall(r"<[^>]*>", prefix)[:2]
        hyp = decode_wav(speech2text, wavs[utt], lang_sym, task_sym)
        pairs.append((utt, ref, hyp))
        refs, hyps = by_task[task_sym == "<asr>"]
        refs.append(ref)
        hyps.append(hyp)
    asr_refs, asr_hyps = by_task[True]
    st_refs, st_hyps = by_task[False]
    return ToyScores(
        asr_wer=jiwer.wer(asr_refs, asr_hyps) if asr_refs else 0.0,
        st_bleu=sacrebleu.corpus_bleu(st_hyps, [st_refs]).score if st_refs else 0.0,
        exact=sum(ref == hyp for _, ref, hyp in pairs) / max(len(pairs), 1),
        pairs=pairs,
    )
