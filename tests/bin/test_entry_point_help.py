"""Every entry point's ``--help``: its ``python -m`` form, a description of each
option and each option's default.

One subprocess runs every ``espnet_dynprune/bin`` module with ``--help`` as
``python -m`` does (``runpy``, ``sys.argv[0]`` the module's file) and reports
the help texts and, per option, whether it has a default.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import espnet_dynprune.bin

BIN = Path(espnet_dynprune.bin.__file__).parent
MODULES = sorted(
    f"espnet_dynprune.bin.{path.stem}"
    for path in BIN.glob("*.py")
    if path.stem not in ("__init__", "cli")
)
# ESPnet's parsers (ESPnet's options have ESPnet's help): the options this
# package adds to them.
WRAPPERS = {
    "espnet_dynprune.bin.asr_train": [],
    "espnet_dynprune.bin.s2t_train": ["--gate_lr"],
    "espnet_dynprune.bin.s2t_inference": [
        "--gate_mode",
        "--decode_list",
        "--dense_model_file",
        "--timing_rounds",
        "--model_tag",
        "--lang_sym",
        "--task_sym",
    ],
}
_MARKER = "=== help texts ==="
_SCRIPT = r"""
import argparse, contextlib, importlib.util, io, json, runpy, sys

options = {}
current = None
print_help = argparse.ArgumentParser.print_help


def recording_print_help(self, file=None):
    options[current] = [
        {
            "flags": action.option_strings or [action.dest],
            "has_default": action.default not in (None, argparse.SUPPRESS),
            "has_help": bool(action.help) and action.help != argparse.SUPPRESS,
            "shown": action.help != argparse.SUPPRESS,
            "is_help": isinstance(action, argparse._HelpAction),
        }
        for action in self._actions
    ]
    print_help(self, file)


argparse.ArgumentParser.print_help = recording_print_help
results = {}
for current in sys.argv[1:]:
    out, code = io.StringIO(), "returned without exiting"
    with contextlib.redirect_stdout(out):
        try:
            # as python -m: sys.argv[0] is the module's file
            sys.argv = [importlib.util.find_spec(current).origin, "--help"]
            runpy.run_module(current, run_name="__main__", alter_sys=False)
        except SystemExit as stop:
            code = stop.code
        except Exception as error:  # reported per module, not for all
            code = repr(error)
    results[current] = {
        "exit": code,
        "help": out.getvalue(),
        "options": options.get(current, []),
    }
print("MARKER")
print(json.dumps(results))
""".replace("MARKER", _MARKER)


@pytest.fixture(scope="module")
def helps() -> dict[str, dict]:
    """Module -> ``{"exit", "help", "options"}`` of its ``--help``."""
    env = dict(os.environ, COLUMNS="100", OMP_NUM_THREADS="1")
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *MODULES],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    failure = f"exit status {run.returncode}:\n{run.stderr[-3000:]}"
    assert run.returncode == 0, failure
    assert _MARKER in run.stdout, failure
    return json.loads(run.stdout.split(_MARKER, 1)[1])


def _usage_and_entries(text: str) -> tuple[str, dict[str, str]]:
    """The usage line and, per flag (or positional name), its help entry's text.

    Entries are the lines indented by two spaces after the first argument
    section; their description follows the invocation after two or more
    spaces, or on the more deeply indented lines below.
    """
    lines = text[text.index("usage:") :].splitlines()
    sections = [
        i
        for i, line in enumerate(lines)
        if line in ("positional arguments:", "options:")
    ]
    assert sections, text
    entries: dict[str, list[str]] = {}
    flags: list[str] = []
    for line in lines[min(sections) :]:
        if not line.strip() or not line.startswith(" "):  # blank or section title
            flags = []
        elif re.match(r"  \S", line):
            invocation, _, description = line.strip().partition("  ")
            flags = [part.split()[0] for part in invocation.split(", ")]
            for flag in flags:
                entries[flag] = [description.strip()]
        else:
            for flag in flags:
                entries[flag].append(line.strip())
    return lines[0], {flag: " ".join(filter(None, e)) for flag, e in entries.items()}


@pytest.mark.parametrize("module", MODULES)
def test_usage_names_the_python_m_form(helps, module):
    found = helps[module]
    assert found["exit"] == 0, found
    usage, _ = _usage_and_entries(found["help"])
    assert f"python -m {module} " in usage + " ", usage


@pytest.mark.parametrize("module", sorted(set(MODULES) - set(WRAPPERS)))
def test_every_option_is_described_with_its_default(helps, module):
    found = helps[module]
    _, entries = _usage_and_entries(found["help"])
    for flag, description in entries.items():
        assert description, f"{module}: {flag} has no description"
    options = [o for o in found["options"] if o["shown"] and not o["is_help"]]
    assert options, f"{module}: no options recorded"
    for option in options:
        name = option["flags"][0]
        assert option["has_help"], f"{module}: {name} has no help string"
        shown = next((f for f in option["flags"] if f in entries), None)
        assert shown is not None, f"{module}: {name} not in the help text"
        if option["has_default"]:
            assert "(default:" in entries[shown], f"{module}: {name}: no default"


@pytest.mark.parametrize("module", sorted(WRAPPERS))
def test_wrappers_describe_the_package_options(helps, module):
    _, entries = _usage_and_entries(helps[module]["help"])
    for flag in WRAPPERS[module]:
        assert flag in entries, f"{module}: {flag} not in the help text"
        description = entries[flag]
        assert description.partition("(default:")[0].strip(), f"{module}: {flag}"
        assert "(default:" in description, f"{module}: {flag}: no default"
