"""Check S2T data directories: audio decodes, transcripts exist, ids agree.

Usage:
    python -m espnet_dynprune.bin.check_data data/train data/dev data/test \\
        [--fs 16000] [--min_seconds 0.1] [--max_seconds 30]

Audio must be mono at ``--fs``, with finite samples, between ``--min_seconds``
and ``--max_seconds`` long (the recipes pass their ``speech_length``).
"""

import sys
from pathlib import Path

from tqdm import tqdm

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.data.check_data import MIN_SECONDS, check_data_dir


def main() -> None:
    """Entry point: prints every problem, exits 1 if there is any."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "data_dirs",
        type=Path,
        nargs="+",
        help="S2T data directories to check (wav.scp, text, text_prev, text_ctc)",
    )
    parser.add_argument(
        "--fs", type=int, default=16000, help="required audio sample rate (Hz)"
    )
    parser.add_argument(
        "--min_seconds",
        type=float,
        default=MIN_SECONDS,
        help="shorter audio is a problem (seconds)",
    )
    parser.add_argument(
        "--max_seconds",
        type=float,
        default=None,
        help="longer audio is a problem (seconds): the model's preprocessor_conf."
        "speech_length, beyond which ESPnet cuts audio off; unset: no limit",
    )
    args = parser.parse_args()
    problems = []
    for data_dir in tqdm(args.data_dirs, desc="checking data", unit="dir"):
        problems += check_data_dir(
            data_dir, args.fs, args.min_seconds, args.max_seconds
        )
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(args.data_dirs)} data directories are usable")


if __name__ == "__main__":
    main()
