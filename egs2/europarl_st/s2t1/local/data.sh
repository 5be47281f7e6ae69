#!/usr/bin/env bash
# Data preparation of egs2/europarl_st/s2t1: Kaldi-style S2T data directories from
# a local copy of Europarl-ST v1.1 (EUROPARL_ST in db.sh):
#   ${data_dir}/{train,dev}, ${data_dir}/test_<lang>_<task> (e.g. test_deu_st_eng),
#   segment audio as 16 kHz FLAC under ${data_dir}/wav/ (the m4a talks are decoded
#   once, with PyAV). A rerun with the same settings is skipped (${data_dir}/.done).
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

langs=de,fr,it            # source languages (ISO 639-1): de fr it es
tasks=asr,st              # asr (transcribe) and/or st (translate into English)
data_dir=data             # output directory
python=python3            # interpreter with espnet_dynprune installed

help_message="Usage: $0 [--langs ${langs}] [--tasks ${tasks}] [--data_dir ${data_dir}]
    [--python ${python}]"

. "$(dirname "$0")/../utils/parse_options.sh"

if [ -f ./path.sh ]; then
    . ./path.sh
fi
. ./db.sh

if [ -z "${EUROPARL_ST}" ] || [ ! -d "${EUROPARL_ST}" ]; then
    log "Error: set EUROPARL_ST in db.sh to the Europarl-ST v1.1 directory (now '${EUROPARL_ST}')"
    exit 1
fi

marker=${data_dir}/.done
settings="corpus=${EUROPARL_ST} langs=${langs} tasks=${tasks}"
if [ -f "${marker}" ] && [ "$(cat "${marker}")" = "${settings}" ]; then
    log "Skip: ${data_dir} is prepared (${settings}); delete ${marker} to redo"
    exit 0
fi
rm -f "${marker}"

log "Preparing ${data_dir} from ${EUROPARL_ST} (${settings})"
"${python}" -m espnet_dynprune.bin.prepare_europarl_st \
    --europarl_st "${EUROPARL_ST}" --out "${data_dir}" --langs "${langs}" --tasks "${tasks}"
echo "${settings}" > "${marker}"

log "Successfully finished. [elapsed=${SECONDS}s]"
