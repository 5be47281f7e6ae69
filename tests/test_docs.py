"""The documentation against the tree: links, entry points, names, quoted figures.

Checked files: README.md, docs/*.md and the recipe READMEs (egs2/*/s2t1/README.md).

* Every relative link (``[text](path)``, ``![alt](path)``) names an existing file.
* Every ``python -m espnet_dynprune.bin.X`` is a module ``espnet_dynprune/bin/X.py``;
  every dotted ``espnet_dynprune.a.b`` resolves to a module (and, where it goes on,
  to a name that module defines); every ``espnet_dynprune/...``, ``tests/...``,
  ``egs2/...``, ``benchmarks/...`` or ``docs/...`` path exists.
* Figures are shown only as quotes of generated files, between
  ``<!-- quoted from PATH -->`` and ``<!-- end quote -->`` (PATH relative to the
  repository root). The non-blank lines of a quote from a text file appear
  verbatim, in order, in PATH. A quote from a JSON file is
  ``<!-- quoted from PATH: LIST KEY=VALUE ... -->`` around a Markdown table: LIST
  names a list of the JSON object, the KEY=VALUE pairs pick one entry of it, and
  every cell of the table is recomputed from that entry's ``rows`` with the
  rounding of ``espnet_dynprune.bin.benchmark``'s printed tables; a line
  ``- `KEY`: VALUE`` in the quote is a top-level value of the JSON file.
* The import rules of docs/design.md hold for the package's source.

Only files are read: nothing here imports torch or ESPnet.
"""

import ast
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "espnet_dynprune"
RECIPE_RESULTS = "egs2/synth_multiling/s2t1/RESULTS.md"


def _documents() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return docs + sorted((ROOT / "egs2").glob("*/s2t1/README.md"))


DOCS = _documents()
DOC_IDS = [str(p.relative_to(ROOT)) for p in DOCS]


def _without_code(text: str) -> str:
    """The text outside fenced code blocks (links inside code are not links)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def test_documents_exist():
    names = set(DOC_IDS)
    for required in (
        "README.md",
        "docs/design.md",
        "docs/training.md",
        "docs/decoding.md",
        "docs/hub.md",
        "docs/owsm.md",
        "docs/benchmark.md",
        "egs2/synth_multiling/s2t1/README.md",
        "egs2/europarl_st/s2t1/README.md",
    ):
        assert required in names, f"{required} is missing"


# ----- links, entry points, module names, paths ----------------------------

_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _anchors(markdown: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors: set[str] = set()
    for line in _without_code(markdown.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match[1].lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_relative_links_exist(doc: Path):
    broken = []
    for target in _LINK.findall(_without_code(doc.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # http(s), mailto, ...
        path, _, anchor = target.partition("#")
        file = doc.parent / path if path else doc
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(target)
    assert not broken, (
        f"{doc.relative_to(ROOT)}: links to missing files or headings {broken}"
    )


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_entry_points_exist(doc: Path):
    text = doc.read_text(encoding="utf-8")
    names = set(re.findall(r"python3? -m espnet_dynprune\.bin\.(\w+)", text))
    missing = sorted(n for n in names if not (PACKAGE / "bin" / f"{n}.py").is_file())
    assert not missing, (
        f"{doc.relative_to(ROOT)}: no espnet_dynprune/bin/<name>.py for {missing}"
    )


def _defined_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                if isinstance(target, ast.Name) and target.id == "__all__":
                    names.update(ast.literal_eval(node.value))  # lazy attributes
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)):
            names.update(_defined_names(node.body))
    return names


def _defines(module: Path, attributes: list[str]) -> bool:
    """Whether ``module`` defines ``attributes[0]`` (and its class ``[1]``)."""
    if not attributes:
        return True
    tree = ast.parse(module.read_text(encoding="utf-8"))
    if attributes[0] not in _defined_names(tree.body):
        return False
    if len(attributes) > 1:
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == attributes[0]:
                return attributes[1] in _defined_names(node.body)
    return True  # an attribute of something that is not a class here: not followed


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")[1:]
    path = PACKAGE
    for i, part in enumerate(parts):
        if (path / part / "__init__.py").is_file():
            path = path / part
        elif (path / f"{part}.py").is_file():
            return _defines(path / f"{part}.py", parts[i + 1 :])
        else:
            return _defines(path / "__init__.py", parts[i:])
    return True


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_dotted_names_resolve(doc: Path):
    text = doc.read_text(encoding="utf-8")
    names = set(re.findall(r"\bespnet_dynprune(?:\.[A-Za-z_]\w*)+", text))
    for module, imported in re.findall(
        r"from (espnet_dynprune(?:\.\w+)*) import \(?([\w, ]+)", text
    ):
        names.update(f"{module}.{n.strip()}" for n in imported.split(",") if n.strip())
    unresolved = sorted(n for n in names if not _resolves(n))
    assert not unresolved, (
        f"{doc.relative_to(ROOT)}: no such module or name {unresolved}"
    )


_REPO_PATH = re.compile(
    r"(?<![\w/.~$-])((?:espnet_dynprune|tests|egs2|benchmarks|docs)/[\w./-]*\w)"
)


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_repository_paths_exist(doc: Path):
    text = doc.read_text(encoding="utf-8")
    missing = sorted(
        p for p in set(_REPO_PATH.findall(text)) if not (ROOT / p).exists()
    )
    assert not missing, f"{doc.relative_to(ROOT)}: no such path {missing}"


# ----- quoted figures -------------------------------------------------------

_QUOTE = re.compile(
    r"<!-- quoted from (?P<path>[^\s:]+?)(?::\s*(?P<selector>[^>]*?))?\s*-->\n"
    r"(?P<body>.*?)<!-- end quote -->",
    re.S,
)


def _quotes(doc: Path) -> Iterator[tuple[str, Optional[str], str]]:
    text = doc.read_text(encoding="utf-8")
    found = list(_QUOTE.finditer(text))
    assert len(found) == text.count("<!-- quoted from"), (
        f"{doc.relative_to(ROOT)}: a quote without its <!-- end quote -->"
    )
    for match in found:
        yield match["path"], match["selector"], match["body"]


def _nonblank(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def _check_text_quote(doc: Path, path: str, body: str) -> None:
    source = iter(_nonblank((ROOT / path).read_text(encoding="utf-8")))
    for line in _nonblank(body):
        assert any(line == src for src in source), (
            f"{doc.relative_to(ROOT)}: quoted line not found (verbatim, in order) in "
            f"{path}; re-quote it from the file:\n{line}"
        )


def _percent(key: str) -> Callable[[dict], str]:
    return lambda row: "-" if row[key] is None else f"{100 * row[key]:.1f}"


# Column header -> cell text of a benchmark row, rounded as bin/benchmark prints it.
BENCHMARK_COLUMNS: dict[str, Callable[[dict], str]] = {
    "time s": lambda row: f"{row['time_s']:.3f}",
    "GFLOPs": lambda row: "-" if row["flops"] is None else f"{row['flops'] / 1e9:.2f}",
    "time -% vs dense": _percent("time_red_vs_dense"),
    "FLOPs -% vs dense": _percent("flops_red_vs_dense"),
    "quot.": lambda row: (
        "" if row.get("quotient") is None else f"{row['quotient']:.2f}"
    ),
    "time -% vs stock": _percent("time_red_vs_stock"),
    "weights MB": lambda row: (
        "-" if row["weight_bytes"] is None else f"{row['weight_bytes'] / 1e6:.1f}"
    ),
    "peak MB": lambda row: f"{row['peak_bytes'] / 1e6:.1f}",
    "FLOPs -% vs stock": _percent("flops_red_vs_stock"),
    "utt/s": lambda row: f"{row['utterances_per_s']:.2f}",
    "x 1 at a time": lambda row: f"{row['speedup_vs_single']:.2f}",
    "x stock": lambda row: f"{row['speedup_vs_stock']:.2f}",
    "same hyps": lambda row: "yes" if row["same_hypotheses"] else "NO",
}
# The parts of one decode (espnet_dynprune.eval.decode_profile.PARTS), in seconds.
_PARTS = ("encoder", "decoder layers", "output layer", "decoder, other", "beam search")
for _part in (*_PARTS, "total"):
    BENCHMARK_COLUMNS[f"{_part} s"] = lambda row, part=_part: (
        f"{row['time_parts'][part]:.3f}"
    )


def _cells(line: str) -> list[str]:
    return [c.strip().strip("`").strip() for c in line.strip().strip("|").split("|")]


def _select(data: dict[str, Any], selector: str, where: str) -> dict[str, Any]:
    name, *filters = selector.split()
    pairs = dict(f.split("=", 1) for f in filters)
    entries = [
        e for e in data[name] if all(str(e.get(k)) == v for k, v in pairs.items())
    ]
    assert len(entries) == 1, f"{where}: {selector!r} picks {len(entries)} entries"
    return entries[0]


def _check_json_quote(doc: Path, path: str, selector: str, body: str) -> None:
    where = f"{doc.relative_to(ROOT)} (quote of {path}: {selector})"
    data = json.loads((ROOT / path).read_text(encoding="utf-8"))
    for key, value in re.findall(r"(?m)^- `(\w+)`: (.*?)\s*$", body):
        assert key in data and str(data[key]) == value, (
            f"{where}: `{key}` is {value!r}, {path} gives {data.get(key)!r}"
        )
    entry = _select(data, selector, where)
    lines = [line for line in _nonblank(body) if line.lstrip().startswith("|")]
    assert len(lines) >= 3, f"{where}: no table"
    header = _cells(lines[0])
    assert header[0] == "setting", f"{where}: the first column must be 'setting'"
    unknown = [h for h in header[1:] if h not in BENCHMARK_COLUMNS]
    assert not unknown, f"{where}: unknown columns {unknown}"
    rows = {row["setting"]: row for row in entry["rows"]}
    for line in lines[2:]:
        cells = _cells(line)
        assert len(cells) == len(header), f"{where}: row has {len(cells)} cells: {line}"
        assert cells[0] in rows, f"{where}: no setting {cells[0]!r} in {path}"
        row = rows[cells[0]]
        for column, cell in zip(header[1:], cells[1:], strict=True):
            expected = BENCHMARK_COLUMNS[column](row)
            assert cell == expected, (
                f"{where}: {cells[0]!r} / {column!r} is {cell!r}, {path} gives "
                f"{expected!r}"
            )


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_quotes_match_their_source(doc: Path):
    text = doc.read_text(encoding="utf-8")
    for path, selector, body in _quotes(doc):
        assert (ROOT / path).is_file(), f"{doc.relative_to(ROOT)}: no file {path}"
        assert _nonblank(body), f"{doc.relative_to(ROOT)}: empty quote of {path}"
        link = Path(os.path.relpath(ROOT / path, doc.parent)).as_posix()
        assert f"]({link}" in text, (
            f"{doc.relative_to(ROOT)}: quotes {path} but never links to it (as {link})"
        )
        if path.endswith(".json"):
            assert selector, f"{doc.relative_to(ROOT)}: a JSON quote needs a selector"
            _check_json_quote(doc, path, selector, body)
        else:
            _check_text_quote(doc, path, body)


def test_readme_quotes_the_recipe_averages():
    """README's results are the default recipe's ``## Averages`` table, quoted."""
    quotes = [
        body for path, _, body in _quotes(ROOT / "README.md") if path == RECIPE_RESULTS
    ]
    assert quotes, f"README.md: no <!-- quoted from {RECIPE_RESULTS} --> block"
    table = [line for q in quotes for line in _nonblank(q) if line.startswith("|")]
    assert len(table) >= 3, "README.md: the quote holds no table"


# ----- import rules of docs/design.md ---------------------------------------


def _import_rules() -> dict[str, Optional[set[str]]]:
    """Folder -> the folders it may import (None: any), from docs/design.md."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- import rules -->\n(.*?)<!-- end import rules -->", text, re.S
    )
    assert match, "docs/design.md: no <!-- import rules --> table"
    rules: dict[str, Optional[set[str]]] = {}
    for line in _nonblank(match[1])[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        folder = cells[0].strip("`/")
        allowed = cells[-1]
        rules[folder] = (
            None
            if allowed.startswith("any")
            else {name.strip("/") for name in re.findall(r"`([\w/]+)`", allowed)}
        )
    return rules


def _imported_folders(source: Path) -> set[str]:
    folders = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "espnet_dynprune" and len(parts) > 1:
                folders.add(parts[1])
    return folders


def test_import_rules_hold():
    rules = _import_rules()
    folders = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert set(folders) == set(rules), (
        f"docs/design.md's import rules list {sorted(rules)}, the package has {folders}"
    )
    broken = []
    for folder in folders:
        allowed = rules[folder]
        if allowed is None:
            continue
        for source in sorted((PACKAGE / folder).rglob("*.py")):
            for imported in _imported_folders(source) - allowed - {folder}:
                broken.append(f"{source.relative_to(ROOT)} imports {imported}")
    assert not broken, "imports against docs/design.md's rules:\n" + "\n".join(broken)
