#!/usr/bin/env bash
# Stage script of the espnet_dynprune S2T recipes, in ESPnet's egs2 conventions
# (--stage/--stop_stage, cmd.sh, path.sh, one log per job). Every stage calls a
# Python entry point; re-running a finished stage is safe, and an interrupted
# training resumes (ESPnet's --resume).
#
#  1. data         local/data.sh: Kaldi-style dirs train, dev, test_<lang>_<task>
#  2. check        audio decodes, transcripts are non-empty, ids agree
#  3. tokens       sentencepiece BPE with the S2T special symbols, tokens.txt
#  4. dense        train the dense baseline (stock e_branchformer + transformer)
#  5. gated        train gated models from the baseline (--init_param), one per target
#  6. decode       every test set with every gated model, gate_mode predicted and dense
#  7. score        WER / BLEU / sparsity / decoding time -> RESULTS.md, results.json, PNG
set -euo pipefail

log() {
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${0##*/}:${BASH_LINENO[0]}) $*"
}

stage=1
stop_stage=100
nj=2                    # parallel decoding jobs
data_opts=""            # options of local/data.sh
datadir=data
expdir=exp
nbpe=300
speech_length=6         # must match preprocessor_conf.speech_length
resolution=0.02
dense_config=conf/train_dense.yaml
gate_config=conf/gate.yaml
targets="0.5"           # decoder sparsity targets, one gated model each
encoder_target=none
freeze_param="frontend normalize encoder decoder ctc"   # "" trains jointly
dense_args=""           # extra options of the dense training
gated_args=""           # extra options of the gated trainings
decode_args="--beam_size 5"
test_sets=""            # default: every ${datadir}/test_* directory
report_dir=.

. utils/parse_options.sh
. ./path.sh
. ./cmd.sh

token_dir=${datadir}/token_list/bpe${nbpe}
dense_dir=${expdir}/s2t_dense
find_test_sets() {  # the test sets, once stage 1 has made them
    if [ -z "${test_sets}" ]; then
        test_sets=$(cd "${datadir}" && ls -d test_* | tr '\n' ' ')
    fi
}

data_args() {  # $1: train or valid, $2: data dir
    for entry in wav.scp,speech,sound text,text,text text_prev,text_prev,text \
        text_ctc,text_ctc,text; do
        echo "--$1_data_path_and_name_and_type $2/${entry}"
    done
    echo "--$1_shape_file $2/utt2num_samples"
}

train() {  # $1: config, $2: output dir, $3...: extra options
    local config=$1 out=$2
    shift 2
    mkdir -p "${out}"
    # shellcheck disable=SC2046
    ${train_cmd} "${out}/train.log" python -m espnet_dynprune.bin.s2t_train \
        --config "${config}" --use_preprocessor true --token_type bpe \
        --token_list "${token_dir}/tokens.txt" --bpemodel "${token_dir}/bpe.model" \
        $(data_args train "${datadir}/train") $(data_args valid "${datadir}/dev") \
        --output_dir "${out}" --resume true --ngpu "${ngpu:-0}" "$@"
    grep -h "epoch results" "${out}/train.log" | tail -n 1 | cut -c 1-300
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "stage 1: data preparation"
    # shellcheck disable=SC2086
    local/data.sh --data_dir "${datadir}" ${data_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    find_test_sets
    log "stage 2: checking ${datadir}/{train,dev} and ${test_sets}"
    # shellcheck disable=SC2086
    python -m espnet_dynprune.bin.check_data "${datadir}/train" "${datadir}/dev" \
        $(for t in ${test_sets}; do echo "${datadir}/${t}"; done)
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "stage 3: token list (sentencepiece bpe, ${nbpe} pieces) in ${token_dir}"
    python -m espnet_dynprune.bin.make_token_list --train_dir "${datadir}/train" \
        --out_dir "${token_dir}" --nbpe "${nbpe}" --speech_length "${speech_length}" \
        --resolution "${resolution}"
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "stage 4: dense baseline -> ${dense_dir} (log: ${dense_dir}/train.log)"
    # shellcheck disable=SC2086
    train "${dense_config}" "${dense_dir}" ${dense_args}
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    for target in ${targets}; do
        out=${expdir}/s2t_gated_dec${target}
        log "stage 5: gated model, decoder target ${target} -> ${out}"
        python -m espnet_dynprune.bin.make_gated_config "${dense_config}" \
            "${out}/train_gated.yaml" --decoder_target "${target}" \
            --encoder_target "${encoder_target}" --gate_conf "${gate_config}"
        freeze=()
        [ -n "${freeze_param}" ] && freeze=(--freeze_param ${freeze_param})
        # shellcheck disable=SC2086
        train "${out}/train_gated.yaml" "${out}" \
            --init_param "${dense_dir}/valid.acc.ave.pth" "${freeze[@]}" ${gated_args}
    done
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    find_test_sets
    for target in ${targets}; do
        model_dir=${expdir}/s2t_gated_dec${target}
        for mode in predicted dense; do
            for test_set in ${test_sets}; do
                lang=${test_set#test_}
                lang=${lang%%_*}
                task=${test_set#test_"${lang}"_}
                out=${model_dir}/decode_${mode}/${test_set}
                [ -f "${out}/timing.json" ] && continue
                log "stage 6: decoding ${test_set} with ${model_dir} (${mode})"
                split_dir=${out}/logdir
                mkdir -p "${split_dir}"
                split -n "l/${nj}" -d -a 2 --additional-suffix=.scp \
                    "${datadir}/${test_set}/wav.scp" "${split_dir}/keys."
                n=0
                for f in "${split_dir}"/keys.*.scp; do
                    n=$((n + 1))
                    mv "${f}" "${split_dir}/keys.${n}"
                done
                # shellcheck disable=SC2086
                ${decode_cmd} JOB=1:${n} "${split_dir}/decode.JOB.log" \
                    python -m espnet_dynprune.bin.s2t_inference \
                    --s2t_train_config "${model_dir}/config.yaml" \
                    --s2t_model_file "${model_dir}/valid.acc.ave.pth" \
                    --data_path_and_name_and_type "${datadir}/${test_set}/wav.scp,speech,sound" \
                    --key_file "${split_dir}/keys.JOB" --lang_sym "${lang}" \
                    --task_sym "${task}" --gate_mode "${mode}" ${decode_args} \
                    --output_dir "${split_dir}/output.JOB"
                python -m espnet_dynprune.bin.merge_decode "${split_dir}"/output.* \
                    --out "${out}"
            done
        done
    done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    log "stage 7: scoring -> ${report_dir}/RESULTS.md"
    decode_dirs=()
    for target in ${targets}; do
        decode_dirs+=("${expdir}/s2t_gated_dec${target}/decode_predicted")
    done
    first=${targets%% *}
    python -m espnet_dynprune.bin.score --data_dir "${datadir}" \
        --decode_dirs "${expdir}/s2t_gated_dec${first}/decode_dense" "${decode_dirs[@]}" \
        --dense "${expdir}/s2t_gated_dec${first}/decode_dense" --out_dir "${report_dir}"
fi

log "done: stages ${stage}..${stop_stage}"
