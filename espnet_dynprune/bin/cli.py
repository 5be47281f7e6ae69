"""What every entry point's ``--help`` shows: its ``python -m`` form, the module's
docstring as written, and each option's default."""

import argparse
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Optional

__all__ = ["HelpFormatter", "command_name", "entry_point_parser"]


class HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Keeps the description's line breaks and appends the default of each option
    that has one (not of required options: they have none)."""

    def _get_help_string(self, action: argparse.Action) -> Optional[str]:
        if action.required:
            return action.help
        return super()._get_help_string(action)


def entry_point_parser(spec: Optional[ModuleSpec], doc: str) -> argparse.ArgumentParser:
    """A parser whose usage line reads ``python -m MODULE``.

    Args:
        spec: the entry point's ``__spec__`` (its name is the module's, also when
            run by ``python -m``; ``None`` when run as a file: the file name).
        doc: the module docstring: the first line describes the command, the
            rest (usage examples, outputs) is shown below it.
    """
    return argparse.ArgumentParser(
        prog=command_name(spec), description=doc, formatter_class=HelpFormatter
    )


def command_name(spec: Optional[ModuleSpec]) -> str:
    """``python -m MODULE`` for an entry point's ``__spec__`` (the file name when
    run as a file): the usage line, also of ESPnet's parsers the wrappers extend."""
    return f"python -m {spec.name}" if spec is not None else Path(sys.argv[0]).name
