#!/usr/bin/env bash
# Default recipe: multilingual ASR + ST on a corpus it synthesizes itself, a dense
# OWSM-style baseline, gated models from it, decoding, scoring and the report.
#   ./run.sh                      # everything, default size
#   ./run.sh --data_opts "--size quick" --targets 0.5     # smoke-test size
#   ./run.sh --stage 6 --stop_stage 7                     # re-decode and re-score
set -euo pipefail

./dynprune.sh \
    --dense_config conf/train_dense.yaml \
    --gate_config conf/gate.yaml \
    --targets "0.5" \
    --speech_length 5 \
    --nbpe 300 \
    "$@"
