"""S2T decoding of gated models: ESPnet's ``s2t_inference`` plus ``--gate_mode``.

Usage:
    python -m espnet_dynprune.bin.s2t_inference \
        --s2t_train_config exp/s2t_gated/config.yaml \
        --s2t_model_file exp/s2t_gated/valid.acc.ave.pth \
        --data_path_and_name_and_type dump/test/wav.scp,speech,sound \
        --lang_sym deu --task_sym st_eng --gate_mode predicted \
        --output_dir exp/s2t_gated/decode_test

Takes every option of ``python -m espnet2.bin.s2t_inference`` and writes the same
``1best_recog/{text,token,token_int,score,...}`` files. Added:

* ``--gate_mode predicted|dense``;
* ``--model_tag``: a packed model (Hub repository id, ``.zip`` or directory, see
  ``Speech2Text.from_pretrained``) instead of the config and weights options;
* ``1best_recog/gates``: per utterance, which modules ran, one 0/1 group per
  layer (``encoder=1111 1011 decoder=111 010``; absent in dense mode);
* ``timing.json``: utterances decoded and their total decoding seconds (model
  loading and audio reading excluded).
"""

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import List, Optional

from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError
from espnet.utils.cli_utils import get_commandline_args
from espnet2.bin.s2t_inference import get_parser as espnet_get_parser
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.tasks.s2t import S2TTask
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed

import espnet_dynprune  # noqa: F401  (registers the plugin classes)
from espnet_dynprune.inference import Speech2Text
from espnet_dynprune.models import GATE_MODES

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
)


def get_parser() -> argparse.ArgumentParser:
    """ESPnet's S2T inference parser with ``--gate_mode``."""
    parser = espnet_get_parser()
    parser.add_argument(
        "--gate_mode",
        choices=GATE_MODES,
        default="predicted",
        help="predicted: the gate predictor skips modules per utterance; "
        "dense: every module runs (equals the stock model)",
    )
    return parser


def _symbol(name: str) -> str:
    """``deu`` or ``<deu>`` -> ``<deu>`` (``<`` and ``>`` are awkward in shells)."""
    return f"<{name.lstrip('<').rstrip('>')}>"


def inference(args: argparse.Namespace) -> None:
    """Decode every utterance of the data and write ESPnet's output files."""
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
    options["lang_sym"] = _symbol(options["lang_sym"])
    options["task_sym"] = _symbol(options["task_sym"])
    set_all_random_seed(loop["seed"])
    speech2text = Speech2Text.from_pretrained(
        loop["model_tag"], device="cuda" if loop["ngpu"] >= 1 else "cpu", **options
    )
    loader = S2TTask.build_streaming_iterator(
        loop["data_path_and_name_and_type"],
        dtype=options["dtype"],
        batch_size=1,
        key_file=loop["key_file"],
        num_workers=loop["num_workers"],
        preprocess_fn=S2TTask.build_preprocess_fn(speech2text.s2t_train_args, False),
        collate_fn=S2TTask.build_collate_fn(speech2text.s2t_train_args, False),
        allow_variable_data_keys=loop["allow_variable_data_keys"],
        inference=True,
    )
    seconds, count = 0.0, 0
    with DatadirWriter(loop["output_dir"]) as writer:
        for keys, batch in loader:
            key = keys[0]
            batch = {k: v[0] for k, v in batch.items() if not k.endswith("_lengths")}
            start = time.perf_counter()
            try:
                results = speech2text(**batch)
            except TooShortUttError as error:
                logging.warning(
                    "utterance %s: %s; writing an empty hypothesis", key, error
                )
                writer["1best_recog"]["text"][key] = ""
                continue
            seconds += time.perf_counter() - start
            count += 1
            if isinstance(results, tuple):  # interCTC outputs are not written here
                results = results[0]
            for n, (text, token, token_int, text_nospecial, hyp) in enumerate(
                results[: options["nbest"]], start=1
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
    timing = {"utterances": count, "seconds": seconds}
    (Path(loop["output_dir"]) / "timing.json").write_text(json.dumps(timing))


def main(cmd: Optional[List[str]] = None) -> None:
    """Entry point."""
    print(get_commandline_args(), file=sys.stderr)
    inference(get_parser().parse_args(cmd))


if __name__ == "__main__":
    main()
