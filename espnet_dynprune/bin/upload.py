"""Upload a packed gated model to the Hugging Face Hub (recipe stage 9).

Usage:
    python -m espnet_dynprune.bin.upload --model_dir exp/packed/s2t_gated_dec0.5 \\
        --hf_repo owner/name [--dry_run true] [--private false]

``--model_dir`` is the unzipped package (``espnet_dynprune.bin.pack --out_dir``).
The repository is created if needed and every file goes up in one commit. The
token comes from ``HF_TOKEN`` or ``hf auth login``; ``HF_ENDPOINT`` selects
another Hub. ``--dry_run true`` only lists the files and their sizes.
"""

import logging
from pathlib import Path

from espnet2.utils.types import str2bool

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.io.package import read_package
from espnet_dynprune.packaging.hub import list_upload, upload_packed


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--model_dir",
        type=Path,
        required=True,
        help="the unzipped package (espnet_dynprune.bin.pack --out_dir)",
    )
    parser.add_argument(
        "--hf_repo",
        required=True,
        help="Hub model repository, owner/name (created if needed)",
    )
    parser.add_argument(
        "--dry_run",
        type=str2bool,
        default=False,
        help="true: only check the package and list its files and sizes",
    )
    parser.add_argument(
        "--private",
        type=str2bool,
        default=False,
        help="true: create the repository private (an existing one keeps its "
        "visibility)",
    )
    parser.add_argument(
        "--commit_message", default="Upload gated ESPnet model", help="commit title"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    if args.dry_run:
        read_package(args.model_dir)
        files = list_upload(args.model_dir)
        print(f"dry run: would upload to {args.hf_repo} in one commit:")
        for name, size in files:
            print(f"{size:>12,d}  {name}")
        print(f"{sum(size for _, size in files):>12,d}  total ({len(files)} files)")
        return
    url = upload_packed(
        args.model_dir,
        args.hf_repo,
        private=args.private,
        commit_message=args.commit_message,
    )
    print(f"uploaded: {url}")


if __name__ == "__main__":
    main()
