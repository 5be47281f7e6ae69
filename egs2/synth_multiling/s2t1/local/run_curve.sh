#!/usr/bin/env bash
# The sparsity curve of the default recipe, with and without distillation, from the
# dense baseline of ./run.sh (exp/s2t_dense): decoder targets 0.25, 0.5 and 0.75 and
# one joint encoder + decoder model, each trained twice (distilled from the baseline:
# s2t_gated_*; not distilled: s2t_gated_*_nokd), each decoded beside the baseline,
# all scored into one report (RESULTS.md, results.json, heatmaps, tradeoff.png).
#   local/run_curve.sh                        # after ./run.sh (make demo)
#   local/run_curve.sh --timing_rounds 3      # median of three interleaved runs
set -euo pipefail

expdir=exp/curve
report_dir=results_curve
timing_rounds=1         # decoding runs per model (the report gives their median)
targets="0.25 0.5 0.75" # decoder-only models
joint_encoder_target=0.25
joint_decoder_target=0.5
high_target_weight=75   # sparsity weight of targets >= 0.75: at run.sh's 25 the
                        # gates of a 0.75 model settle near 0.5
nj=2

. utils/parse_options.sh
. ./path.sh

[ -f exp/s2t_dense/valid.acc.ave.pth ] || {
    echo "$0: no exp/s2t_dense/valid.acc.ave.pth: run ./run.sh first" >&2
    exit 1
}
mkdir -p "${expdir}"
ln -sfn ../s2t_dense "${expdir}/s2t_dense"
common=(--dense_config conf/train_dense.yaml --gate_config conf/gate.yaml
        --freeze_param "" --speech_length 5 --nbpe 300 --expdir "${expdir}"
        --nj "${nj}" --timing_rounds "${timing_rounds}"
        --decode_args "--beam_size 5")   # dynprune.sh's default: minlenratio 0
models=()     # "targets encoder_target tag": one gated model each
for tag in "" _nokd; do
    for target in ${targets}; do
        models+=("${target} none ${tag}")
    done
    models+=("${joint_decoder_target} ${joint_encoder_target} ${tag}")
done
run_model() {  # $1: stages, $2: "target encoder_target tag"
    local target encoder_target tag
    read -r target encoder_target tag <<< "$2"
    local options=(--targets "${target}" --encoder_target "${encoder_target}"
                   --gated_tag "${tag}")
    [ -n "${tag}" ] && options+=(--distill_weight 0)
    if awk -v t="${target}" 'BEGIN { exit !(t >= 0.75) }'; then
        options+=(--sparsity_weight "${high_target_weight}")
    fi
    ./dynprune.sh "${common[@]}" "${options[@]}" --stage "$1" --stop_stage "$1"
}
# All trainings first, then all decodings: the decodings (which are timed) run
# back to back on a machine doing nothing else.
for model in "${models[@]}"; do run_model 5 "${model}"; done
for model in "${models[@]}"; do run_model 6 "${model}"; done

predicted=()
for model in "${models[@]}"; do
    read -r target encoder_target tag <<< "${model}"
    suffix=${tag}
    [ "${encoder_target}" != none ] && suffix=_enc${encoder_target}${tag}
    predicted+=("${expdir}/s2t_gated_dec${target}${suffix}/decode_predicted")
done

first_dense=${expdir}/s2t_gated_dec${targets%% *}/decode_dense
python -m espnet_dynprune.bin.score --data_dir data \
    --decode_dirs "${first_dense}" "${predicted[@]}" --dense "${first_dense}" \
    --out_dir "${report_dir}"
