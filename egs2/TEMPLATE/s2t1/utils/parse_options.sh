#!/usr/bin/env bash
# Sourced by recipe scripts: turns "--name value" arguments into shell variables.
# Only variables the script already defines are accepted; anything else is an error.
# -h / --help prints ${help_message} when the script sets one.
while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            echo "${help_message:-$0: options are --name value, see the script}"
            exit 0
            ;;
        --*)
            _name="${1#--}"
            _name="${_name//-/_}"
            if ! declare -p "${_name}" > /dev/null 2>&1; then
                echo "$0: unknown option $1" >&2
                exit 1
            fi
            if [ $# -lt 2 ]; then
                echo "$0: option $1 needs a value" >&2
                exit 1
            fi
            printf -v "${_name}" '%s' "$2"
            shift 2
            ;;
        *)
            echo "$0: unexpected argument '$1' (options are --name value)" >&2
            exit 1
            ;;
    esac
done
unset _name
