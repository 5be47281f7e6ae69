"""S2T decoding of gated models: ESPnet's ``s2t_inference`` plus ``--gate_mode``.

Usage:
    python -m espnet_dynprune.bin.s2t_inference \\
        --s2t_train_config exp/s2t_gated/config.yaml \\
        --s2t_model_file exp/s2t_gated/valid.acc.ave.pth \\
        --data_path_and_name_and_type dump/test/wav.scp,speech,sound \\
        --lang_sym deu --task_sym st_eng --gate_mode predicted \\
        --output_dir exp/s2t_gated/decode_test

Takes every option of ``python -m espnet2.bin.s2t_inference`` and writes the same
``1best_recog/{text,token,token_int,score,...}`` files. Added:

* ``--gate_mode predicted|dense``;
* ``--model_tag``: a packed model (Hub repository id, ``.zip`` or directory, see
  ``Speech2Text.from_pretrained``) instead of the config and weights options;
* ``--decode_list FILE``: decode several data sets, languages, tasks and gate
  modes with one model load (ESPnet's start-up takes seconds per process, longer
  than decoding a small test set). Each line of FILE is
  ``OUTPUT_DIR WAV_SCP KEY_FILE LANG TASK GATE_MODE`` (``KEY_FILE`` ``-``: every
  key); it replaces ``--output_dir``, ``--data_path_and_name_and_type``,
  ``--key_file``, ``--lang_sym``, ``--task_sym`` and ``--gate_mode``;
* ``--dense_model_file``: the weights the ``dense`` decodings use (default:
  the ``--s2t_model_file``), e.g. the dense baseline the gated model started
  from: once gates and backbone train jointly, the gated model with every gate
  open is no longer that baseline;
* ``1best_recog/gates``: per utterance, which modules ran, one 0/1 group per
  layer (``encoder=1111 1011 decoder=111 010``; absent in dense mode);
* ``--timing_rounds N``: decode everything N times, round after round (with a
  ``--decode_list``, each round decodes every line in order, so two models listed
  side by side are timed interleaved); outputs come from the first round, later
  rounds only time (and warn if a hypothesis differs);
* no silent default context: ``--lang_sym`` and ``--task_sym`` (or a
  ``--decode_list``) are required, as ``deu`` or ``<deu>``;
* every utterance passes the package's audio checks
  (:func:`~espnet_dynprune.inference.audio_input.checked_audio`): its rate is
  read from the file and resampled to the model's; multi-channel, NaN or
  infinite, too short, too long, missing or unreadable audio stops decoding with
  an error naming the utterance key and file;
* outputs appear only for a finished set: ``*best_recog/`` are written to a
  temporary directory in ``--output_dir`` and moved into place at the end;
* ``timing.json``: utterances decoded, the decoding seconds of each round
  (``rounds``; model loading and audio reading excluded) and their median
  (``seconds``), and the command-line options less ``--decode_list`` (what the
  recipe's report shows as decoding options).
"""

import argparse
import json
import logging
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

import soundfile as sf
from espnet2.bin.s2t_inference import get_parser as espnet_get_parser
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.fileio.read_text import read_2columns_text
from espnet2.tasks.s2t import S2TTask
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed

import espnet_dynprune  # noqa: F401  (registers the plugin classes)
from espnet_dynprune.bin.cli import command_name
from espnet_dynprune.compat.espnet_release import get_commandline_args
from espnet_dynprune.inference.audio_input import AudioLimits, checked_audio
from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.models.inference_context import GateMode
from espnet_dynprune.nets.context_vocabulary import bracketed

# Options of ESPnet's parser that configure the loop, not Speech2Text.
_LOOP_OPTIONS = (
    "output_dir",
    "data_path_and_name_and_type",
    "key_file",
    "batch_size",
    "ngpu",
    "seed",
    "num_workers",
    "log_level",
    "allow_variable_data_keys",
    "model_tag",
    "word_lm_train_config",
    "word_lm_file",
    "decode_list",
    "dense_model_file",
    "timing_rounds",
)
# ESPnet requires these; a --decode_list gives them per line instead.
_PER_DECODING_OPTIONS = ("output_dir", "data_path_and_name_and_type")


@dataclass(frozen=True)
class Decoding:
    """One data set decoded in one context and gate mode."""

    output_dir: str
    data_path_and_name_and_type: list[Any]
    key_file: Optional[str]
    lang_sym: Optional[str]
    task_sym: Optional[str]
    gate_mode: GateMode


def get_parser() -> argparse.ArgumentParser:
    """ESPnet's S2T inference parser with ``--gate_mode`` and ``--decode_list``."""
    parser = espnet_get_parser()
    parser.prog = command_name(__spec__)  # ESPnet's would name s2t_inference.py
    parser.add_argument(
        "--gate_mode",
        choices=GateMode.choices(),
        default="predicted",
        help="predicted: the gate predictor skips modules per utterance; "
        "dense: every module runs (equals the stock model)",
    )
    parser.add_argument(
        "--decode_list",
        type=Path,
        default=None,
        help="decode every line 'OUTPUT_DIR WAV_SCP KEY_FILE LANG TASK GATE_MODE' "
        "of this file with one model load (KEY_FILE '-': every key)",
    )
    parser.add_argument(
        "--dense_model_file",
        type=Path,
        default=None,
        help="weights of the dense decodings (gate mode dense), e.g. the dense "
        "baseline; unset: --s2t_model_file",
    )
    parser.add_argument(
        "--timing_rounds",
        type=int,
        default=1,
        help="decode everything this many times, round after round; timing.json "
        "keeps each round's seconds and their median",
    )
    for action in parser._actions:  # argparse has no public way to relax these
        if action.dest in _PER_DECODING_OPTIONS:
            action.required = False
        if action.dest == "model_tag":  # what this package's loader takes
            action.help = (
                "a packed model instead of the config and weights options: Hub "
                "repository id, .zip or unpacked directory "
                "(Speech2Text.from_pretrained); unset: --s2t_train_config and "
                "--s2t_model_file"
            )
        if action.dest in ("lang_sym", "task_sym"):  # no silent <eng><asr>
            kind = "language" if action.dest == "lang_sym" else "task"
            action.default = None
            action.help = (
                f"{kind} symbol of the utterances, e.g. "
                f"{'deu' if kind == 'language' else 'st_eng'} or "
                f"{'<deu>' if kind == 'language' else '<st_eng>'}; required "
                "(without it decoding is refused, listing the model's symbols) "
                "unless --decode_list gives it per line"
            )
    return parser


def _symbol(name: Optional[str]) -> Optional[str]:
    return None if name is None else bracketed(name)


def read_decode_list(path: Path) -> list[Decoding]:
    """Parse a ``--decode_list`` file.

    Raises:
        ValueError: a malformed line, an unknown gate mode or a missing file,
            named by file and line number.
    """
    decodings = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        fields = line.split()
        if len(fields) != 6:
            raise ValueError(
                f"{where}: expected 'OUTPUT_DIR WAV_SCP KEY_FILE LANG TASK "
                f"GATE_MODE', got {len(fields)} fields"
            )
        output_dir, wav_scp, key_file, lang, task, mode = fields
        try:
            gate_mode = GateMode.parse(mode)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        for name in (wav_scp, key_file):
            if name != "-" and not Path(name).is_file():
                raise ValueError(f"{where}: no such file {name}")
        decodings.append(
            Decoding(
                output_dir=output_dir,
                data_path_and_name_and_type=[(wav_scp, "speech", "sound")],
                key_file=None if key_file == "-" else key_file,
                lang_sym=_symbol(lang),
                task_sym=_symbol(task),
                gate_mode=gate_mode,
            )
        )
    if not decodings:
        raise ValueError(f"{path}: no decodings listed")
    return decodings


def _decodings(loop: dict[str, Any], options: dict[str, Any]) -> list[Decoding]:
    """The ``--decode_list`` lines, or the one decoding of ESPnet's options."""
    if loop["decode_list"] is not None:
        given = [k for k in (*_PER_DECODING_OPTIONS, "key_file") if loop[k]]
        if given:
            raise ValueError(f"--decode_list replaces --{', --'.join(given)}")
        return read_decode_list(loop["decode_list"])
    missing = [k for k in _PER_DECODING_OPTIONS if not loop[k]]
    if missing:
        raise ValueError(f"--{' and --'.join(missing)} required (or --decode_list)")
    return [
        Decoding(
            output_dir=loop["output_dir"],
            data_path_and_name_and_type=loop["data_path_and_name_and_type"],
            key_file=loop["key_file"],
            lang_sym=_symbol(options["lang_sym"]),
            task_sym=_symbol(options["task_sym"]),
            gate_mode=GateMode.parse(options["gate_mode"]),
        )
    ]


@dataclass(frozen=True)
class CheckedPreprocess:
    """ESPnet's S2T preprocessing after the package's audio checks.

    ESPnet's preprocessor pads or cuts the speech to ``speech_length``, and its
    sound loader drops the rate, so the raw audio is checked here, first, at
    the rate its file header gives (a picklable object: loader workers may run
    it).

    Attributes:
        espnet: ESPnet's preprocessing (``None``: none).
        limits: the model's audio limits.
        files: utterance key -> (audio file, sample rate) of ``sound`` entries.
    """

    espnet: Optional[Callable[[str, dict], dict]]
    limits: AudioLimits
    files: dict[str, tuple[str, Optional[int]]]

    def __call__(self, key: str, data: dict[str, Any]) -> dict[str, Any]:
        path, rate = self.files.get(key, (None, None))
        name = f"utterance {key}" + (f" ({path})" if path else "")
        speech = checked_audio(data["speech"], rate, self.limits, name)
        data["speech"] = speech.cpu().numpy()
        return data if self.espnet is None else self.espnet(key, data)


def _sound_files(decoding: Decoding) -> dict[str, tuple[str, Optional[int]]]:
    """Audio file and rate (from its header) of each ``sound`` speech entry.

    Raises:
        ValueError: a missing or unreadable file, naming the utterance and file.
    """
    entries = [e for e in decoding.data_path_and_name_and_type if e[1] == "speech"]
    if not entries or entries[0][2] != "sound":
        return {}  # other formats (kaldi_ark, ...) carry no rate: the model's
    files = read_2columns_text(entries[0][0])
    if decoding.key_file is not None:
        keys = read_2columns_text(decoding.key_file)
        files = {k: v for k, v in files.items() if k in keys}
    checked = {}
    for key, path in files.items():
        try:
            checked[key] = (path, sf.info(path).samplerate)
        except Exception as error:  # soundfile raises several types
            reason = "no such file" if not Path(path).is_file() else error
            raise ValueError(
                f"utterance {key}: cannot read {path} ({reason})"
            ) from None
    return checked


@contextmanager
def _finished_outputs(output_dir: str) -> Iterator[Path]:
    """A temporary directory whose contents replace ``output_dir``'s at the end.

    Nothing partial looks finished: on an error the temporary directory is
    removed and ``output_dir`` keeps what it had.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".decoding.", dir=out))
    try:
        yield work
        for child in work.iterdir():
            target = out / child.name
            if target.is_dir():
                shutil.rmtree(target)
            child.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def decode(
    speech2text: Speech2Text,
    decoding: Decoding,
    loop: dict[str, Any],
    nbest: int,
    write: bool = True,
) -> tuple[int, float, dict[str, list[int]]]:
    """Decode one data set; write ESPnet's output files if ``write``.

    Returns:
        utterances decoded, their decoding seconds, and each one's best token ids.
    Raises:
        ValueError: audio that the checks refuse (names the utterance).
    """
    speech2text.gate_mode = decoding.gate_mode
    args = speech2text.s2t_train_args
    preprocess = CheckedPreprocess(
        S2TTask.build_preprocess_fn(args, False),
        speech2text.audio_limits,
        _sound_files(decoding),
    )
    loader = S2TTask.build_streaming_iterator(
        decoding.data_path_and_name_and_type,
        dtype=speech2text.dtype,
        batch_size=1,
        key_file=decoding.key_file,
        num_workers=loop["num_workers"],
        preprocess_fn=preprocess,
        collate_fn=S2TTask.build_collate_fn(args, False),
        allow_variable_data_keys=loop["allow_variable_data_keys"],
        inference=True,
    )
    seconds, count, best_ids = 0.0, 0, {}
    outputs = _finished_outputs(decoding.output_dir) if write else nullcontext()
    with outputs as work, DatadirWriter(work) if write else nullcontext() as writer:
        for keys, batch in loader:
            key = keys[0]
            batch = {k: v[0] for k, v in batch.items() if not k.endswith("_lengths")}
            start = time.perf_counter()
            results = speech2text(
                **batch, lang_sym=decoding.lang_sym, task_sym=decoding.task_sym
            )
            seconds += time.perf_counter() - start
            count += 1
            if isinstance(results, tuple):  # interCTC outputs are not written here
                results = results[0]
            best_ids[key] = list(results[0][2]) if results else []
            if writer is None:
                continue
            for n, (text, token, token_int, text_nospecial, hyp) in enumerate(
                results[:nbest], start=1
            ):
                best = writer[f"{n}best_recog"]
                best["token"][key] = " ".join(token)
                best["token_int"][key] = " ".join(map(str, token_int))
                best["score"][key] = str(hyp.score)
                if text is not None:
                    best["text"][key] = text
                if text_nospecial is not None:
                    best["text_nospecial"][key] = text_nospecial
            gates = speech2text.active_modules()
            if gates:
                writer["1best_recog"]["gates"][key] = " ".join(
                    f"{part}={groups}" for part, groups in gates.items()
                )
    logging.info(
        "%s: %d utterances (%s %s, %s gates) in %.1f s",
        decoding.output_dir,
        count,
        decoding.lang_sym,
        decoding.task_sym,
        decoding.gate_mode.value,
        seconds,
    )
    return count, seconds, best_ids


def inference(args: argparse.Namespace, command_options: str = "") -> None:
    """Decode every utterance of the data set(s) and write ESPnet's output files.

    Args:
        args: the parsed options.
        command_options: the command-line options recorded in each
            ``timing.json``.
    """
    options = vars(args).copy()
    options.pop("config", None)
    loop = {key: options.pop(key) for key in _LOOP_OPTIONS}
    if loop["batch_size"] > 1:
        raise NotImplementedError("batch decoding is not implemented (as in ESPnet)")
    if loop["word_lm_train_config"] is not None:
        raise NotImplementedError("Word LM is not implemented (as in ESPnet)")
    if loop["ngpu"] > 1:
        raise NotImplementedError("only single GPU decoding is supported")
    logging.basicConfig(
        level=loop["log_level"],
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    decodings = _decodings(loop, options)
    if loop["timing_rounds"] < 1:
        raise ValueError(f"--timing_rounds must be >= 1, got {loop['timing_rounds']}")
    set_all_random_seed(loop["seed"])
    models = _load_models(loop, options, decodings)
    # Refuse a missing or unknown symbol before decoding anything.
    decodings = [_with_context(d, models[d.gate_mode]) for d in decodings]
    rounds: dict[str, list[float]] = {d.output_dir: [] for d in decodings}
    counts, first_ids = {}, {}
    for round_index in range(loop["timing_rounds"]):
        for decoding in decodings:
            model = models[decoding.gate_mode]
            count, seconds, ids = decode(
                model, decoding, loop, options["nbest"], write=round_index == 0
            )
            rounds[decoding.output_dir].append(seconds)
            counts[decoding.output_dir] = count
            first_ids.setdefault(decoding.output_dir, ids)
            changed = [
                k for k, v in ids.items() if first_ids[decoding.output_dir][k] != v
            ]
            if changed:
                logging.warning(
                    "%s: round %d gave other hypotheses than round 1 for %d "
                    "utterances (nondeterministic decoding)",
                    decoding.output_dir,
                    round_index + 1,
                    len(changed),
                )
    for output_dir, seconds in rounds.items():
        timing = {
            "utterances": counts[output_dir],
            "seconds": statistics.median(seconds),
            "rounds": seconds,
            "options": command_options,
        }
        (Path(output_dir) / "timing.json").write_text(json.dumps(timing))


def _with_context(decoding: Decoding, speech2text: Speech2Text) -> Decoding:
    """``decoding`` with its symbols checked against the model.

    Raises:
        ValueError: a missing symbol (lists the model's) or an unknown one.
    """
    lang, task = speech2text.context(decoding.lang_sym, decoding.task_sym)
    return replace(decoding, lang_sym=lang, task_sym=task)


def _load_models(
    loop: dict[str, Any], options: dict[str, Any], decodings: list[Decoding]
) -> dict[GateMode, Speech2Text]:
    """One model per gate mode of the decodings, each loaded once.

    Both modes share one model unless ``--dense_model_file`` gives the dense
    decodings their own weights. A model without gate weights is refused if
    any ``predicted`` line needs them.
    """
    dense_file = loop["dense_model_file"]
    if dense_file is not None and loop["model_tag"] is not None:
        raise ValueError(
            "--dense_model_file goes with --s2t_model_file, not --model_tag"
        )
    modes = {d.gate_mode for d in decodings}
    first = decodings[0]
    options = dict(options, lang_sym=first.lang_sym, task_sym=first.task_sym)
    device = "cuda" if loop["ngpu"] >= 1 else "cpu"
    models: dict[GateMode, Speech2Text] = {}
    if GateMode.PREDICTED in modes or dense_file is None:
        mode = GateMode.PREDICTED if GateMode.PREDICTED in modes else GateMode.DENSE
        model = Speech2Text.from_pretrained(
            loop["model_tag"], device=device, **dict(options, gate_mode=mode)
        )
        models = dict.fromkeys(modes, model)
    if dense_file is not None and GateMode.DENSE in modes:
        models[GateMode.DENSE] = Speech2Text.from_pretrained(
            None,
            device=device,
            **dict(options, s2t_model_file=dense_file, gate_mode=GateMode.DENSE),
        )
    return models


def main(cmd: Optional[list[str]] = None) -> None:
    """Entry point."""
    print(get_commandline_args(), file=sys.stderr)
    argv = sys.argv[1:] if cmd is None else list(cmd)
    inference(get_parser().parse_args(argv), shlex.join(_without_decode_list(argv)))


def _without_decode_list(argv: list[str]) -> list[str]:
    """``argv`` less ``--decode_list FILE`` (each job decodes its own list)."""
    kept = []
    words = iter(argv)
    for word in words:
        if word == "--decode_list":
            next(words, None)
        elif not word.startswith("--decode_list="):
            kept.append(word)
    return kept


if __name__ == "__main__":
    main()
