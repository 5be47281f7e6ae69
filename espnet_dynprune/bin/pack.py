"""Pack a trained gated model for sharing (recipe stage 8).

Usage:
    python -m espnet_dynprune.bin.pack \
        --s2t_train_config exp/s2t_gated_dec0.5/config.yaml \
        --s2t_model_file exp/s2t_gated_dec0.5/valid.acc.ave.pth \
        --report_dir . --out exp/packed/s2t_gated_dec0.5.zip \
        --out_dir exp/packed/s2t_gated_dec0.5 [--hf_repo owner/name] \
        [--license cc-by-4.0] [--dense_only false]

Run from the recipe directory: relative paths inside the config (``bpemodel``,
stats) are read from the working directory. Writes ESPnet's packed ``.zip``
(``meta.yaml``, config, weights, BPE model, token list) plus ``dynprune.yaml``,
the Hub model card ``README.md`` and, from ``--report_dir`` (the scoring
stage's output), ``RESULTS.md``, ``results.json`` and the gate heatmap;
``--out_dir`` also unzips it there (what ``espnet_dynprune.bin.upload`` sends).
"""

import argparse
import logging
from pathlib import Path

from espnet2.utils.types import str2bool

from espnet_dynprune.packaging.pack import pack_model


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--s2t_train_config", type=Path, required=True)
    parser.add_argument("--s2t_model_file", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="the .zip to write")
    parser.add_argument("--out_dir", type=Path, help="also unzip the package here")
    parser.add_argument(
        "--report_dir", type=Path, help="RESULTS.md, results.json, gates_*.png"
    )
    parser.add_argument("--token_list", type=Path, help="default: next to bpemodel")
    parser.add_argument("--hf_repo", help="repository named in the model card")
    parser.add_argument("--license", default="cc-by-4.0", help="Hub license id")
    parser.add_argument(
        "--dense_only",
        type=str2bool,
        default=False,
        help="allow weights without gate predictor (gate_mode=dense only)",
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
