#!/usr/bin/env bash
# Data preparation of egs2/synth_multiling/s2t1: synthesizes the multilingual
# ASR + ST corpus (eng, deu, fra, ita, spa; ST into English) with eSpeak NG and
# writes Kaldi-style data directories:
#   ${data_dir}/{train,dev,test}, ${data_dir}/test_<lang>_<task> (per-pair test
#   sets, e.g. test_deu_st_eng), audio under ${data_dir}/wav/; with eSpeak NG's
#   library (not its command) also word_bounds, each word's start and end sample.
# A rerun with the same settings is skipped (marker ${data_dir}/.done); other
# settings, or a run that failed, regenerate everything.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

size=default              # default (6000 training utterances), quick (600) or N
seed=0                    # same seed -> identical texts and audio
segment_seconds=5         # every utterance a segment of this length: consecutive
                          # sentences of one speaker as fit, then its noise; keep
                          # equal to preprocessor_conf.speech_length; 0 = one
                          # sentence of natural length
nj=2                      # parallel processes
langs=eng,deu,fra,ita,spa # source languages (ISO 639-3)
data_dir=data             # output directory
python=python3            # interpreter with espnet_dynprune installed

help_message="Usage: $0 [--size default|quick|N] [--segment_seconds ${segment_seconds}]
    [--seed ${seed}] [--nj ${nj}]
    [--langs ${langs}] [--data_dir ${data_dir}] [--python ${python}]"

. "$(dirname "$0")/../utils/parse_options.sh"

if [ -f ./path.sh ]; then
    . ./path.sh
fi

marker=${data_dir}/.done
layout=3  # version of the corpus layout: 2 = segments filled with sentences, 3 = word_bounds
settings="layout=${layout} size=${size} segment_seconds=${segment_seconds} seed=${seed} langs=${langs}"
if [ -f "${marker}" ] && [ "$(cat "${marker}")" = "${settings}" ]; then
    log "Skip: ${data_dir} already holds the corpus (${settings}); delete ${marker} to rebuild"
    exit 0
fi
rm -f "${marker}"

log "Synthesizing the corpus into ${data_dir} (${settings}, nj=${nj})"
segment=()
[ "${segment_seconds}" != 0 ] && segment=(--segment_seconds "${segment_seconds}")
"${python}" -m espnet_dynprune.bin.make_synth_corpus "${segment[@]}" \
    --out "${data_dir}" --size "${size}" --seed "${seed}" --nj "${nj}" --langs "${langs}"
echo "${settings}" > "${marker}"

log "Successfully finished. [elapsed=${SECONDS}s]"
