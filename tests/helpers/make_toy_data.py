"""Generate the synthetic tone-language S2T corpus and its token list.

Usage:
    python -m helpers.make_toy_data --out DIR [--num_train N]
        [--num_dev N] [--num_test N] [--seed S] [--nbpe N]

Writes ``DIR/{train,dev,test}`` (Kaldi-style S2T data directories: wav.scp,
text, text_prev, text_ctc, utt2spk, spk2utt, utt2num_samples, wav/) and
``DIR/tokens/{bpe.model,tokens.txt}``. The same seed gives identical files.
"""

import argparse
import logging
from pathlib import Path
from typing import Optional

from helpers.toy_data import (
    DEFAULT_NUM_DEV,
    DEFAULT_NUM_TEST,
    DEFAULT_NUM_TRAIN,
    make_toy_corpus,
)

__all__ = ["get_parser", "main"]


def get_parser() -> argparse.ArgumentParser:
    """Builds the command-line parser."""
    parser = argparse.ArgumentParser(
        description="Generate the synthetic tone-language S2T corpus.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="Output directory")
    parser.add_argument(
        "--num_train", type=int, default=DEFAULT_NUM_TRAIN, help="Train utterances"
    )
    parser.add_argument(
        "--num_dev", type=int, default=DEFAULT_NUM_DEV, help="Dev utterances"
    )
    parser.add_argument(
        "--num_test", type=int, default=DEFAULT_NUM_TEST, help="Test utterances"
    )
    parser.add_argument("--seed", type=int, default=0, help="Random seed")
    parser.add_argument(
        "--nbpe",
        type=int,
        default=60,
        help="Sentencepiece pieces besides the special symbols (upper bound)",
    )
    return parser


def main(cmd: Optional[list[str]] = None) -> None:
    """Runs the command line.

    Args:
        cmd: Arguments; ``None`` reads ``sys.argv``.
    """
    args = get_parser().parse_args(cmd)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    corpus = make_toy_corpus(
        args.out,
        num_train=args.num_train,
        num_dev=args.num_dev,
        num_test=args.num_test,
        seed=args.seed,
        nbpe=args.nbpe,
    )
    logging.info("Token list: %s", corpus.token_list)


if __name__ == "__main__":
    main()
