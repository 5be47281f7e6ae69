"""Merge split decoding outputs (one per job) of each test set (recipe stage 6).

Usage:
    python -m espnet_dynprune.bin.merge_decode exp/m/decode_dense/test_deu_asr \\
        exp/m/decode_predicted/test_deu_asr ...

Each directory's ``logdir/output.*`` (one per decoding job) are merged into it.
"""

import json
import statistics
from pathlib import Path

from espnet_dynprune.bin.cli import entry_point_parser


def merge(parts: list[Path], out: Path) -> None:
    """Concatenate ``1best_recog/*`` files (sorted by id) and sum ``timing.json``
    round by round, its ``seconds`` the median of the summed rounds (its
    decoding options are the parts' own)."""
    best = out / "1best_recog"
    best.mkdir(parents=True, exist_ok=True)
    names = sorted({f.name for part in parts for f in (part / "1best_recog").iterdir()})
    for name in names:
        lines = []
        for part in parts:
            path = part / "1best_recog" / name
            if path.exists():
                lines += path.read_text(encoding="utf-8").splitlines()
        (best / name).write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    timings = [json.loads((part / "timing.json").read_text()) for part in parts]
    rounds = [t.get("rounds", [t["seconds"]]) for t in timings]
    if len({len(r) for r in rounds}) != 1:
        raise SystemExit(f"{out}: its parts were timed in different numbers of rounds")
    summed = [sum(seconds) for seconds in zip(*rounds, strict=True)]
    timing = {
        "utterances": sum(t["utterances"] for t in timings),
        "seconds": statistics.median(summed),
        "rounds": summed,
    }
    options = timings[-1].get("options")
    if options is not None:  # one decoding command per set: the parts agree
        timing["options"] = options
    (out / "timing.json").write_text(json.dumps(timing))


def main() -> None:
    """Merge ``DIR/logdir/output.*`` into ``DIR`` for every DIR given."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "decode_dirs",
        type=Path,
        nargs="+",
        help="decoding directories of test sets; each one's logdir/output.* are "
        "merged into it",
    )
    args = parser.parse_args()
    for decode_dir in args.decode_dirs:
        parts = sorted((decode_dir / "logdir").glob("output.*"))
        if not parts:
            raise SystemExit(f"{decode_dir}/logdir: no output.* to merge")
        merge(parts, decode_dir)


if __name__ == "__main__":
    main()
