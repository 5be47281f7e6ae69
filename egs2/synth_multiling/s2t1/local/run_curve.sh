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
# run.sh's 0.5 model (distilled, the same options) is the curve's 0.5 point
if [ -f exp/s2t_gated_dec0.5/valid.acc.ave.pth ] && [ ! -e "${expdir}/s2t_gated_dec0.5" ]; then
    ln -s ../s2t_gated_dec0.5 "${expdir}/s2t_gated_dec0.5"
fi

common=(--dense_config conf/train_dense.yaml --gate_config conf/gate.yaml
        --freeze_param "" --speech_length 5 --nbpe 300 --expdir "${expdir}"
        --nj "${nj}" --timing_rounds "${timing_rounds}")
predicted=()
for tag in "" _nokd; do
    variant=(--gated_tag "${tag}")
    [ -n "${tag}" ] && variant+=(--distill_weight 0)
    for target in ${targets}; do
        weight=()
        if awk -v t="${target}" 'BEGIN { exit !(t >= 0.75) }'; then
            weight=(--sparsity_weight "${high_target_weight}")
        fi
        ./dynprune.sh "${common[@]}" "${variant[@]}" "${weight[@]}" \
            --targets "${target}" --stage 5 --stop_stage 6
        predicted+=("${expdir}/s2t_gated_dec${target}${tag}/decode_predicted")
    done
    ./dynprune.sh "${common[@]}" "${variant[@]}" --targets "${joint_decoder_target}" \
        --encoder_target "${joint_encoder_target}" --stage 5 --stop_stage 6
    predicted+=("${expdir}/s2t_gated_dec${joint_decoder_target}_enc${joint_encoder_target}${tag}/decode_predicted")
done

first_dense=${expdir}/s2t_gated_dec${targets%% *}/decode_dense
python -m espnet_dynprune.bin.score --data_dir data \
    --decode_dirs "${first_dense}" "${predicted[@]}" --dense "${first_dense}" \
    --out_dir "${report_dir}"
