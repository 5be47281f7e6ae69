"""Train the BPE model and write the ESPnet S2T token list (recipe stage 2).

Usage:
    python -m espnet_dynprune.bin.make_token_list --train_dir data/train \\
        --out_dir data/token_list/bpe300 --nbpe 300 --speech_length 6 --resolution 0.02
"""

import logging
from pathlib import Path

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.data.token_list import build_token_list


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--train_dir",
        type=Path,
        required=True,
        help="training data directory; the BPE model learns its text (S2T "
        "targets) and text_ctc",
    )
    parser.add_argument(
        "--out_dir",
        type=Path,
        required=True,
        help="where bpe.model, bpe.vocab and tokens.txt go (created)",
    )
    parser.add_argument(
        "--nbpe",
        type=int,
        default=300,
        help="sentencepiece pieces besides the special symbols (upper bound)",
    )
    parser.add_argument(
        "--speech_length",
        type=float,
        required=True,
        help="longest timestamp symbol, seconds: the config's "
        "preprocessor_conf.speech_length",
    )
    parser.add_argument(
        "--resolution",
        type=float,
        default=0.02,
        help="step between timestamp symbols <0.00> <0.02> ..., seconds",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    tokens, model = build_token_list(
        args.train_dir, args.out_dir, args.nbpe, args.speech_length, args.resolution
    )
    print(f"token list: {tokens}\nbpe model: {model}")


if __name__ == "__main__":
    main()
