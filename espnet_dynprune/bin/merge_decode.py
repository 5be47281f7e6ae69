"""Merge split decoding outputs (one per job) into one directory (recipe stage 6).

Usage:
    python -m espnet_dynprune.bin.merge_decode exp/m/decode/test/logdir/output.* \
        --out exp/m/decode/test
"""

import argparse
import json
from pathlib import Path


def main() -> None:
    """Concatenate ``1best_recog/*`` files (sorted by id) and sum ``timing.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parts", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    out = args.out / "1best_recog"
    out.mkdir(parents=True, exist_ok=True)
    names = sorted(
        {f.name for part in args.parts for f in (part / "1best_recog").iterdir()}
    )
    for name in names:
        lines = []
        for part in args.parts:
            path = part / "1best_recog" / name
            if path.exists():
                lines += path.read_text(encoding="utf-8").splitlines()
        (out / name).write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    timing = {"utterances": 0, "seconds": 0.0}
    for part in args.parts:
        part_timing = json.loads((part / "timing.json").read_text())
        timing = {k: timing[k] + part_timing[k] for k in timing}
    (args.out / "timing.json").write_text(json.dumps(timing))


if __name__ == "__main__":
    main()
