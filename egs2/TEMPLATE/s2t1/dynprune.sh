#!/usr/bin/env bash
# Stage script of the espnet_dynprune S2T recipes, in ESPnet's egs2 conventions
# (--stage/--stop_stage, cmd.sh, path.sh, one log per job). Every stage calls a
# Python entry point; re-running a finished stage is safe, and an interrupted
# training resumes (ESPnet's --resume).
#
#  1. data         local/data.sh: Kaldi-style dirs train, dev, test_<lang>_<task>
#  2. check        audio decodes, transcripts are non-empty, ids agree, word_bounds
#                  (if any) one ordered pair per word inside the audio
#  3. tokens       sentencepiece BPE with the S2T special symbols, tokens.txt
#                  (skipped with --init_model: the pretrained model's list is kept)
#  4. dense        train the dense baseline (e_branchformer + transformer; with
#                  data/{train,dev}/word_bounds when the data stage wrote them), or
#                  with --init_model convert a pretrained one (convert_owsm)
#  5. gated        train gated models from the baseline (--init_param), one per target;
#                  --freeze_param "" trains the backbone with the gates; a distill_conf
#                  in the gate config distills from the baseline (the teacher)
#  6. decode       every test set with every gated model (gate_mode predicted) and
#                  with the baseline's weights (gate_mode dense), side by side
#  7. score        WER / BLEU / sparsity / decoding time -> RESULTS.md, results.json, PNG
#  8. pack         one gated model (--pack_target) -> ESPnet packed .zip and directory,
#                  with dynprune.yaml, the results, the heatmap and a Hub model card
#  9. upload       the packed directory to the Hugging Face Hub (--hf_repo owner/name,
#                  token from HF_TOKEN or `hf auth login`; --dry_run true lists files)
set -euo pipefail

log() {
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${0##*/}:${BASH_LINENO[0]}) $*"
}

stage=1
stop_stage=100
nj=2                    # parallel decoding jobs
decode_threads=1        # torch threads per decoding job (nj x threads <= cores)
data_opts=""            # options of local/data.sh
datadir=data
expdir=exp
nbpe=300
speech_length=6         # must match preprocessor_conf.speech_length
resolution=0.02
dense_config=conf/train_dense.yaml
init_model=""           # pretrained S2T model instead of a dense baseline: Hub id,
                        # packed .zip, dir with meta.yaml, or config.yaml
init_model_file=""      # its .pth, when init_model is a config.yaml
gate_config=conf/gate.yaml
targets="0.5"           # decoder sparsity targets, one gated model each
distill_weight=""       # replaces gate_config's distill_conf.weight; 0: no distillation
sparsity_weight=""      # replaces gate_config's sparsity_conf.weight
encoder_target=none
gated_tag=""            # suffix of the gated model dirs (e.g. _nokd for a variant)
gated_parts=""          # parts that carry gates ("decoder", "encoder decoder");
                        # default: the parts that have a target
freeze_param="frontend normalize encoder decoder ctc"   # "": gates and backbone train
                        # together (then set the gates' own lr, gate_lr, in gate_config)
dense_args=""           # extra options of the dense training
gated_args=""           # extra options of the gated trainings
decode_args="--beam_size 5"
timing_rounds=3         # stage 6 decodes every set this many times, gated and dense
                        # interleaved; the report gives the median and each run
test_sets=""            # default: every ${datadir}/test_* directory
report_dir=.
pack_target=""          # stages 8-9: target of the model packed (default: the first)
hf_repo=""              # stages 8-9: Hugging Face Hub repository, owner/name
dry_run=false           # stage 9: list what would be uploaded, upload nothing
license=cc-by-4.0       # stage 8: license in the model card

. utils/parse_options.sh
. ./path.sh
. ./cmd.sh

if [ -z "${gated_parts}" ]; then
    gated_parts=decoder
    [ "${encoder_target}" != none ] && gated_parts="encoder decoder"
fi
token_dir=${datadir}/token_list/bpe${nbpe}
gated_suffix=${gated_tag}
[ "${encoder_target}" != none ] && gated_suffix=_enc${encoder_target}${gated_tag}
gated_dir() {  # $1: decoder target -> the gated model's experiment dir
    echo "${expdir}/s2t_gated_dec$1${gated_suffix}"
}
dense_dir=${expdir}/s2t_dense
source_config=${dense_config}            # stage 5 makes gated configs from it ...
init_param=${dense_dir}/valid.acc.ave.pth  # ... and initialises from these weights,
teacher_config=${dense_dir}/config.yaml    # the distillation teacher's with them
if [ -n "${init_model}" ]; then  # convert_owsm's outputs (stage 4)
    dense_dir=${expdir}/s2t_init
    token_dir=${dense_dir}
    source_config=${dense_dir}/stock_config.yaml
    init_param=${dense_dir}/init.pth
    teacher_config=${source_config}
fi
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

alignment_args() {  # the word timings of train and dev, if stage 1 wrote them
    [ -f "${datadir}/train/word_bounds" ] && [ -f "${datadir}/dev/word_bounds" ] || return 0
    echo "--train_data_path_and_name_and_type ${datadir}/train/word_bounds,word_bounds,text_int"
    echo "--valid_data_path_and_name_and_type ${datadir}/dev/word_bounds,word_bounds,text_int"
}

train() {  # $1: config, $2: output dir, $3...: extra options
    local config=$1 out=$2
    shift 2
    mkdir -p "${out}"
    if [ -f "${out}/train.log" ]; then  # resuming or re-running: keep the earlier log
        local n=1
        while [ -e "${out}/train.log.${n}" ]; do n=$((n + 1)); done
        mv "${out}/train.log" "${out}/train.log.${n}"
    fi
    # shellcheck disable=SC2046
    ${train_cmd} "${out}/train.log" python -m espnet_dynprune.bin.s2t_train \
        --config "${config}" --use_preprocessor true --token_type bpe \
        --token_list "${token_dir}/tokens.txt" --bpemodel "${token_dir}/bpe.model" \
        $(data_args train "${datadir}/train") $(data_args valid "${datadir}/dev") \
        --output_dir "${out}" --resume true --ngpu "${ngpu:-0}" "$@"
    # The last epoch's results: from this log, or from an earlier one if the
    # training had already finished (none if its logs are gone).
    # shellcheck disable=SC2012,SC2046
    grep -h "epoch results" $(ls -tr "${out}"/train.log*) | tail -n 1 | cut -c 1-300 \
        || true
}

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "stage 1: data preparation"
    # shellcheck disable=SC2086
    local/data.sh --data_dir "${datadir}" ${data_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    find_test_sets
    log "stage 2: checking ${datadir}/{train,dev} and ${test_sets}"
    # audio longer than the model's speech_length would be cut off silently; a
    # pretrained init_model has its own (checked when decoding)
    max_seconds=()
    [ -z "${init_model}" ] && max_seconds=(--max_seconds "${speech_length}")
    # shellcheck disable=SC2086
    python -m espnet_dynprune.bin.check_data "${max_seconds[@]}" \
        "${datadir}/train" "${datadir}/dev" \
        $(for t in ${test_sets}; do echo "${datadir}/${t}"; done)
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ] && [ -n "${init_model}" ]; then
    log "stage 3: skipped, the token list and BPE model come from ${init_model}"
elif [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    log "stage 3: token list (sentencepiece bpe, ${nbpe} pieces) in ${token_dir}"
    python -m espnet_dynprune.bin.make_token_list --train_dir "${datadir}/train" \
        --out_dir "${token_dir}" --nbpe "${nbpe}" --speech_length "${speech_length}" \
        --resolution "${resolution}"
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ] && [ -n "${init_model}" ]; then
    log "stage 4: converting ${init_model} -> ${dense_dir}"
    model_file=()
    [ -n "${init_model_file}" ] && model_file=(--model_file "${init_model_file}")
    # The gated parts fix the gate predictor's shape (stage 5 sets the targets).
    # shellcheck disable=SC2086
    python -m espnet_dynprune.bin.convert_owsm "${init_model}" "${dense_dir}" \
        "${model_file[@]}" --gate_conf "${gate_config}" --parts ${gated_parts}
elif [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    log "stage 4: dense baseline -> ${dense_dir} (log: ${dense_dir}/train.log)"
    # Word timings feed model: word_aligned; other models ignore them.
    # shellcheck disable=SC2046,SC2086
    train "${dense_config}" "${dense_dir}" $(alignment_args) ${dense_args}
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    for target in ${targets}; do
        out=$(gated_dir "${target}")
        log "stage 5: gated model, decoder target ${target} -> ${out}"
        python -m espnet_dynprune.bin.make_gated_config "${source_config}" \
            "${out}/train_gated.yaml" --decoder_target "${target}" \
            --encoder_target "${encoder_target}" --gate_conf "${gate_config}" \
            --parts ${gated_parts} --teacher_config "${teacher_config}" \
            --teacher_model_file "${init_param}" \
            ${distill_weight:+--distill_weight "${distill_weight}"} \
            ${sparsity_weight:+--sparsity_weight "${sparsity_weight}"}
        freeze=()
        [ -n "${freeze_param}" ] && freeze=(--freeze_param ${freeze_param})
        # shellcheck disable=SC2086
        train "${out}/train_gated.yaml" "${out}" \
            --init_param "${init_param}" "${freeze[@]}" ${gated_args}
    done
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    find_test_sets
    for target in ${targets}; do
        model_dir=$(gated_dir "${target}")
        # One decoding process per job for every (test set, gate mode) left: ESPnet's
        # start-up costs seconds per process, more than a small test set's decoding.
        list_dir=${model_dir}/decode_lists
        rm -rf "${list_dir}"
        mkdir -p "${list_dir}"
        todo=()
        # decode_predicted: this gated model; decode_dense: the baseline's weights
        # (--dense_model_file) through the same classes, every gate open.
        for test_set in ${test_sets}; do  # both modes back to back: same load
            for mode in predicted dense; do
                out=${model_dir}/decode_${mode}/${test_set}
                [ -f "${out}/timing.json" ] && continue
                lang=${test_set#test_}
                lang=${lang%%_*}
                task=${test_set#test_"${lang}"_}
                split_dir=${out}/logdir
                rm -rf "${split_dir}"
                mkdir -p "${split_dir}"
                split -n "l/${nj}" -d -a 2 --additional-suffix=.scp \
                    "${datadir}/${test_set}/wav.scp" "${split_dir}/keys."
                n=0
                for f in "${split_dir}"/keys.*.scp; do
                    n=$((n + 1))
                    mv "${f}" "${split_dir}/keys.${n}"
                    echo "${split_dir}/output.${n} ${datadir}/${test_set}/wav.scp" \
                        "${split_dir}/keys.${n} ${lang} ${task} ${mode}" \
                        >> "${list_dir}/decode.${n}.list"
                done
                todo+=("${out}")
            done
        done
        [ "${#todo[@]}" -eq 0 ] && continue
        n_jobs=$(find "${list_dir}" -name 'decode.*.list' | wc -l)
        log "stage 6: decoding ${#todo[@]} (test set, gate mode) pairs with ${model_dir}" \
            "in ${n_jobs} jobs (logs: ${list_dir}/decode.*.log)"
        # shellcheck disable=SC2086
        OMP_NUM_THREADS=${decode_threads} \
            ${decode_cmd} JOB=1:${n_jobs} "${list_dir}/decode.JOB.log" \
            python -m espnet_dynprune.bin.s2t_inference \
            --s2t_train_config "${model_dir}/config.yaml" \
            --s2t_model_file "${model_dir}/valid.acc.ave.pth" \
            --dense_model_file "${init_param}" \
            --decode_list "${list_dir}/decode.JOB.list" \
            --timing_rounds "${timing_rounds}" ${decode_args}
        python -m espnet_dynprune.bin.merge_decode "${todo[@]}"
    done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    log "stage 7: scoring -> ${report_dir}/RESULTS.md"
    decode_dirs=()
    for target in ${targets}; do
        decode_dirs+=("$(gated_dir "${target}")/decode_predicted")
    done
    first_dense=$(gated_dir "${targets%% *}")/decode_dense
    python -m espnet_dynprune.bin.score --data_dir "${datadir}" \
        --decode_dirs "${first_dense}" "${decode_dirs[@]}" \
        --dense "${first_dense}" --out_dir "${report_dir}"
fi

pack_target=${pack_target:-${targets%% *}}
packed=${expdir}/packed/$(basename "$(gated_dir "${pack_target}")")
if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    model_dir=$(gated_dir "${pack_target}")
    log "stage 8: packing ${model_dir} -> ${packed}.zip and ${packed}/"
    rm -rf "${packed}"
    python -m espnet_dynprune.bin.pack --s2t_train_config "${model_dir}/config.yaml" \
        --s2t_model_file "${model_dir}/valid.acc.ave.pth" --report_dir "${report_dir}" \
        --out "${packed}.zip" --out_dir "${packed}" --license "${license}" \
        ${hf_repo:+--hf_repo "${hf_repo}"}
fi

if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    if [ -n "${hf_repo}" ]; then
        log "stage 9: uploading ${packed} to ${hf_repo} (dry run: ${dry_run})"
        python -m espnet_dynprune.bin.upload --model_dir "${packed}" \
            --hf_repo "${hf_repo}" --dry_run "${dry_run}"
    elif [ "${stage}" -eq 9 ]; then
        log "stage 9: --hf_repo owner/name is required"
        exit 1
    else
        log "stage 9: skipped (no --hf_repo given)"
    fi
fi

log "done: stages ${stage}..${stop_stage}"
