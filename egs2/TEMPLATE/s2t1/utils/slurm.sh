#!/usr/bin/env bash
# Same interface as utils/run_local.sh, through Slurm (one array job, sbatch --wait):
#   utils/slurm.sh [JOB=1:N] LOG_FILE COMMAND...
# Extra sbatch options come from $SLURM_OPTS (e.g. "-p gpu --gres=gpu:1 --time 24:00:00").
# Not exercised by this project's tests (no Slurm here); run_local.sh is.
set -euo pipefail
first=1
last=1
if [[ "$1" =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
    first=${BASH_REMATCH[1]}
    last=${BASH_REMATCH[2]}
    shift
fi
log=$1
shift
mkdir -p "$(dirname "${log}")"
script="$(dirname "${log}")/slurm_job.sh"
{
    echo '#!/usr/bin/env bash'
    echo 'JOB=${SLURM_ARRAY_TASK_ID}'
    printf '%q ' "$@" | sed 's/JOB/${JOB}/g'
    echo
} > "${script}"
# shellcheck disable=SC2086
sbatch --wait ${SLURM_OPTS:-} --array="${first}-${last}" \
    --output="${log//JOB/%a}" "${script}"
