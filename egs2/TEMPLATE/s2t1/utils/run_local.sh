#!/usr/bin/env bash
# Runs a command on this machine, optionally as a job array, in ESPnet's run.pl style:
#   utils/run_local.sh [--gpu N] [JOB=1:N] LOG_FILE COMMAND...
# "JOB" in LOG_FILE and COMMAND is replaced by the job number; jobs run in parallel.
# --gpu is accepted as run.pl accepts it (espnet2.bin.launch passes it) and ignored:
# the command's own --ngpu decides. Exits non-zero (and shows the end of the failed
# logs) if any job fails.
set -uo pipefail
if [ "${1:-}" = "--gpu" ]; then
    shift 2
fi
first=1
last=1
if [[ "$1" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
    first=${BASH_REMATCH[1]}
    last=${BASH_REMATCH[2]}
    shift
fi
log=$1
shift
pids=()
for ((job = first; job <= last; job++)); do
    job_log=${log//JOB/${job}}
    mkdir -p "$(dirname "${job_log}")"
    args=()
    for arg in "$@"; do args+=("${arg//JOB/${job}}"); done
    (
        echo "# ${args[*]}"
        echo "# started at $(date)"
        "${args[@]}"
        rc=$?
        echo "# ended at $(date) with status ${rc}"
        exit ${rc}
    ) > "${job_log}" 2>&1 &
    pids+=($!)
done
failed=0
for ((i = 0; i < ${#pids[@]}; i++)); do
    if ! wait "${pids[$i]}"; then
        job_log=${log//JOB/$((first + i))}
        echo "$0: job $((first + i)) failed; see ${job_log}:" >&2
        tail -n 20 "${job_log}" >&2
        failed=1
    fi
done
exit ${failed}
