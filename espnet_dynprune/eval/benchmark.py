"""Side-by-side decoding benchmark: stock ESPnet against the gated model.

Every setting decodes the same audio with the same weights in one process:
``stock`` is ESPnet's own ``e_branchformer`` + ``transformer`` model; the other
settings are the ``dynprune`` model built from the same state dict, either dense
or with a fixed gate mask, with or without the per-utterance source-attention
key/value cache. The models are randomly initialised in OWSM shapes
(:func:`build_models`) or a trained gated model with one setting per
(language, task) context its predictor knows (:func:`load_trained`). Their
end-of-sentence logit is suppressed and they decode a fixed number of steps, so
that every setting does the same search work and only the skipped modules differ.

Per setting it also reports the weights a per-context export with that mask
keeps (``espnet_dynprune.inference.export_context``) and the peak tensor memory
the decode allocates (``espnet_dynprune.eval.memory``). :func:`measure_batched`
times the encoder on a batch of utterances from two contexts: one utterance at a time,
grouped by mask (``espnet_dynprune.inference.batching``), or mixed in one batch.
"""

import argparse
import contextlib
import copy
import functools
import inspect
import itertools
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import torch
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.compat.espnet_release import BatchBeamSearch
from espnet_dynprune.eval.decode_profile import decode_time_parts
from espnet_dynprune.eval.memory import peak_allocated_bytes
from espnet_dynprune.inference.batching import encode_grouped
from espnet_dynprune.inference.export_context import export_parameter_bytes
from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.nets.flops import count_flops
from espnet_dynprune.nets.gate_contract import (
    DECODER_MODULES,
    ENCODER_MODULES,
    GateMask,
)
from espnet_dynprune.tasks.gated_config import stock_config
from espnet_dynprune.tasks.model_files import load_gated_model

__all__ = [
    "PROFILED",
    "SHAPES",
    "ModelShape",
    "Setting",
    "build_models",
    "default_settings",
    "load_trained",
    "measure",
    "measure_batch_decode",
    "measure_batched",
    "pattern_mask",
    "quantized",
    "supports_batch_decode",
]

logger = logging.getLogger(__name__)  # progress of the timing rounds

LANGUAGES = ("eng", "deu", "fra", "ita", "spa")
# Settings whose decode is also split into parts (``eval.decode_profile``):
# ESPnet's own model, and the gated model dense and pruned.
PROFILED = ("stock", "dense", "joint 0.5")
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class ModelShape:
    """Architecture of a randomly initialised OWSM-style model."""

    name: str
    output_size: int
    attention_heads: int
    linear_units: int
    encoder_layers: int
    decoder_layers: int
    vocab_size: int
    n_mels: int = 80


SHAPES = {
    "tiny": ModelShape("tiny", 64, 2, 128, 2, 2, 500, 40),
    "owsm_base": ModelShape("owsm_base", 384, 6, 1536, 6, 6, 50000),
    "owsm_small": ModelShape("owsm_small", 768, 12, 3072, 9, 9, 50000),
}


@dataclass(frozen=True)
class Setting:
    """One benchmarked configuration.

    Args:
        name: label in the table.
        gated: use the ``dynprune`` model (else stock ESPnet).
        source_cache: reuse source-attention keys/values per utterance.
        self_attention_cache: keep the prefix's self-attention keys/values
            across decoding steps.
        int8: the gated model after ESPnet's dynamic int8 quantization of its
            ``Linear`` layers (``quantize_s2t_model``).
        encoder_mask: ``(L_enc, 4)`` gates, 1 = runs; ``None`` = dense.
        decoder_mask: ``(L_dec, 3)`` gates; ``None`` = dense.
    """

    name: str
    gated: bool = True
    source_cache: bool = True
    self_attention_cache: bool = True
    int8: bool = False
    encoder_mask: Optional[torch.Tensor] = field(default=None, compare=False)
    decoder_mask: Optional[torch.Tensor] = field(default=None, compare=False)

    def gates(self) -> GateMask:
        """The masks as gates of a batch of one."""
        masks = (self.encoder_mask, self.decoder_mask)
        return GateMask(*(None if m is None else m[None] for m in masks))


def token_list(vocab_size: int) -> list[str]:
    """An OWSM-layout token list: specials, languages, tasks, times, pieces."""
    specials = ["<blank>", "<unk>", "<na>", "<nolang>"]
    specials += [f"<{lang}>" for lang in LANGUAGES]
    specials += ["<asr>", "<st_eng>", "<notimestamps>", "<0.00>", "<30.00>"]
    tail = ["<sos>", "<eos>", "<sop>"]
    pieces = [f"piece{i}" for i in range(vocab_size - len(specials) - len(tail))]
    return specials + pieces + tail


def _model_args(shape: ModelShape, gated: bool) -> argparse.Namespace:
    encoder_conf = dict(
        output_size=shape.output_size,
        attention_heads=shape.attention_heads,
        attention_layer_type="selfattn",
        pos_enc_layer_type="abs_pos",
        cgmlp_linear_units=shape.linear_units,
        linear_units=shape.linear_units,
        num_blocks=shape.encoder_layers,
        use_ffn=True,
        macaron_ffn=True,
        merge_conv_kernel=31,
        input_layer="conv2d",
        use_flash_attn=False,
    )
    decoder_conf = dict(
        attention_heads=shape.attention_heads,
        linear_units=shape.linear_units,
        num_blocks=shape.decoder_layers,
        use_flash_attn=False,
    )
    model_conf: dict = {"ctc_weight": 0.3}
    if gated:
        model_conf["sparsity_conf"] = {"encoder_target": 0.5, "decoder_target": 0.5}
        model_conf["gate_predictor_conf"] = {"parts": ["encoder", "decoder"]}
    return argparse.Namespace(
        token_list=token_list(shape.vocab_size),
        input_size=None,
        frontend="default",
        frontend_conf={"n_mels": shape.n_mels},
        specaug=None,
        specaug_conf={},
        normalize="utterance_mvn",
        normalize_conf={},
        preencoder=None,
        encoder="gated_e_branchformer" if gated else "e_branchformer",
        encoder_conf=encoder_conf,
        postencoder=None,
        decoder="gated_transformer" if gated else "transformer",
        decoder_conf=decoder_conf,
        ctc_conf={},
        model="dynprune" if gated else "espnet",
        model_conf=model_conf,
        init=None,
    )


def _suppress_eos(model: torch.nn.Module) -> None:
    """No early end: every setting decodes the same steps."""
    with torch.no_grad():
        model.decoder.output_layer.bias[model.eos] = -1e4


def build_models(shape: ModelShape, seed: int = 0) -> dict[str, torch.nn.Module]:
    """Stock and gated models with identical (random) backbone weights."""
    torch.manual_seed(seed)
    stock = S2TTask.build_model(_model_args(shape, gated=False)).eval()
    _suppress_eos(stock)
    gated = S2TTask.build_model(_model_args(shape, gated=True)).eval()
    missing, unexpected = gated.load_state_dict(stock.state_dict(), strict=False)
    if unexpected or any(not k.startswith(GATE_PREFIX) for k in missing):
        raise RuntimeError(f"state dicts differ: {missing} {unexpected}")
    gated.set_inference_context(gate_mode="dense")
    return {"stock": stock, "gated": gated, "gated_int8": quantized(gated)}


def quantized(model: torch.nn.Module) -> torch.nn.Module:
    """A copy with its ``Linear`` layers dynamically quantized to int8, as ESPnet's
    ``Speech2Text(quantize_s2t_model=True)`` does by default."""
    return torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
    )


def _model_of(models: dict[str, torch.nn.Module], setting: Setting) -> torch.nn.Module:
    if setting.int8:
        return models["gated_int8"]
    return models["gated" if setting.gated else "stock"]


def load_trained(
    config_file: Union[str, Path], model_file: Union[str, Path]
) -> tuple[dict[str, torch.nn.Module], list[Setting]]:
    """A trained gated model, stock ESPnet on its weights, and per-context settings.

    Args:
        config_file: the gated model's ``config.yaml`` (``model: dynprune``, a
            context-only predictor).
        model_file: its weights, with trained ``gating.*`` weights.
    Returns:
        ``{"stock", "gated"}`` models (the gated one in ``dense`` mode) and the
        settings ``stock``, ``dense`` and ``predicted <lang>/<task>`` for every
        (language, task) of the predictor's context vocabulary, with the gates
        it predicts for that context.
    Raises:
        ValueError: not a ``dynprune`` config or not matching weights, an
            acoustic predictor (``config_file``), or an untrained one
            (``model_file``).
    """
    config, gated = load_gated_model(config_file, model_file)
    if not gated.gating.config.context_only:
        raise ValueError(
            f"{config_file}: model_conf.gate_predictor_conf.acoustic is true: the "
            "gates depend on the audio, not only on the (language, task) context"
        )
    if not gated.gating.is_trained():
        raise ValueError(f"{model_file}: the gate predictor has no trained weights")
    _suppress_eos(gated)
    stock = S2TTask.build_model(argparse.Namespace(**stock_config(config))).eval()
    stock.load_state_dict(
        {
            key: value
            for key, value in gated.state_dict().items()
            if not key.startswith(GATE_PREFIX)
        }
    )
    kinds = gated.gating.config.context
    vocabulary = gated.gating.vocabulary
    settings = [
        Setting("stock", gated=False, source_cache=False),
        Setting("dense"),
    ]
    for lang, task in itertools.product(
        vocabulary.languages if "lang" in kinds else [None],
        vocabulary.tasks if "task" in kinds else [None],
    ):
        gates = gated.context_gates(lang, task)
        symbols = [s.strip("<>") for s in (lang, task) if s is not None]
        settings.append(
            Setting(
                f"predicted {'/'.join(symbols)}",
                encoder_mask=None if gates.encoder is None else gates.encoder[0],
                decoder_mask=None if gates.decoder is None else gates.decoder[0],
            )
        )
    gated.set_inference_context(gate_mode="dense")  # the settings apply the gates
    return {"stock": stock, "gated": gated}, settings


def pattern_mask(layers: int, modules: int, sparsity: float, seed: int) -> torch.Tensor:
    """``(layers, modules)`` gates, ``round(sparsity * layers * modules)`` closed."""
    closed = round(sparsity * layers * modules)
    order = torch.randperm(
        layers * modules, generator=torch.Generator().manual_seed(seed)
    )
    mask = torch.ones(layers * modules)
    mask[order[:closed]] = 0.0
    return mask.view(layers, modules)


def default_settings(shape: ModelShape) -> list[Setting]:
    """Stock, dense, and fixed encoder / decoder / joint masks."""
    le, ld = shape.encoder_layers, shape.decoder_layers
    enc = len(ENCODER_MODULES)
    dec = len(DECODER_MODULES)
    settings = [
        Setting("stock", gated=False, source_cache=False),
        Setting("dense, no cache", source_cache=False, self_attention_cache=False),
        Setting("dense, no self-attn cache", self_attention_cache=False),
        Setting("dense"),
    ]
    for s in (0.25, 0.5, 0.75):
        settings.append(Setting(f"dec {s}", decoder_mask=pattern_mask(ld, dec, s, 1)))
    settings.append(
        Setting(
            "dec 0.5, no cache",
            source_cache=False,
            self_attention_cache=False,
            decoder_mask=pattern_mask(ld, dec, 0.5, 1),
        )
    )
    for s in (0.25, 0.5):
        settings.append(Setting(f"enc {s}", encoder_mask=pattern_mask(le, enc, s, 2)))
    for s in (0.5, 0.75, 0.9):
        settings.append(
            Setting(
                f"joint {s}",
                encoder_mask=pattern_mask(le, enc, s, 2),
                decoder_mask=pattern_mask(ld, dec, s, 1),
            )
        )
    settings.append(Setting("dense int8", int8=True))
    settings.append(
        Setting(
            "joint 0.5 int8",
            int8=True,
            encoder_mask=pattern_mask(le, enc, 0.5, 2),
            decoder_mask=pattern_mask(ld, dec, 0.5, 1),
        )
    )
    return settings


def _decoder_search(model: torch.nn.Module, beam: int) -> BatchBeamSearch:
    """ESPnet's batched beam search over the decoder alone (no CTC, no LM)."""
    return BatchBeamSearch(
        scorers={"decoder": model.decoder},
        weights={"decoder": 1.0},
        beam_size=beam,
        vocab_size=model.vocab_size,
        sos=model.sos,
        eos=model.eos,
    )


def _decode(
    model: torch.nn.Module,
    setting: Setting,
    speech: torch.Tensor,
    beam: int,
    steps: int,
) -> list[int]:
    lengths = torch.tensor([speech.size(1)])
    search = _decoder_search(model, beam)
    if not setting.gated:
        enc, _ = model.encode(speech, lengths)
        return search(x=enc[0], maxlenratio=-steps)[0].yseq.tolist()
    gates = setting.gates()
    with model.encoder_gates(gates.encoder):
        enc, _ = model.encode(speech, lengths)
    model.decoder.use_source_cache(setting.source_cache)
    model.decoder.use_self_attention_cache(setting.self_attention_cache)
    with model.decoder_gates(gates.decoder):
        return search(x=enc[0], maxlenratio=-steps)[0].yseq.tolist()


def _median_times(runs: Sequence[Callable[[], object]], repeats: int) -> list[float]:
    """Median wall time per run: one warm-up each, then ``repeats`` rounds.

    Rounds visit every run in turn, so a machine whose load drifts during the
    measurement slows every setting alike instead of the last ones.
    """
    times: list[list[float]] = [[] for _ in runs]
    with torch.no_grad():
        start = time.perf_counter()
        for run in runs:
            run()
        logger.info("  warm-up of %d settings: %.1f s", len(runs), _since(start))
        for round_ in range(repeats):
            start = time.perf_counter()
            for run, run_times in zip(runs, times, strict=True):
                run_start = time.perf_counter()
                run()
                run_times.append(_since(run_start))
            logger.info("  round %d of %d: %.1f s", round_ + 1, repeats, _since(start))
    return [statistics.median(run_times) for run_times in times]


def _since(start: float) -> float:
    return time.perf_counter() - start


def _flops_and_peak(run: Callable[[], object], count: bool) -> tuple:
    """FLOPs (``None`` unless ``count``) and peak tensor bytes of one ``run()``,
    from a single call: both observe the same operators."""
    flops: list[int] = []
    peak = peak_allocated_bytes(
        (lambda: flops.append(count_flops(run))) if count else run
    )
    return (flops[0] if count else None), peak


def measure(
    models: dict[str, torch.nn.Module],
    settings: Sequence[Setting],
    seconds: float = 10.0,
    beam: int = 5,
    steps: int = 20,
    repeats: int = 3,
    progress=None,
    speech: Optional[torch.Tensor] = None,
) -> list[dict]:
    """Per setting: median time, FLOPs, export weights, peak memory of one decode,
    and for the :data:`PROFILED` settings the seconds of each part of a decode
    (``time_parts``, :func:`espnet_dynprune.eval.decode_profile.decode_time_parts`).

    Every setting decodes ``speech`` (``(1, T)`` samples at 16 kHz), by default
    ``seconds`` of seeded random noise.
    """
    if speech is None:
        speech = torch.randn(
            1, int(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(0)
        )
    chosen = [_model_of(models, setting) for setting in settings]
    runs = [
        functools.partial(_decode, model, setting, speech, beam, steps)
        for model, setting in zip(chosen, settings, strict=True)
    ]
    times = _median_times(runs, repeats)
    rows = []
    for setting, model, run, seconds_taken in zip(
        settings, chosen, runs, times, strict=True
    ):
        # torch's FLOP counter does not see quantized kernels, and an int8
        # model's packed weights are no parameters: neither is reported
        flops, peak = _flops_and_peak(run, count=not setting.int8)
        rows.append(
            {
                "setting": setting.name,
                "time_s": seconds_taken,
                "flops": flops,
                "weight_bytes": (
                    None
                    if setting.int8
                    else export_parameter_bytes(model, setting.gates())
                ),
                "peak_bytes": peak,
                "time_parts": (
                    decode_time_parts(model, run) if setting.name in PROFILED else None
                ),
            }
        )
        if progress is not None:
            progress(rows[-1])
    return rows


def batched_settings(shape: ModelShape) -> dict[str, torch.Tensor]:
    """Encoder masks of the two contexts of the batched measurement (0.5 each)."""
    layers, modules = shape.encoder_layers, len(ENCODER_MODULES)
    return {
        "A": pattern_mask(layers, modules, 0.5, 2),
        "B": pattern_mask(layers, modules, 0.5, 3),
    }


def measure_batched(
    model: torch.nn.Module,
    shape: ModelShape,
    batch: int = 4,
    seconds: float = 10.0,
    repeats: int = 3,
    progress=None,
) -> list[dict]:
    """Encoder time of ``batch`` utterances, alternately of two contexts.

    ESPnet's beam search decodes one utterance at a time (``BatchBeamSearch``
    batches the hypotheses of one utterance), so only the encoder is batched.

    Args:
        model: the gated model (dense mode; masks are applied here).
        shape: its shape (for the masks).
        batch: utterances, of equal length, contexts alternating A, B, A, ...
        seconds: audio per utterance.
        repeats: timed rounds (median), after a warm-up.
        progress: called with each finished row.
    Returns:
        Rows ``{"setting", "time_s", "flops", "peak_bytes"}``: dense and pruned,
        one utterance at a time and batched (pruned: grouped by mask, and mixed
        rows in one batch).
    """
    contexts = batched_settings(shape)
    masks = torch.stack([contexts["AB"[i % 2]] for i in range(batch)])  # [B, L, M]
    speech = torch.randn(
        batch, int(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(1)
    )
    lengths = torch.full((batch,), speech.size(1))

    def encode(wav, lens, gates):
        with model.encoder_gates(gates):
            return model.encode(wav, lens)

    def one_by_one(gates):
        for i in range(batch):
            encode(speech[i : i + 1], lengths[i : i + 1], _row(gates, i))

    ways = {
        "dense, 1 at a time": lambda: one_by_one(None),
        "dense, batched": lambda: encode(speech, lengths, None),
        "pruned, 1 at a time": lambda: one_by_one(masks),
        "pruned, grouped": lambda: encode_grouped(encode, speech, lengths, masks),
        "pruned, mixed rows": lambda: encode(speech, lengths, masks),
    }
    times = _median_times(list(ways.values()), repeats)
    rows = []
    for (name, run), seconds_taken in zip(ways.items(), times, strict=True):
        rows.append(
            {
                "setting": name,
                "time_s": seconds_taken,
                "flops": count_flops(run),
                "peak_bytes": peak_allocated_bytes(run),
            }
        )
        if progress is not None:
            progress(rows[-1])
    return rows


def supports_batch_decode() -> bool:
    """Whether ESPnet's ``BatchBeamSearch`` decodes several utterances (202611)."""
    return "x_lengths" in inspect.signature(BatchBeamSearch.forward).parameters


def measure_batch_decode(
    models: dict[str, torch.nn.Module],
    shape: ModelShape,
    batch: int = 16,
    seconds: float = 10.0,
    beam: int = 5,
    steps: int = 40,
    repeats: int = 3,
    progress=None,
) -> list[dict]:
    """Whole decoding of ``batch`` utterances of two contexts: throughput.

    Decoded one utterance at a time, or all together in one multi-utterance beam
    search (ESPnet 202611's ``BatchBeamSearch``; the gated decoder spreads each
    utterance's gates over its hypotheses): by ESPnet's own model (``stock``),
    the gated model dense, and the gated model with each context's own joint 50%
    mask (encoder and decoder).

    Args:
        models: :func:`build_models`' models (``stock`` and ``gated``).
    Returns:
        Rows ``{"setting", "time_s", "utterances_per_s", "same_hypotheses",
        "speedup_vs_single", "speedup_vs_stock"}``: ``same_hypotheses`` compares
        a row with its one-at-a-time row, the speed-ups its throughput with that
        row's and with ``stock`` decoding the same way.
    Raises:
        RuntimeError: the installed ESPnet decodes one utterance at a time.
    """
    if not supports_batch_decode():
        raise RuntimeError("multi-utterance beam search needs espnet 202611 or newer")
    encoder = batched_settings(shape)
    decoder = {
        context: pattern_mask(shape.decoder_layers, len(DECODER_MODULES), 0.5, seed)
        for context, seed in (("A", 1), ("B", 4))
    }
    order = ["AB"[i % 2] for i in range(batch)]
    pruned = GateMask(
        torch.stack([encoder[c] for c in order]),
        torch.stack([decoder[c] for c in order]),
    )
    speech = torch.randn(
        batch, int(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(1)
    )
    lengths = torch.full((batch,), speech.size(1))
    gated = models["gated"]
    gated.decoder.use_source_cache(True)
    gated.decoder.use_self_attention_cache(True)

    def decoding(model: torch.nn.Module, gates: Optional[GateMask]):
        """One-at-a-time and batched decoding by ``model`` (``gates``: gated)."""
        search = _decoder_search(model, beam)

        def applied(rows: slice, part: str):
            if gates is None:
                return contextlib.nullcontext()
            mask = getattr(gates, part)
            apply = model.encoder_gates if part == "encoder" else model.decoder_gates
            return apply(None if mask is None else mask[rows])

        def decode(rows: slice) -> list[list[int]]:
            with applied(rows, "encoder"):
                enc, enc_lengths = model.encode(speech[rows], lengths[rows])
            with applied(rows, "decoder"):
                if enc.size(0) == 1:
                    return [search(x=enc[0], maxlenratio=-steps)[0].yseq.tolist()]
                nbest = search(x=enc, x_lengths=enc_lengths, maxlenratio=-steps)
            return [hyps[0].yseq.tolist() for hyps in nbest]

        def one_at_a_time() -> list[list[int]]:
            return [hyp for i in range(batch) for hyp in decode(slice(i, i + 1))]

        return one_at_a_time, lambda: decode(slice(0, batch))

    ways = {}
    for name, model, gates in (
        ("stock", models["stock"], None),
        ("dense", gated, GateMask()),
        ("joint 0.5", gated, pruned),
    ):
        single, together = decoding(model, gates)
        ways[f"{name}, 1 at a time"] = single
        ways[f"{name}, batch decode"] = together
    with torch.no_grad():
        hypotheses = {name: run() for name, run in ways.items()}
    times = dict(zip(ways, _median_times(list(ways.values()), repeats), strict=True))
    rows = []
    for name, seconds_taken in times.items():
        single = name.replace("batch decode", "1 at a time")
        stock = "stock, " + name.split(", ", 1)[1]
        rows.append(
            {
                "setting": name,
                "time_s": seconds_taken,
                "utterances_per_s": batch / seconds_taken,
                "same_hypotheses": hypotheses[name] == hypotheses[single],
                "speedup_vs_single": times[single] / seconds_taken,
                "speedup_vs_stock": times[stock] / seconds_taken,
            }
        )
        if progress is not None:
            progress(rows[-1])
    return rows


def _row(gates: Optional[torch.Tensor], index: int) -> Optional[torch.Tensor]:
    return None if gates is None else gates[index : index + 1]
