"""Export the pruned model of one (language, task) context.

Usage:
    python -m espnet_dynprune.bin.export_context \\
        --s2t_train_config exp/s2t_gated/config.yaml \\
        --s2t_model_file exp/s2t_gated/valid.acc.ave.pth \\
        --lang_sym "<deu>" --task_sym "<st_eng>" --out_dir exp/export_deu_st_eng

The gated model must predict its gates from the context only
(``gate_predictor_conf.acoustic: false``). ``out_dir`` receives ``config.yaml``
(``model: espnet`` with ``pruned_modules``), ``model.pth`` (without the gate
predictor and the removed modules) and ``context.json``. Decode it with ESPnet's
``Speech2Text`` after ``import espnet_dynprune``.
"""

import json
import logging

from espnet_dynprune.bin.cli import entry_point_parser
from espnet_dynprune.inference.export_context import export_context


def main() -> None:
    """Entry point."""
    parser = entry_point_parser(__spec__, __doc__)
    parser.add_argument(
        "--s2t_train_config",
        required=True,
        help="the gated model's config.yaml (model: dynprune, context-only predictor)",
    )
    parser.add_argument(
        "--s2t_model_file",
        required=True,
        help="its weights, with trained gating.* weights",
    )
    parser.add_argument(
        "--lang_sym",
        default=None,
        help="language symbol of the context, brackets included, e.g. <deu>; "
        "needed if the predictor reads the language",
    )
    parser.add_argument(
        "--task_sym",
        default=None,
        help="task symbol of the context, brackets included, e.g. <st_eng>; "
        "needed if the predictor reads the task",
    )
    parser.add_argument(
        "--out_dir",
        required=True,
        help="export directory (created): config.yaml, model.pth, context.json",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    summary = export_context(
        args.s2t_train_config,
        args.s2t_model_file,
        args.lang_sym,
        args.task_sym,
        args.out_dir,
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
