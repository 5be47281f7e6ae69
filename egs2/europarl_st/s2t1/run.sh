#!/usr/bin/env bash
# The paper's setup: prune OWSM v3.1 medium on Europarl-ST German, French and
# Italian speech, ASR and ST into English. Gates are trained on the frozen
# pretrained model (no dense training), one gated model per decoder target.
#   ./run.sh                                           # everything (GPU, db.sh set)
#   ./run.sh --init_model espnet/owsm_v3.1_ebf_base    # a smaller OWSM
#   ./run.sh --stage 6 --stop_stage 7 --nj 8           # re-decode and re-score
set -euo pipefail

./dynprune.sh \
    --init_model espnet/owsm_v3.1_ebf \
    --gate_config conf/gate.yaml \
    --targets "0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9" \
    --data_opts "--langs de,fr,it --tasks asr,st" \
    --decode_args "--beam_size 5" \
    "$@"
