"""Convert a pretrained OWSM / ESPnet S2T model into an initial gated model.

Usage:
    python -m espnet_dynprune.bin.convert_owsm SOURCE OUT_DIR \\
        [--model_file exp/x/valid.acc.ave.pth] [--revision REV] \\
        [--gate_conf egs2/europarl_st/s2t1/conf/gate.yaml] \\
        [--parts decoder] [--encoder_target none] [--decoder_target 0.5]

SOURCE is a Hugging Face Hub id (``espnet/owsm_v3.1_ebf``), a packed ``.zip``,
a directory with ``meta.yaml`` (unpacked zip or Hub snapshot), or a training
``config.yaml`` (then ``--model_file`` names its weights). OUT_DIR receives:

* ``tokens.txt``, ``bpe.model``, ``feats_stats.npz``: the source's token list,
  BPE model and normalisation statistics;
* ``stock_config.yaml``: the source config, naming those copies;
* ``config.yaml``: the gated config (train it with ``--config``); ``--parts``
  fixes which parts carry gates (the shape of the new gate predictor), the
  targets only go into its ``sparsity_conf``;
* ``init.pth``: the gated checkpoint: the source weights unchanged plus the
  initial gate predictor (``gating.*``); pass it as ``--init_param``.
"""

import logging
from pathlib import Path

import yaml

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.bin.make_gated_config import add_parts_option, parse_target
from espnet_dynprune.io.package import read_yaml_mapping
from espnet_dynprune.packaging.convert_owsm import convert_checkpoint
from espnet_dynprune.packaging.pretrained import (
    localize_assets,
    resolve_source,
)
from espnet_dynprune.tasks.gated_config import apply_gate_options

__all__ = ["main"]

STOCK_CONFIG = "stock_config.yaml"
GATED_CONFIG = "config.yaml"
INIT_MODEL = "init.pth"


def _write_yaml(data: dict, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True)


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "source",
        help="the pretrained model: Hub id, packed .zip, directory with meta.yaml "
        "or training config.yaml",
    )
    parser.add_argument(
        "out_dir", type=Path, help="where the converted files go (see above)"
    )
    parser.add_argument(
        "--model_file",
        type=Path,
        default=None,
        help="the weights, needed (only) when SOURCE is a config.yaml",
    )
    parser.add_argument(
        "--revision",
        default=None,
        help="Hub revision (branch, tag or commit) of a Hub id; unset: the default "
        "branch",
    )
    parser.add_argument(
        "--gate_conf",
        type=Path,
        default=None,
        help="YAML with gate_predictor_conf, sparsity_conf and training keys that "
        "replace the source config's (as make_gated_config); unset: none",
    )
    parser.add_argument(
        "--encoder_target",
        type=parse_target,
        default=None,
        help="target fraction of closed encoder gates, in [0, 1), written to "
        "sparsity_conf; none: no encoder sparsity term",
    )
    parser.add_argument(
        "--decoder_target",
        type=parse_target,
        default=0.5,
        help="target fraction of closed decoder gates, in [0, 1), written to "
        "sparsity_conf; none: no decoder sparsity term",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the gate predictor's init"
    )
    add_parts_option(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")

    source = resolve_source(args.source, args.model_file, args.revision)
    stock = localize_assets(read_yaml_mapping(source.config), source, args.out_dir)
    _write_yaml(stock, args.out_dir / STOCK_CONFIG)
    options = read_yaml_mapping(args.gate_conf) if args.gate_conf is not None else {}
    # No teacher in the converted config: stage 5 distills from this source model.
    gated = apply_gate_options(
        stock,
        options,
        args.encoder_target,
        args.decoder_target,
        args.parts,
        distill_weight=0.0,
    )
    _write_yaml(gated, args.out_dir / GATED_CONFIG)
    new_keys = convert_checkpoint(
        gated, source.model_file, args.out_dir / INIT_MODEL, args.seed
    )
    print(
        f"{args.out_dir / GATED_CONFIG}\n{args.out_dir / INIT_MODEL} "
        f"({len(new_keys)} new gate tensors)"
    )


if __name__ == "__main__":
    main()
