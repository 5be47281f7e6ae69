"""Tiny ESPnet S2T models, stock and gated, built the way ESPnet builds them."""

import argparse
from pathlib import Path
from typing import Optional

import torch
import yaml
from espnet2.tasks.s2t import S2TTask

import espnet_dynprune  # noqa: F401  (registers the plugin classes)

__all__ = [
    "DECODER_CLOSED",
    "ENCODER_CLOSED",
    "MODEL_CONF",
    "TOKENS",
    "build_s2t",
    "make_batch",
    "s2t_args",
    "write_gated_model",
]

TOKENS = (
    ["<blank>", "<unk>", "<na>", "<nolang>", "<eng>", "<deu>", "<fra>"]
    + ["<asr>", "<st_eng>", "<notimestamps>", "<0.00>", "<30.00>"]
    + list("abcdefghijklmnopqrstuvwxyz")
    + ["<sop>", "<sos>", "<eos>"]
)

ENCODER_CONF = dict(
    output_size=32,
    attention_heads=2,
    cgmlp_linear_units=64,
    linear_units=64,
    num_blocks=2,
    use_ffn=True,
    macaron_ffn=True,
    input_layer="conv2d",
    dropout_rate=0.0,
    positional_dropout_rate=0.0,
)
TINY_ENCODER = dict(
    input_size=20,
    output_size=16,
    attention_heads=2,
    num_blocks=2,
    use_ffn=True,
    macaron_ffn=True,
    linear_units=32,
    cgmlp_linear_units=32,
)
"""A tiny E-Branchformer on 20-dim features, both FFNs on (as OWSM)."""
DECODER_CONF = dict(
    attention_heads=2,
    linear_units=64,
    num_blocks=2,
    dropout_rate=0.0,
    positional_dropout_rate=0.0,
)


def s2t_args(
    gated: bool,
    model_conf: Optional[dict] = None,
    encoder_conf: Optional[dict] = None,
    decoder_conf: Optional[dict] = None,
) -> argparse.Namespace:
    """The part of an ESPnet S2T config that ``S2TTask.build_model`` reads."""
    return argparse.Namespace(
        token_list=list(TOKENS),
        input_size=None,
        frontend="default",
        frontend_conf=dict(n_fft=256, hop_length=128, n_mels=20),
        specaug=None,
        specaug_conf={},
        normalize="utterance_mvn",
        normalize_conf={},
        preencoder=None,
        encoder="gated_e_branchformer" if gated else "e_branchformer",
        encoder_conf={**ENCODER_CONF, **(encoder_conf or {})},
        postencoder=None,
        decoder="gated_transformer" if gated else "transformer",
        decoder_conf={**DECODER_CONF, **(decoder_conf or {})},
        ctc_conf={},
        model="dynprune" if gated else "espnet",
        model_conf={"ctc_weight": 0.3, **(model_conf or {})},
        init=None,
    )


def build_s2t(gated: bool, seed: int = 0, **kwargs) -> torch.nn.Module:
    """Build a tiny S2T model in eval mode with deterministic weights."""
    torch.manual_seed(seed)
    return S2TTask.build_model(s2t_args(gated, **kwargs)).eval()


# (layer, module) closed for every context: encoder gates come first, 4 per layer
ENCODER_CLOSED = [(0, 1), (1, 2), (1, 3)]  # attention; cgMLP and FFN
DECODER_CLOSED = [(0, 1), (1, 0), (1, 2)]  # source attention; self-attention and FFN
MODEL_CONF = {
    "gate_predictor_conf": {"parts": ["encoder", "decoder"]},
    "sparsity_conf": {"encoder_target": 0.3, "decoder_target": 0.5},
}
PREPROCESSOR_CONF = dict(
    notime_symbol="<notimestamps>",
    first_time_symbol="<0.00>",
    last_time_symbol="<30.00>",
    fs=16000,
    speech_length=0.5,
    speech_resolution=0.02,
)


def write_gated_model(
    out_dir: Path, model_conf: Optional[dict] = None
) -> tuple[Path, Path]:
    """A tiny gated model on disk (config.yaml, gated.pth) whose trained-looking
    predictor closes ENCODER_CLOSED / DECODER_CLOSED in every context."""
    model_conf = MODEL_CONF if model_conf is None else model_conf
    model = build_s2t(gated=True, model_conf=model_conf)
    predictor = model.gating.predictor
    predictor.num_updates.fill_(1)  # counts as trained
    logits = predictor.mlp[-1].bias.view(-1, 2)
    with torch.no_grad():
        for layer, module in ENCODER_CLOSED:
            logits[layer * 4 + module, 1] = -5.0
        for layer, module in DECODER_CLOSED:
            logits[2 * 4 + layer * 3 + module, 1] = -5.0
    config = vars(s2t_args(gated=True, model_conf=model_conf))
    config.update(token_type="char", bpemodel=None, preprocessor_conf=PREPROCESSOR_CONF)
    config_file, model_file = out_dir / "config.yaml", out_dir / "gated.pth"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    torch.save(model.state_dict(), model_file)
    return config_file, model_file


def write_context_gated_model(
    out_dir: Path, model_conf: Optional[dict] = None
) -> tuple[Path, Path]:
    """:func:`write_gated_model` whose gates differ between contexts (a large
    random language embedding and first predictor layer)."""
    config_file, model_file = write_gated_model(out_dir, model_conf)
    state = torch.load(model_file, weights_only=True)
    generator = torch.Generator().manual_seed(0)
    for key in ("gating.predictor.lang_embed.weight", "gating.predictor.mlp.0.weight"):
        state[key] = 3 * torch.randn(state[key].shape, generator=generator)
    torch.save(state, model_file)
    return config_file, model_file


LANGS = ["<eng>", "<deu>", "<fra>"]


def make_batch(batch: int = 4, seed: int = 0, samples: int = 8000) -> dict:
    """Random audio and S2T text ``<lang><task><notimestamps> letters``."""
    generator = torch.Generator().manual_seed(seed)
    ids = {t: i for i, t in enumerate(TOKENS)}
    texts, ctcs = [], []
    for b in range(batch):
        lang = LANGS[b % 3]
        task = "<asr>" if lang == "<eng>" or b % 2 else "<st_eng>"
        letters = torch.randint(
            ids["a"], ids["z"] + 1, (3 + b % 3,), generator=generator
        )
        texts.append(
            torch.cat(
                [torch.tensor([ids[lang], ids[task], ids["<notimestamps>"]]), letters]
            )
        )
        ctcs.append(letters)
    pad = torch.nn.utils.rnn.pad_sequence
    return dict(
        speech=torch.randn(batch, samples, generator=generator),
        speech_lengths=torch.full((batch,), samples),
        text=pad(texts, batch_first=True, padding_value=-1),
        text_lengths=torch.tensor([len(t) for t in texts]),
        text_prev=torch.full((batch, 1), ids["<na>"]),
        text_prev_lengths=torch.ones(batch, dtype=torch.long),
        text_ctc=pad(ctcs, batch_first=True, padding_value=-1),
        text_ctc_lengths=torch.tensor([len(t) for t in ctcs]),
    )
