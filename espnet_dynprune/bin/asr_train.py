"""ASR training with the plugin classes registered: ESPnet's ``asr_train``.

Usage:
    python -m espnet_dynprune.bin.asr_train --config conf/train_asr_gated.yaml ...

Takes every option of ``python -m espnet2.bin.asr_train``. The ASR task has no
``<lang><task>`` text prefix: use an acoustic-only predictor
(``gate_predictor_conf: {context: [], acoustic: true}``).
"""

from typing import Optional

from espnet2.tasks.asr import ASRTask

import espnet_dynprune  # noqa: F401  (registers before the parser is built)
from espnet_dynprune.bin.cli import command_name


def main(cmd: Optional[list[str]] = None) -> None:
    """Run ESPnet's ASR trainer."""
    parser = ASRTask.get_parser()
    parser.prog = command_name(__spec__)  # ESPnet's would name asr_train.py
    ASRTask.main(args=parser.parse_args(cmd))


if __name__ == "__main__":
    main()
