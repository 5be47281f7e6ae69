"""Scores of decoded test sets: WER (ASR), BLEU (ST), gate sparsity, speed.

WER uses ``jiwer`` after ESPnet-style normalisation (special tokens removed,
lower case, punctuation dropped), with sclite's breakdown (hits, substitutions,
deletions, insertions, sentences with an error) kept for ESPnet's WER tables;
BLEU is ``sacrebleu``'s corpus BLEU on the same normalised text, with its
signature reported.
"""

import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import jiwer
import numpy as np
import sacrebleu

__all__ = [
    "DecodeScore",
    "format_change",
    "format_value",
    "normalize",
    "read_decode_options",
    "read_gates",
    "read_kaldi_text",
    "score_decode_dir",
    "sparsity_cells",
    "summarize",
]

_SPECIAL = re.compile(r"<[^<>\s]+>")
_PUNCTUATION = str.maketrans("", "", string.punctuation.replace("'", ""))


def normalize(text: str) -> str:
    """Drop ``<...>`` tokens and punctuation, lower-case, squeeze spaces."""
    text = _SPECIAL.sub(" ", text).lower().translate(_PUNCTUATION)
    return " ".join(text.split())


def read_kaldi_text(path: Path) -> dict[str, str]:
    """``utt_id -> rest of line`` of a Kaldi text file."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        entries[key] = value
    return entries


def read_gates(path: Path) -> dict[str, np.ndarray]:
    """Per part, ``(utterances, layers, modules)`` 0/1 arrays from a ``gates`` file."""
    parts: dict[str, list[list[list[int]]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        for word in line.split()[1:]:  # "encoder=1111 1011 decoder=111 010"
            part, _, word = word.rpartition("=")
            if part:
                layers = parts.setdefault(part, [])
                layers.append([])
            layers[-1].append([int(c) for c in word])
    return {part: np.array(values) for part, values in parts.items()}


@dataclass
class DecodeScore:
    """Scores of one model on one test set."""

    test_set: str
    task: str
    utterances: int
    metric: str
    score: float
    seconds: float
    signature: Optional[str] = None
    sparsity: dict[str, float] = field(default_factory=dict)
    open_rate: dict[str, list[list[float]]] = field(default_factory=dict)
    dense_seconds: Optional[float] = None
    """Decode seconds of the dense reference on the same set (gated models only):
    the recipe decodes it interleaved with the gated model, in the same processes."""
    rounds: Optional[list[float]] = None
    """Decode seconds of each timing round (``seconds`` is their median)."""
    dense_rounds: Optional[list[float]] = None
    """The dense reference's seconds in the same rounds."""
    words: Optional[int] = None
    """Reference words of a WER set; this and the counts below (sclite's) are
    None for BLEU sets and in results.json files written before they existed."""
    hits: Optional[int] = None
    substitutions: Optional[int] = None
    deletions: Optional[int] = None
    insertions: Optional[int] = None
    sentence_errors: Optional[int] = None
    """Utterances whose hypothesis has any substitution, deletion or insertion."""

    def time_change(self) -> Optional[float]:
        """Relative change of decode time against ``dense_seconds`` (-0.3: 30% less)."""
        if not self.dense_seconds:
            return None
        return self.seconds / self.dense_seconds - 1


def format_value(value: Optional[float], digits: int = 1) -> str:
    """A score, sparsity or time for a Markdown table; ``-`` if missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def sparsity_cells(score: DecodeScore) -> list[str]:
    """Encoder, decoder and FLOPs sparsity of a score as table cells."""
    parts = ("encoder", "decoder", "flops")
    return [format_value(score.sparsity.get(part), 2) for part in parts]


def format_change(change: Optional[float], missing: str = "-") -> str:
    """A relative change (``-0.3``) as ``-30.0%``; ``missing`` if there is none."""
    return missing if change is None else f"{100 * change:+.1f}%"


def _task_of(ref_text: dict[str, str]) -> str:
    first = next(iter(ref_text.values()))
    match = re.match(r"^<[a-z]{3}><(asr|st_[a-z]{3})>", first)
    if match is None:
        raise ValueError("reference text must start with <lang><task>")
    return match.group(1)


def _decode_timing(decode_dir: Path) -> tuple[float, list[float]]:
    """Beam-search seconds of one decoded set and of each timing round
    (its ``timing.json``; one round if it records none)."""
    timing = json.loads((decode_dir / "timing.json").read_text())
    seconds = float(timing["seconds"])
    return seconds, [float(r) for r in timing.get("rounds", [seconds])]


def read_decode_options(decode_dir: Path) -> Optional[str]:
    """The options a decode dir's test sets were decoded with (``s2t_inference``
    records them in each set's ``timing.json``); None if none records them."""
    for timing in sorted(decode_dir.glob("*/timing.json")):
        options = json.loads(timing.read_text()).get("options")
        if options:
            return options
    return None


def _wer(ref_list: list[str], hyp_list: list[str]) -> tuple[float, dict[str, int]]:
    """WER (%) and sclite's counts, as :class:`DecodeScore` fields, of the
    hypotheses: one alignment gives both, so the breakdown adds up to the WER."""
    words = jiwer.process_words(ref_list, hyp_list)
    return 100 * words.wer, {
        "words": words.hits + words.substitutions + words.deletions,
        "hits": words.hits,
        "substitutions": words.substitutions,
        "deletions": words.deletions,
        "insertions": words.insertions,
        "sentence_errors": sum(
            any(chunk.type != "equal" for chunk in chunks)
            for chunks in words.alignments
        ),
    }


def score_decode_dir(
    decode_dir: Path,
    data_dir: Path,
    module_flops: Optional[dict[str, np.ndarray]] = None,
    dense_dir: Optional[Path] = None,
) -> DecodeScore:
    """Score ``decode_dir/1best_recog/text`` against ``data_dir/text``.

    Args:
        decode_dir: output of ``espnet_dynprune.bin.s2t_inference`` for one set.
        data_dir: the test set's data directory.
        module_flops: per part, ``(modules,)`` FLOPs per layer module, to weigh
            the sparsity by cost.
        dense_dir: the dense reference's decoding of the same set, whose time
            becomes ``dense_seconds``.
    Raises:
        ValueError: utterances are missing from the hypotheses (names a few).
    """
    refs = read_kaldi_text(data_dir / "text")
    hyps = read_kaldi_text(decode_dir / "1best_recog" / "text")
    missing = sorted(set(refs) - set(hyps))
    if missing:
        raise ValueError(f"{decode_dir}: no hypothesis for {missing[:5]}")
    keys = sorted(refs)
    ref_list = [normalize(refs[k]) for k in keys]
    hyp_list = [normalize(hyps[k]) for k in keys]
    task = _task_of(refs)
    seconds, rounds = _decode_timing(decode_dir)
    dense_seconds, dense_rounds = (
        (None, None) if dense_dir is None else _decode_timing(dense_dir)
    )
    counts: dict[str, int] = {}
    if task == "asr":
        value, counts = _wer(ref_list, hyp_list)
        metric, signature = "WER", None
    else:
        bleu = sacrebleu.metrics.BLEU()
        metric = "BLEU"
        value = bleu.corpus_score(hyp_list, [ref_list]).score
        signature = str(bleu.get_signature())
    result = DecodeScore(
        test_set=data_dir.name,
        task=task,
        utterances=len(keys),
        metric=metric,
        score=value,
        seconds=seconds,
        signature=signature,
        dense_seconds=dense_seconds,
        rounds=rounds,
        dense_rounds=dense_rounds,
        **counts,
    )
    gates_file = decode_dir / "1best_recog" / "gates"
    if gates_file.exists():
        closed_flops, total_flops = 0.0, 0.0
        for part, gates in read_gates(gates_file).items():
            result.sparsity[part] = float(1 - gates.mean())
            result.open_rate[part] = gates.mean(0).round(4).tolist()
            if module_flops is not None and part in module_flops:
                cost = np.broadcast_to(module_flops[part], gates.shape[1:])
                closed_flops += float(((1 - gates) * cost).sum(axis=(1, 2)).mean())
                total_flops += float(cost.sum())
        if total_flops:
            result.sparsity["flops"] = closed_flops / total_flops
    return result


def summarize(scores: list[DecodeScore]) -> tuple[Optional[float], Optional[float]]:
    """Average WER over ASR sets and BLEU over ST sets."""
    wers = [s.score for s in scores if s.metric == "WER"]
    bleus = [s.score for s in scores if s.metric == "BLEU"]
    return (
        sum(wers) / len(wers) if wers else None,
        sum(bleus) / len(bleus) if bleus else None,
    )
