#!/usr/bin/env bash
# Print the newest supported Python on this machine: 3.13, 3.12 (espnet 202611),
# then 3.11, 3.10 (espnet 202511); with arguments, the first of those versions
# found (`tools/find_python.sh 3.11 3.10`). Looks on PATH, then in pyenv's
# versions (whose shims fail for versions that are not activated).
set -u
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.13 3.12 3.11 3.10)
for version in "${versions[@]}"; do
    for candidate in "python${version}" "${pyenv_root}/versions/${version}".*/bin/"python${version}"; do
        if "${candidate}" -c "import venv" >/dev/null 2>&1; then
            "${candidate}" -c "import sys; print(sys.executable)"
            exit 0
        fi
    done
done
echo "tools/find_python.sh: no Python ${versions[*]} found; run make PYTHON=/path/to/python3.X" >&2
exit 1
