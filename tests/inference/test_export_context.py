"""Per-context export: removed weights, ESPnet loading, same outputs as gated."""

import json

import pytest
import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.bin import export_context as cli
from espnet_dynprune.inference.export_context import (
    CONFIG_NAME,
    CONTEXT_NAME,
    MODEL_NAME,
    export_context,
    export_parameter_bytes,
)
from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.nets.gate_contract import GateMask

from helpers.model_factory import (
    MODEL_CONF,
    build_s2t,
    write_gated_model,
)

CONTEXT = ("<deu>", "<st_eng>")


@pytest.fixture()
def gated_files(tmp_path):
    return write_gated_model(tmp_path, MODEL_CONF)


@pytest.fixture()
def exported(tmp_path, gated_files):
    out = tmp_path / "export"
    summary = export_context(*gated_files, *CONTEXT, out)
    return out, summary


def test_export_drops_closed_modules_and_gating(gated_files, exported):
    out, summary = exported
    state = torch.load(out / MODEL_NAME, weights_only=True)
    assert not [k for k in state if k.startswith("gating.")]
    for prefix in (
        "encoder.encoders.0.attn.",
        "encoder.encoders.0.norm_mha.",
        "encoder.encoders.1.cgmlp.",
        "encoder.encoders.1.feed_forward.",
        "decoder.decoders.0.src_attn.",
        "decoder.decoders.1.self_attn.",
        "decoder.decoders.1.feed_forward.",
    ):
        assert not [k for k in state if k.startswith(prefix)], prefix
        assert prefix.rstrip(".") in summary["dropped_weights"]
    assert "encoder.encoders.1.attn.linear_q.weight" in state
    assert summary["gates"] == {"encoder": "1011 1100", "decoder": "101 010"}
    assert summary["removed_modules"]["decoder"] == [
        [0, "src_attn"],
        [1, "self_attn"],
        [1, "ffn"],
    ]
    assert json.loads((out / CONTEXT_NAME).read_text()) == summary
    sizes = summary["file_bytes"]
    assert sizes["export"] < sizes["source"]
    params = summary["parameter_bytes"]
    assert params["export"] < params["source_backbone"]
    gated = build_s2t(gated=True, model_conf=MODEL_CONF)
    gated.load_state_dict(torch.load(gated_files[1], weights_only=True))
    gates = gated.context_gates(*CONTEXT)
    assert export_parameter_bytes(gated, gates) == params["export"]
    assert export_parameter_bytes(gated, GateMask()) == params["source_backbone"]


def test_export_loads_through_espnet_without_gating(exported):
    out, _ = exported
    model, args = S2TTask.build_model_from_file(
        out / CONFIG_NAME, out / MODEL_NAME, "cpu"
    )
    assert args.model == "espnet" and not hasattr(model, "gating")
    assert set(model.state_dict()) == set(
        torch.load(out / MODEL_NAME, weights_only=True)
    )
    assert model.encoder.encoders[0].attn is None
    assert model.decoder.decoders[1].feed_forward is None
    with pytest.raises(ValueError, match="pruned_modules"):
        model.decoder.set_gates(torch.ones(1, 2, 3))


def test_export_encodes_and_decodes_like_the_gated_model(gated_files, exported):
    out, _ = exported
    speech = torch.randn(8000, generator=torch.Generator().manual_seed(0))
    options = dict(lang_sym=CONTEXT[0], task_sym=CONTEXT[1], beam_size=3, nbest=3)
    gated = Speech2Text(*gated_files, **options)
    pruned = ESPnetSpeech2Text(out / CONFIG_NAME, out / MODEL_NAME, **options)
    lengths = torch.tensor([8000])
    with torch.no_grad():
        want, _ = gated.s2t_model.encode(speech[None], lengths)
        got, _ = pruned.s2t_model.encode(speech[None], lengths)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert gated.active_modules() == {"encoder": "1011 1100", "decoder": "101 010"}
    hyps = {}
    for name, s2t in (("gated", gated), ("export", pruned)):
        results = s2t(speech)
        hyps[name] = [(r[2], float(r[4].score)) for r in results]
    assert len(hyps["gated"]) == 3 and len(hyps["gated"][0][0]) > 3
    assert [t for t, _ in hyps["export"]] == [t for t, _ in hyps["gated"]]
    for (_, a), (_, b) in zip(hyps["export"], hyps["gated"], strict=True):
        assert abs(a - b) < 1e-4


def test_acoustic_predictor_is_refused(tmp_path):
    files = write_gated_model(
        tmp_path,
        {**MODEL_CONF, "gate_predictor_conf": {"acoustic": True}},
    )
    with pytest.raises(ValueError, match="acoustic"):
        export_context(*files, *CONTEXT, tmp_path / "export")


@pytest.mark.parametrize(
    "context, symbol",
    [(("<xyz>", "<asr>"), "'<xyz>'"), (("<deu>", "<st_xyz>"), "'<st_xyz>'")],
)
def test_unknown_context_symbol_is_refused(tmp_path, gated_files, context, symbol):
    with pytest.raises(ValueError, match=symbol):
        export_context(*gated_files, *context, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_command_line_writes_the_export(tmp_path, gated_files, monkeypatch, capsys):
    out = tmp_path / "cli_export"
    monkeypatch.setattr(
        "sys.argv",
        [
            "export_context",
            f"--s2t_train_config={gated_files[0]}",
            f"--s2t_model_file={gated_files[1]}",
            f"--lang_sym={CONTEXT[0]}",
            f"--task_sym={CONTEXT[1]}",
            f"--out_dir={out}",
        ],
    )
    cli.main()
    assert json.loads(capsys.readouterr().out)["lang_sym"] == CONTEXT[0]
    assert {p.name for p in out.iterdir()} == {CONFIG_NAME, MODEL_NAME, CONTEXT_NAME}


def test_export_refuses_another_context(exported):
    out, _ = exported
    pruned = ESPnetSpeech2Text(
        out / CONFIG_NAME, out / MODEL_NAME, lang_sym="<eng>", task_sym="<asr>"
    )
    speech = torch.randn(8000, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="per-context export for <deu> <st_eng>"):
        pruned(speech)
    with pytest.raises(ValueError, match="per-context export"):
        pruned(speech, lang_sym="<deu>", task_sym="<asr>")
    assert pruned(speech, lang_sym=CONTEXT[0], task_sym=CONTEXT[1])


def test_export_of_a_distilled_model_builds_a_stock_model(tmp_path):
    """Keys of the gated model alone (distillation, gate mode) leave the config."""
    model_conf = {
        **MODEL_CONF,
        "inference_gate_mode": "dense",
        "distill_conf": {
            "teacher_config": str(tmp_path / "teacher" / "config.yaml"),
            "teacher_model_file": str(tmp_path / "teacher" / "valid.acc.ave.pth"),
        },
    }
    gated_files = write_gated_model(tmp_path, model_conf)
    export_context(*gated_files, *CONTEXT, tmp_path / "export")
    s2t = ESPnetSpeech2Text(
        tmp_path / "export" / CONFIG_NAME, tmp_path / "export" / MODEL_NAME
    )
    assert type(s2t.s2t_model).__name__ == "ESPnetS2TModel"  # built and loaded
