"""S2T training with the plugin classes registered: ESPnet's ``s2t_train``.

Usage:
    python -m espnet_dynprune.bin.s2t_train --config conf/train_gated.yaml ...

Takes every option of ``python -m espnet2.bin.s2t_train``; the config may use
``model: dynprune``, ``encoder: gated_e_branchformer``, ``decoder: gated_transformer``.
"""

from typing import List, Optional

from espnet2.tasks.s2t import S2TTask

import espnet_dynprune  # noqa: F401  (registers before the parser is built)


def main(cmd: Optional[List[str]] = None) -> None:
    """Run ESPnet's S2T trainer."""
    S2TTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
