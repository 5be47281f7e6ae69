"""Synthesize the multilingual ASR + ST corpus with eSpeak NG.

Usage:
    python -m espnet_dynprune.bin.make_synth_corpus --out DIR \\
        [--size default|quick|N] [--segment_seconds T] [--seed S] [--nj J] \\
        [--langs eng,deu,...]

Writes Kaldi-style S2T data directories ``DIR/{train,dev,test}`` and one test
set per (language, task) pair, ``DIR/test_<lang>_<task>`` (e.g.
``test_deu_st_eng``), with 16 kHz 16-bit WAV files under ``DIR/wav/``.
``--size quick`` gives 600 training utterances, ``default`` 6000, an integer N
gives N. The same seed gives identical files. eSpeak NG must be installed:
``pip install espeakng-loader`` (or the system package ``espeak-ng``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.data.languages import LANGUAGES
from espnet_dynprune.data.synth.make_corpus import make_corpus, parse_size
from espnet_dynprune.data.synth.tts import EspeakNotFoundError, SynthesisError

__all__ = ["get_parser", "main"]


def get_parser() -> argparse.ArgumentParser:
    """Builds the command-line parser."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output directory: train, dev, test and test_<lang>_<task> data "
        "directories, audio under wav/",
    )
    parser.add_argument(
        "--size",
        default="default",
        help="training utterances: quick (600), default (6000) or a number N",
    )
    parser.add_argument(
        "--segment_seconds",
        type=float,
        default=None,
        help="make every utterance a segment of this many seconds, noise after "
        "the speech (set it to the S2T speech_length); unset: natural lengths",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (same seed: same files)"
    )
    parser.add_argument(
        "--nj", type=int, default=2, help="parallel synthesis processes"
    )
    parser.add_argument(
        "--langs",
        default=",".join(LANGUAGES),
        help="comma-separated source languages (ISO 639-3)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Runs the command line; exits with status 1 on a usage or setup error."""
    parser = get_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    try:
        size = parse_size(args.size)
        langs = tuple(lang.strip() for lang in args.langs.split(",") if lang.strip())
        summary = make_corpus(
            args.out,
            size,
            seed=args.seed,
            nj=args.nj,
            langs=langs,
            segment_seconds=args.segment_seconds,
        )
    except (ValueError, EspeakNotFoundError, SynthesisError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    total = sum(summary.seconds.values())
    print(f"eSpeak NG: {summary.synthesizer}")
    for split, count in summary.num_utterances.items():
        hours = summary.seconds[split] / 3600
        print(f"{split}: {count} utterances, {hours:.2f} h")
    print(
        f"total: {total / 3600:.2f} h of audio in {summary.wall_seconds:.0f} s "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
