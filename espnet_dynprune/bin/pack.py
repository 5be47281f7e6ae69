"""Pack a trained gated model for sharing (recipe stage 8).

Usage:
    python -m espnet_dynprune.bin.pack \\
        --s2t_train_config exp/s2t_gated_dec0.5/config.yaml \\
        --s2t_model_file exp/s2t_gated_dec0.5/valid.acc.ave.pth \\
        --report_dir . --out exp/packed/s2t_gated_dec0.5.zip \\
        --out_dir exp/packed/s2t_gated_dec0.5 [--hf_repo owner/name] \\
        [--license cc-by-4.0] [--dense_only false]

Run from the recipe directory: relative paths inside the config (``bpemodel``,
stats) are read from the working directory. Writes ESPnet's packed ``.zip``
(``meta.yaml``, config, weights, BPE model, token list) plus ``dynprune.yaml``,
the Hub model card ``README.md`` and, from ``--report_dir`` (the scoring
stage's output), ``RESULTS.md``, ``results.json`` and the gate heatmap;
``--out_dir`` also unzips it there (what ``espnet_dynprune.bin.upload`` sends).
"""

import logging
from pathlib import Path

from espnet2.utils.types import str2bool

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.packaging.pack import pack_model


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--s2t_train_config",
        type=Path,
        required=True,
        help="the trained gated model's config.yaml (model: dynprune)",
    )
    parser.add_argument(
        "--s2t_model_file",
        type=Path,
        required=True,
        help="its weights, e.g. exp/<model>/valid.acc.ave.pth",
    )
    parser.add_argument("--out", type=Path, required=True, help="the .zip to write")
    parser.add_argument(
        "--out_dir",
        type=Path,
        default=None,
        help="also unzip the package here (what upload sends); unset: no copy",
    )
    parser.add_argument(
        "--report_dir",
        type=Path,
        default=None,
        help="the scoring stage's output: RESULTS.md, results.json and gate "
        "heatmaps are packed from it; unset: no results",
    )
    parser.add_argument(
        "--token_list",
        type=Path,
        default=None,
        help="tokens.txt; unset: the one next to the config's bpemodel",
    )
    parser.add_argument(
        "--hf_repo",
        default=None,
        help="Hub repository (owner/name) named in the model card's loading "
        "example; unset: the placeholder <owner>/<model>",
    )
    parser.add_argument(
        "--license", default="cc-by-4.0", help="Hub license id of the model card"
    )
    parser.add_argument(
        "--dense_only",
        type=str2bool,
        default=False,
        help="true: allow weights without the gate predictor (for gate_mode "
        "dense only)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    pack_model(
        args.s2t_train_config,
        args.s2t_model_file,
        args.out,
        report_dir=args.report_dir,
        token_list=args.token_list,
        repo_id=args.hf_repo,
        license=args.license,
        dense_only=args.dense_only,
        out_dir=args.out_dir,
    )


if __name__ == "__main__":
    main()
