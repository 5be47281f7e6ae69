"""The package's layout: role folders, no import cycle, light package import."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "espnet_dynprune"
# The role folders; what each may import is the table in docs/design.md,
# checked by tests/test_docs.py.
FOLDERS = {
    "compat",
    "io",
    "nets",
    "data",
    "models",
    "tasks",
    "inference",
    "eval",
    "packaging",
    "bin",
}
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if path.name != "__init__.py" and "__pycache__" not in path.parts
)


def _imports(path: Path) -> set[str]:
    """``espnet_dynprune`` modules a file imports when it is loaded."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n.startswith("espnet_dynprune"))
    return found


def _module_path(name: str) -> Path:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else path


def test_every_module_sits_in_a_role_folder():
    loose = [m for m in MODULES if m.count(".") < 2]
    assert loose == [], "modules outside the role folders"
    assert {m.split(".")[1] for m in MODULES} == FOLDERS


def test_no_import_cycle_between_modules():
    graph = {}
    for module in MODULES:
        targets = _imports(_module_path(module))
        graph[module] = {t for t in targets if t in MODULES and t != module}
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                pytest.fail("import cycle: " + " -> ".join(trail + [target]))
            if target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module):
    importlib.import_module(module)


def _fresh(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]  # ESPnet may print notices


def test_package_and_io_import_no_espnet_task():
    loaded = _fresh(
        "import sys, espnet_dynprune, espnet_dynprune.io.package, "
        "espnet_dynprune.io.checkpoint, espnet_dynprune.io.locate\n"
        "print(sorted(m for m in sys.modules if m.startswith('espnet2.tasks')))"
    )
    assert loaded == "[]"
    assert _fresh("import sys, espnet_dynprune; print('torch' in sys.modules)") == (
        "False"
    )


def test_classes_are_registered_when_espnet_tasks_load():
    registered = _fresh(
        "import espnet_dynprune\n"
        "from espnet2.tasks import asr, s2t\n"
        "print(s2t.model_choices.classes['dynprune'].__name__,"
        " s2t.encoder_choices.classes['gated_e_branchformer'].__name__,"
        " asr.decoder_choices.classes['gated_transformer'].__name__,"
        " s2t.model_choices.classes['word_aligned'].__name__)"
    )
    assert registered.split() == [
        "ESPnetDynPruneS2TModel",
        "GatedEBranchformerEncoder",
        "GatedTransformerDecoder",
        "ESPnetWordAlignedS2TModel",
    ]
