# How jobs run: utils/run_local.sh (this machine) or utils/slurm.sh (Slurm, with
# sbatch options in SLURM_OPTS). Both take: [JOB=1:N] LOG_FILE COMMAND...
export train_cmd="utils/run_local.sh"
export decode_cmd="utils/run_local.sh"
# One node, 4 GPUs, ESPnet's own launcher (a process per GPU):
#   export train_cmd="utils/slurm.sh"; export SLURM_OPTS="-p gpu --gres=gpu:4"; ngpu=4
#   and ./run.sh --gated_args "--multiprocessing_distributed true"
