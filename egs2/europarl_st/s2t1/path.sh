# Use the repository's .venv (made by `make install`) when it exists.
_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.venv"
if [ -z "${VIRTUAL_ENV:-}" ] && [ -x "${_venv}/bin/python" ]; then
    export PATH="${_venv}/bin:${PATH}"
fi
unset _venv
export PYTHONUNBUFFERED=1
