#!/usr/bin/env bash
# Default recipe: multilingual ASR + ST on a corpus it synthesizes itself, a dense
# OWSM-style baseline, gated models from it, decoding, scoring and the report.
#   ./run.sh                          # everything at the default size (make demo)
#   ./run.sh --quick                  # smoke-test size: 600 utterances, short training,
#                                     # in data_quick/ and exp_quick/ (figures not meaningful)
#   ./run.sh --targets "0.25 0.5 0.75"   # a sparsity curve: one gated model per target
#   ./run.sh --stage 6 --stop_stage 7    # re-decode and re-score
set -euo pipefail

size_opts=()
if [ "${1:-}" = "--quick" ]; then
    shift
    size_opts=(--data_opts "--size quick" --datadir data_quick --expdir exp_quick
        --report_dir exp_quick
        --dense_args "--max_epoch 5 --scheduler_conf warmup_steps_list=[0,40,190]"
        --gated_args "--max_epoch 1" --timing_rounds 1)
fi

./dynprune.sh \
    --dense_config conf/train_dense.yaml \
    --gate_config conf/gate.yaml \
    --targets "0.5" \
    --freeze_param "" \
    --speech_length 5 \
    --nbpe 300 \
    --decode_args "--beam_size 5 --minlenratio 0.1" \
    "${size_opts[@]}" \
    "$@"
