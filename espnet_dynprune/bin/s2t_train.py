"""S2T training with the plugin classes registered: ESPnet's ``s2t_train``.

Usage:
    python -m espnet_dynprune.bin.s2t_train --config conf/train_gated.yaml ...

Takes every option of ``python -m espnet2.bin.s2t_train``; the config may use
``model: dynprune``, ``encoder: gated_e_branchformer``, ``decoder: gated_transformer``,
or ``model: word_aligned`` with a ``word_bounds`` input
(``--train_data_path_and_name_and_type data/train/word_bounds,word_bounds,text_int``),
and ``--gate_lr`` sets the gate predictor's learning rate apart from the rest
(joint training of gates and backbone).
"""

from typing import Optional

import espnet_dynprune  # noqa: F401  (registers before the parser is built)
from espnet_dynprune.bin.cli import command_name
from espnet_dynprune.tasks.s2t import DynPruneS2TTask


def main(cmd: Optional[list[str]] = None) -> None:
    """Run ESPnet's S2T trainer."""
    parser = DynPruneS2TTask.get_parser()
    parser.prog = command_name(__spec__)  # ESPnet's would name s2t_train.py
    DynPruneS2TTask.main(args=parser.parse_args(cmd))


if __name__ == "__main__":
    main()
