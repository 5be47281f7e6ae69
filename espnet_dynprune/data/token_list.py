"""Sentencepiece BPE model and ESPnet S2T token list for a training set.

Like stage 5 of ESPnet's ``s2t.sh``: the S2T special symbols (``<na>``,
languages, tasks, ``<notimestamps>``, timestamps) are user-defined symbols that
the tokenizer keeps whole; the token list is ``<blank>``, ``<unk>``, the
sentencepiece vocabulary, then ``<sos>``, ``<eos>``, ``<sop>``.
"""

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import sentencepiece as spm

__all__ = ["NOTIME_SYMBOL", "build_token_list", "context_symbols", "time_symbols"]

NOTIME_SYMBOL = "<notimestamps>"
_PREFIX = re.compile(r"^(<[a-z]{3}>)(<(?:asr|st_[a-z]{3})>)")

logger = logging.getLogger(__name__)


def time_symbols(speech_length: float, resolution: float) -> list[str]:
    """Timestamp tokens ``<0.00>`` ... ``<speech_length>`` (contiguous, in order)."""
    steps = int(round(speech_length / resolution))
    return [f"<{i * resolution:.2f}>" for i in range(steps + 1)]


def context_symbols(text_file: Path) -> tuple[list[str], list[str]]:
    """Language and task symbols used by a Kaldi ``text`` file of S2T targets.

    Raises:
        ValueError: a line does not start with ``<lang><task>`` (names the line).
    """
    languages, tasks = set(), set()
    for number, line in enumerate(text_file.read_text(encoding="utf-8").splitlines()):
        parts = line.split(" ", 1)
        match = _PREFIX.match(parts[1]) if len(parts) == 2 else None
        if match is None:
            raise ValueError(
                f"{text_file}:{number + 1}: S2T text must start with <lang><task>"
            )
        languages.add(match.group(1))
        tasks.add(match.group(2))
    return sorted(languages), sorted(tasks)


def _targets(text_file: Path) -> list[str]:
    """Text after ``<notimestamps>`` (or after the prefix) of each line."""
    out = []
    for line in text_file.read_text(encoding="utf-8").splitlines():
        body = line.split(" ", 1)[1]
        out.append(body.split(NOTIME_SYMBOL, 1)[-1].strip())
    return out


def build_token_list(
    train_dir: Path,
    out_dir: Path,
    nbpe: int,
    speech_length: float,
    resolution: float,
    extra_languages: Sequence[str] = (),
) -> tuple[Path, Path]:
    """Train the BPE model on targets and source transcripts; write ``tokens.txt``.

    Args:
        train_dir: data directory with ``text`` (S2T targets) and ``text_ctc``.
        out_dir: where ``bpe.model``, ``bpe.vocab``, ``tokens.txt`` go.
        nbpe: sentencepiece pieces besides the special symbols (upper bound).
        speech_length: longest timestamp, seconds (``preprocessor_conf``).
        resolution: timestamp resolution, seconds.
        extra_languages: language symbols to add although unused in ``text``.
    Returns:
        Paths of ``tokens.txt`` and ``bpe.model``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    languages, tasks = context_symbols(train_dir / "text")
    languages = sorted(set(languages) | set(extra_languages))
    symbols = [
        "<na>",
        "<nolang>",
        *languages,
        *tasks,
        NOTIME_SYMBOL,
        *time_symbols(speech_length, resolution),
    ]
    sentences = _targets(train_dir / "text")
    sentences += [
        line.split(" ", 1)[1] if " " in line else ""
        for line in (train_dir / "text_ctc").read_text(encoding="utf-8").splitlines()
    ]
    corpus = out_dir / "train.txt"
    corpus.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    prefix = out_dir / "bpe"
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        model_type="bpe",
        vocab_size=nbpe + len(symbols) + 3,
        hard_vocab_limit=False,
        character_coverage=1.0,
        user_defined_symbols=symbols,
        num_threads=1,
        minloglevel=2,
    )
    vocab = prefix.with_suffix(".vocab").read_text(encoding="utf-8").splitlines()
    pieces = [line.split("\t", 1)[0] for line in vocab][3:]  # drop <unk> <s> </s>
    tokens = out_dir / "tokens.txt"
    tokens.write_text(
        "\n".join(["<blank>", "<unk>", *pieces, "<sos>", "<eos>", "<sop>"]) + "\n",
        encoding="utf-8",
    )
    logger.info("wrote %d tokens to %s", len(pieces) + 5, tokens)
    return tokens, prefix.with_suffix(".model")
