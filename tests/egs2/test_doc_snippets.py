"""Every Python snippet and shell command of README.md and docs/*.md, run.

The fenced ``python`` and ``bash`` blocks run in a workspace laid out like the
default recipe's directory after a run: the recipe's scripts and ``conf/``, and a
copy of the ``data/`` and ``exp/`` of its tiny run (``recipe_run``, conftest.py:
dense baseline, gated 0.5 model, packed model), plus ``talk.wav``, one of its
German test utterances. A local Hub (``helpers.hub_server``) serves the packed
model as ``owner/name``; ``HF_ENDPOINT`` points there.

* A Python block runs as one script. A ``<!-- doctest setup: CODE -->`` line
  right before the fence runs first: the inputs a sketch names but leaves out.
* A shell block runs command by command (continuation lines joined, comments
  dropped); ``cd egs2/synth_multiling/s2t1`` stays in the workspace.
* ``...`` stands for the options a command needs on real data; it is replaced by
  the tiny run's options for that entry point (:data:`ELISIONS`).
* Entry points that take minutes at full size get their quick option
  (:data:`QUICK`); ``[--opt VALUE]`` marks an optional option and is dropped.
* ``./run.sh`` commands with a ``--stage`` run with the tiny options; the other
  ``./run.sh`` commands (whole recipe runs: the recipe tests run those) are
  checked for options that ``dynprune.sh`` does not have.
* ``<!-- doctest skip: REASON -->`` before a fence skips the block; the reasons
  are listed by :func:`test_skipped_blocks_say_why`. Blocks about multi-utterance
  ``batch_decode`` are skipped under espnet 202511, which has none.
"""

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from espnet_dynprune.eval.benchmark import supports_batch_decode

from helpers.hub_server import FakeHub
from helpers.recipe_run import RECIPE, TINY, recipe_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HUB_REPO = "owner/name"
RECIPE_FILES = ("run.sh", "dynprune.sh", "cmd.sh", "path.sh", "db.sh", "conf", "local")
RECIPE_FILES += ("utils",)

_FENCE = re.compile(
    r"(?:<!-- doctest (?P<kind>setup|skip):\s*(?P<note>.*?)\s*-->\n)?"
    r"^```(?P<lang>python|bash)\n(?P<body>.*?)^```$",
    re.M | re.S,
)


@dataclass(frozen=True)
class Block:
    """A fenced block of a document, with its doctest annotation."""

    document: str
    line: int
    language: str
    body: str
    setup: str = ""
    skip: str = ""

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}"


def _blocks() -> list[Block]:
    blocks = []
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            note = match["note"] or ""
            blocks.append(
                Block(
                    document=str(doc.relative_to(ROOT)),
                    line=text.count("\n", 0, match.start("body")),
                    language=match["lang"],
                    body=match["body"],
                    setup=note if match["kind"] == "setup" else "",
                    skip=note if match["kind"] == "skip" else "",
                )
            )
    return blocks


BLOCKS = _blocks()


def _data_options(split: str, data: str) -> list[str]:
    """ESPnet's data options of one split, as dynprune.sh writes them."""
    entries = ("wav.scp,speech,sound", "text,text,text")
    entries += ("text_prev,text_prev,text", "text_ctc,text_ctc,text")
    options = []
    for entry in entries:
        options += [f"--{split}_data_path_and_name_and_type", f"{data}/{entry}"]
    return options + [f"--{split}_shape_file", f"{data}/utt2num_samples"]


_TRAIN = [
    "--use_preprocessor", "true", "--token_type", "bpe",
    "--token_list", "data/token_list/bpe300/tokens.txt",
    "--bpemodel", "data/token_list/bpe300/bpe.model",
    *_data_options("train", "data/train"), *_data_options("valid", "data/dev"),
    "--max_epoch", "1", "--batch_size", "8", "--ngpu", "0",
]  # fmt: skip
_DECODE = ["--data_path_and_name_and_type", "data/test_deu_st_eng/wav.scp,speech,sound"]

# What ``...`` stands for, per entry point (the documented commands name their
# own --output_dir).
ELISIONS: dict[str, list[str]] = {
    "espnet2.bin.s2t_train": _TRAIN,
    "espnet_dynprune.bin.s2t_train": _TRAIN,
    "espnet2.bin.s2t_inference": _DECODE,
    "espnet_dynprune.bin.s2t_inference": _DECODE,
}
# Appended to commands of entry points that take minutes at full size.
QUICK: dict[str, list[str]] = {
    "espnet_dynprune.bin.benchmark": ["--short"],
    "espnet_dynprune.bin.gate_step_cost": ["--short"],
}


def _commands(body: str) -> list[str]:
    """The commands of a shell block: continuations joined, comments dropped."""
    lines = []
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            lines.append(words)
    return lines


def _entry_point(words: list[str]) -> str:
    """The module of the last ``python -m MODULE`` in ``words`` ('' if none)."""
    found = ""
    for i, word in enumerate(words[:-1]):
        if word == "-m":
            found = words[i + 1]
    return found


def _expanded(words: list[str]) -> list[str]:
    """``words`` with ``...`` filled in, optional ``[...]`` dropped, quick options."""
    module = _entry_point(words)
    out, optional = [], False
    for word in words:
        optional = optional or word.startswith("[")
        if word == "..." and not optional:
            out += ELISIONS.get(module, [])
        elif not optional:
            out.append(word)
        if word.endswith("]"):
            optional = False
    return out + QUICK.get(module, [])


def _dynprune_options() -> set[str]:
    """The options of dynprune.sh (its variables before parse_options.sh)."""
    text = (ROOT / "egs2" / "TEMPLATE" / "s2t1" / "dynprune.sh").read_text()
    head = text.split("parse_options.sh")[0]
    return set(re.findall(r"(?m)^(\w+)=", head)) | {"quick"}  # run.sh's own


@pytest.fixture(scope="module")
def workspace(recipe_run, tmp_path_factory):
    """The recipe directory after a tiny run, and the local Hub serving it."""
    tmp, _ = recipe_run
    work = tmp_path_factory.mktemp("docs") / "s2t1"
    work.mkdir()
    for name in RECIPE_FILES:  # not its outputs: the snippets write their own
        (work / name).symlink_to(RECIPE / name)
    shutil.copytree(tmp / "data", work / "data", symlinks=True)
    shutil.copytree(tmp / "exp", work / "exp", symlinks=True)
    shutil.copytree(tmp / "report", work, dirs_exist_ok=True)  # --report_dir .
    (work / "benchmarks").mkdir()  # docs/benchmark.md's command writes there
    wav = (work / "data" / "test_deu_st_eng" / "wav.scp").read_text().split()[1]
    shutil.copy(wav, work / "talk.wav")  # absolute: the run's --datadir
    with FakeHub() as hub:
        env = dict(recipe_env(), HF_ENDPOINT=hub.url, HF_TOKEN="doctest-token")
        env["HF_HOME"] = str(work / "hf_home")
        upload = [sys.executable, "-m", "espnet_dynprune.bin.upload", "--model_dir"]
        upload += ["exp/packed/s2t_gated_dec0.5", "--hf_repo", HUB_REPO]
        subprocess.run(upload, cwd=work, env=env, check=True, capture_output=True)
        yield work, env


def _run(words: list[str], cwd: Path, env: dict, block: Block) -> None:
    result = subprocess.run(
        words, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (
        f"{block.name}: `{shlex.join(words)}` failed:\n"
        f"{(result.stdout + result.stderr)[-3000:]}"
    )


def _run_shell(block: Block, work: Path, env: dict) -> None:
    cwd, known = work, _dynprune_options()
    for words in _commands(block.body):
        while re.match(r"^[A-Z_]+=", words[0]):  # VAR=... prefix: env has it
            words = words[1:]
        if words[0] == "cd":
            target = words[1]
            cwd = work if target.endswith("synth_multiling/s2t1") else ROOT / target
            continue
        if words[0] == "./run.sh" and "--stage" not in words:
            unknown = [w for w in words if w.startswith("--") and w[2:] not in known]
            assert not unknown, f"{block.name}: run.sh has no options {unknown}"
            continue
        words = _expanded(words)
        if words[0] == "./run.sh":
            words = [words[0], *TINY, *words[1:]]
        elif words[0] == "python":
            words = [sys.executable, *words[1:]]
        _run(words, cwd, env, block)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
def test_snippet_runs(block: Block, workspace):
    if block.skip:
        pytest.skip(block.skip)
    if "batch_decode" in block.body and not supports_batch_decode():
        pytest.skip("multi-utterance decoding needs espnet 202611 or newer")
    work, env = workspace
    if block.language == "python":
        script = work / f"snippet_{block.line}.py"
        script.write_text(f"{block.setup}\n{block.body}", encoding="utf-8")
        _run([sys.executable, str(script)], work, env, block)
    else:
        _run_shell(block, work, env)


def test_skipped_blocks_say_why():
    skipped = {b.name: b.skip for b in BLOCKS if b.skip}
    assert all(len(reason) > 20 for reason in skipped.values()), skipped
    assert len(skipped) <= 4, f"most snippets must run: {skipped}"


def test_every_block_and_annotation_is_found():
    """Every python/bash fence is a block, every annotation is right above one."""
    for doc in DOCUMENTS:
        name = str(doc.relative_to(ROOT))
        text = doc.read_text(encoding="utf-8")
        fences = len(re.findall(r"(?m)^```(?:python|bash)$", text))
        assert fences == sum(b.document == name for b in BLOCKS), name
        annotated = sum(b.document == name and bool(b.setup or b.skip) for b in BLOCKS)
        assert text.count("<!-- doctest") == annotated, name
