"""Fixture of the pack and Hub tests: a packed toy gated model and its hypotheses.

The toy corpus and the dense -> gate-only training are the fixtures of
``trained_toy`` (a test module using :func:`toy` imports them as well). They
are module-scoped, but what they leave behind are files under pytest's session
temporary directory: :func:`toy` builds the package once per session and every
later module reuses it instead of training again.

``python -m helpers.pack_fixtures MODEL_TAG WAV...`` (``tests/`` on the path)
prints, as one JSON line, what :func:`decode` gives for
``Speech2Text.from_pretrained(MODEL_TAG)``: the Hub tests run it in a fresh
process, with the Hub environment variables set.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf

from espnet_dynprune.eval.report import write_report
from espnet_dynprune.eval.scoring import DecodeScore
from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.packaging.pack import pack_model

from helpers.trained_toy import (  # noqa: F401  (fixtures)
    MODEL,
    corpus_fixture,
    dense_exp_fixture,
    gated_run_fixture,
)

__all__ = [
    "CONTEXTS",
    "MODEL",
    "ToyPackage",
    "corpus_fixture",
    "decode",
    "dense_exp_fixture",
    "gated_run_fixture",
    "load",
    "toy_fixture",
]

CONTEXTS = (("<deu>", "<st_eng>"), ("<fra>", "<asr>"))
"""(language, task) contexts every comparison decodes with."""

Hypotheses = list[tuple[str, str, list[str]]]


@dataclass(frozen=True)
class ToyPackage:
    """A trained toy gated model, packed.

    Attributes:
        gated_exp: experiment directory of the gated model.
        dense_exp: experiment directory of its dense baseline (no gate weights).
        report_dir: ``RESULTS.md``, ``results.json`` and heatmap of the model.
        zip: the package.
        directory: the package unzipped.
        wavs: three test utterances.
        reference: :func:`decode` of the model as trained (not packed).
    """

    gated_exp: Path
    dense_exp: Path
    report_dir: Path
    zip: Path
    directory: Path
    wavs: list[str]
    reference: Hypotheses


def decode(s2t: Speech2Text, wavs: list[str]) -> Hypotheses:
    """Per (utterance, context): context, active modules and n-best texts."""
    hypotheses = []
    for wav in wavs:
        audio, _ = sf.read(wav, dtype="float32")
        for lang, task in CONTEXTS:
            texts = [r[0] for r in s2t(audio, lang_sym=lang, task_sym=task)]
            hypotheses.append((lang + task, str(s2t.active_modules()), texts))
    return hypotheses


def load(tag: str) -> Speech2Text:
    """``from_pretrained`` with the settings of :attr:`ToyPackage.reference`."""
    return Speech2Text.from_pretrained(tag, beam_size=2, nbest=2)


def toy_scores(model: str) -> dict[str, list[DecodeScore]]:
    """Scores in the scoring stage's format (values made up, not measured)."""
    open_rate = {"encoder": [[1, 1, 0.5, 1], [1, 1, 1, 0]], "decoder": [[1, 0, 1]] * 2}
    sparsity = {"encoder": 0.19, "decoder": 0.33, "flops": 0.27}
    gated = {"signature": None, "sparsity": sparsity, "open_rate": open_rate}
    return {
        f"{model}/decode_dense": [
            DecodeScore("test_deu_st_eng", "st_eng", 4, "BLEU", 12.3, 2.0),
            DecodeScore("test_fra_asr", "asr", 4, "WER", 45.6, 2.0),
        ],
        f"{model}/decode_predicted": [
            DecodeScore(
                "test_deu_st_eng",
                "st_eng",
                4,
                "BLEU",
                11.1,
                1.5,
                **gated,
                dense_seconds=2.0,
            ),
            DecodeScore(
                "test_fra_asr", "asr", 4, "WER", 47.8, 1.0, **gated, dense_seconds=2.0
            ),
        ],
    }


_SESSION: dict[str, ToyPackage] = {}


def _build(request: pytest.FixtureRequest, out: Path) -> ToyPackage:
    toy_corpus = request.getfixturevalue("corpus")
    dense = request.getfixturevalue("dense_exp")
    gated, _ = request.getfixturevalue("gated_run")
    report_dir = out / "report"
    write_report(toy_scores(gated.name), report_dir, f"{gated.name}/decode_dense", "")
    zip_path = pack_model(
        gated / "config.yaml",
        gated / MODEL,
        out / "toy.zip",
        report_dir=report_dir,
        repo_id="owner/toy",
        out_dir=out / "toy",
    )
    lines = (toy_corpus.test_dir / "wav.scp").read_text().splitlines()
    wavs = [line.split()[1] for line in lines[:3]]
    trained = Speech2Text(gated / "config.yaml", gated / MODEL, beam_size=2, nbest=2)
    return ToyPackage(
        gated, dense, report_dir, zip_path, out / "toy", wavs, decode(trained, wavs)
    )


@pytest.fixture(scope="module", name="toy")
def toy_fixture(request, tmp_path_factory) -> ToyPackage:
    """The packed toy model; trained and packed once per session."""
    if "toy" not in _SESSION:
        _SESSION["toy"] = _build(request, tmp_path_factory.mktemp("toy_package"))
    return _SESSION["toy"]


def main() -> None:
    """Decode with a model loaded by ``from_pretrained``; print one JSON line."""
    tag, *wavs = sys.argv[1:]
    print(json.dumps(decode(load(tag), wavs)))


if __name__ == "__main__":
    main()
