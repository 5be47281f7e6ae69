"""Prepare Europarl-ST (v1.1 layout) as Kaldi-style S2T data directories.

Usage:
    python -m espnet_dynprune.bin.prepare_europarl_st --europarl_st /corpora/v1.1 \\
        --out data [--langs de,fr,it] [--tasks asr,st]

Reads ``{europarl_st}/{src}/audios/*.m4a`` and ``{europarl_st}/{src}/en/{split}/``
(``segments.lst``, ``segments.{src}``, ``segments.en``) for the train, dev and
test splits; writes ``OUT/train``, ``OUT/dev`` and ``OUT/test_<lang>_<task>``
(e.g. ``test_deu_st_eng``) with targets ``<deu><asr><notimestamps> ...`` and
``<deu><st_eng><notimestamps> ...``, and the segments as 16 kHz FLAC under
``OUT/wav``. The m4a talks are decoded with PyAV (FFmpeg libraries in its
wheel); a file that cannot be decoded stops the run with its name. Re-running
skips segments whose FLAC already exists.
"""

import logging
import sys
from pathlib import Path

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.data.europarl_st import prepare_europarl_st

__all__ = ["main"]


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--europarl_st",
        type=Path,
        required=True,
        help="the Europarl-ST v1.1 directory (with <src>/audios and <src>/en)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="data directory: train, dev, test_<lang>_<task>, audio under wav/",
    )
    parser.add_argument(
        "--langs",
        default="de,fr,it",
        help="source languages, ISO 639-1, comma-separated (among de, fr, it, es)",
    )
    parser.add_argument(
        "--tasks",
        default="asr,st",
        help="comma-separated: asr (transcription) and/or st (translation into "
        "English)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        counts = prepare_europarl_st(
            args.europarl_st,
            args.out,
            [lang for lang in args.langs.split(",") if lang],
            [task for task in args.tasks.split(",") if task],
        )
    except ValueError as error:
        print(f"prepare_europarl_st: {error}", file=sys.stderr)
        sys.exit(1)
    for name, count in counts.items():
        print(f"{args.out / name}: {count} utterances")


if __name__ == "__main__":
    main()
