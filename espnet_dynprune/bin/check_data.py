"""Check S2T data directories: audio decodes, transcripts exist, ids agree.

Usage:
    python -m espnet_dynprune.bin.check_data data/train data/dev data/test
"""

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from espnet_dynprune.data.check_data import check_data_dir


def main() -> None:
    """Entry point: prints every problem, exits 1 if there is any."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dirs", type=Path, nargs="+")
    parser.add_argument("--fs", type=int, default=16000)
    args = parser.parse_args()
    problems = []
    for data_dir in tqdm(args.data_dirs, desc="checking data", unit="dir"):
        problems += check_data_dir(data_dir, args.fs)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(args.data_dirs)} data directories are usable")


if __name__ == "__main__":
    main()
