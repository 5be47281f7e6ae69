"""OWSM -> gated conversion: configs, round trip, gate-only training state."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from espnet2.main_funcs.pack_funcs import pack
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.eval.benchmark import token_list
from espnet_dynprune.io.checkpoint import load_state_dict_safely
from espnet_dynprune.nets.gate_config import (
    GatePredictorConfig,
    SparsityConfig,
    from_dict,
)
from espnet_dynprune.packaging.pretrained import RUN_KEYS, resolve_source

from helpers.model_factory import TOKENS
from helpers.owsm_factory import CONF_DIR, owsm_stock_config, save_espnet_model

pytestmark = pytest.mark.slow

TOLERANCE = 1e-5
# Tiny decoder/encoder widths are not the point of the small-shape test; the
# layer counts, heads and units are those of OWSM v3.1 small.
SMALL_VOCAB = list(TOKENS)
PUBLISHED_PARAMS = {"base": 101e6, "small": 367e6, "medium": 1.02e9}


def convert(source: str, out: Path, *extra: str) -> Path:
    """Run the conversion command; return its output directory."""
    cmd = [sys.executable, "-m", "espnet_dynprune.bin.convert_owsm", source, str(out)]
    result = subprocess.run([*cmd, *extra], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """OWSM v3.1 base shape with a 50k token list: Hub-layout dir, converted."""
    root = tmp_path_factory.mktemp("owsm_base")
    saved = save_espnet_model(
        root / "hub", owsm_stock_config("base"), token_list(50000)
    )
    return saved, convert(str(saved.root), root / "converted")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """OWSM v3.1 small layers/heads/units, small vocabulary, as a packed zip."""
    root = tmp_path_factory.mktemp("owsm_small")
    saved = save_espnet_model(
        root / "hub", owsm_stock_config("small"), SMALL_VOCAB, seed=1
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(saved.root)  # pack stores paths relative to the cwd
        pack(
            files={"s2t_model_file": saved.model_file},
            yaml_files={"s2t_train_config": saved.config},
            option=[saved.bpe_model, saved.stats_file],
            outpath=str(root / "model.zip"),
        )
    return saved, convert(
        str(root / "model.zip"), root / "converted", "--decoder_target", "0.3"
    )


def _stock(saved, monkeypatch) -> torch.nn.Module:
    """The source model through ESPnet's own loader (paths relative to its root)."""
    monkeypatch.chdir(saved.root)
    model, _ = S2TTask.build_model_from_file(saved.config, saved.model_file, "cpu")
    return model.eval()


def _gated(out: Path) -> torch.nn.Module:
    model, _ = S2TTask.build_model_from_file(
        out / "config.yaml", out / "init.pth", "cpu"
    )
    model.eval().set_inference_context(gate_mode="dense")
    return model


def _assert_dense_equals_stock(stock, gated, lang: str, task: str) -> None:
    generator = torch.Generator().manual_seed(0)
    speech = torch.randn(2, 24000, generator=generator)
    lengths = torch.tensor([24000, 19000])
    with torch.no_grad():
        enc_s, lens_s = stock.encode(speech, lengths)
        enc_g, lens_g = gated.encode(speech, lengths)
        assert torch.equal(lens_s, lens_g)
        assert (enc_s - enc_g).abs().max() < TOLERANCE
        ids = {t: i for i, t in enumerate(stock.token_list)}
        prefix = [stock.sos, ids[lang], ids[task], ids["<notimestamps>"]]
        ys = torch.tensor([prefix + [20, 21, 22], prefix + [23, 24, 25]])
        ys_lens = torch.tensor([7, 6])
        dec_s, _ = stock.decoder(enc_s, lens_s, ys, ys_lens)
        dec_g, _ = gated.decoder(enc_g, lens_g, ys, ys_lens)
        assert (dec_s.log_softmax(-1) - dec_g.log_softmax(-1)).abs().max() < TOLERANCE
        ctc_s = stock.ctc.log_softmax(enc_s)
        assert (ctc_s - gated.ctc.log_softmax(enc_g)).abs().max() < TOLERANCE


def test_conf_files_have_the_published_sizes():
    """conf/owsm_v3.1/*.yaml build models of 101M / 367M / 1.02B parameters."""
    for size, published in PUBLISHED_PARAMS.items():
        config = owsm_stock_config(size, normalize=None, normalize_conf={})
        args = dict(
            token_list=token_list(50000),
            input_size=None,
            preencoder=None,
            postencoder=None,
            ctc_conf={},
            init=None,
        )
        with torch.device("meta"):
            model = S2TTask.build_model(argparse.Namespace(**{**args, **config}))
        count = sum(p.numel() for p in model.parameters())
        assert abs(count - published) / published < 0.01, (size, count)
        gated = yaml.safe_load((CONF_DIR / f"{size}.yaml").read_text())
        model_conf = gated["model_conf"]
        from_dict(GatePredictorConfig, model_conf["gate_predictor_conf"], size)
        from_dict(SparsityConfig, model_conf["sparsity_conf"], size)
        assert gated["encoder"] == "gated_e_branchformer"
        assert gated["preprocessor_conf"]["last_time_symbol"] == "<30.00>"


def test_base_shape_round_trip(base, monkeypatch):
    saved, out = base
    _assert_dense_equals_stock(
        _stock(saved, monkeypatch), _gated(out), "<deu>", "<st_eng>"
    )


def test_small_shape_round_trip_from_packed_zip(small, monkeypatch):
    saved, out = small
    gated = _gated(out)
    assert gated.gating.sparsity_config.decoder_target == pytest.approx(0.3)
    _assert_dense_equals_stock(_stock(saved, monkeypatch), gated, "<fra>", "<asr>")


def test_checkpoint_adds_only_gate_weights(base):
    saved, out = base
    source = load_state_dict_safely(saved.root / saved.model_file)
    converted = load_state_dict_safely(out / "init.pth")
    new = set(converted) - set(source)
    assert new and all(key.startswith("gating.") for key in new)
    assert set(source) <= set(converted)
    for key, value in source.items():
        assert torch.equal(converted[key], value), key


def test_assets_are_carried_over(base):
    saved, out = base
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert Path(config["token_list"]) == (out / "tokens.txt").resolve()
    assert (out / "tokens.txt").read_text().split("\n")[:-1] == token_list(50000)
    for key, copy, original in (
        ("bpemodel", config["bpemodel"], saved.bpe_model),
        ("stats_file", config["normalize_conf"]["stats_file"], saved.stats_file),
    ):
        assert Path(copy).parent == out.resolve(), key
        assert Path(copy).read_bytes() == (saved.root / original).read_bytes(), key
    assert not set(RUN_KEYS) & set(config)
    assert config["model"] == "dynprune" and config["decoder"] == "gated_transformer"
    stock = yaml.safe_load((out / "stock_config.yaml").read_text())
    assert stock["model"] == "espnet"
    assert stock["encoder_conf"] == config["encoder_conf"]


def _s2t_batch(token_list_: list, batch: int = 2) -> dict:
    ids = {t: i for i, t in enumerate(token_list_)}
    text = torch.tensor(
        [[ids["<deu>"], ids["<st_eng>"], ids["<notimestamps>"], 20, 21, 22]] * batch
    )
    generator = torch.Generator().manual_seed(1)
    return dict(
        speech=torch.randn(batch, 16000, generator=generator),
        speech_lengths=torch.full((batch,), 16000),
        text=text,
        text_lengths=torch.full((batch,), text.size(1)),
        text_prev=torch.full((batch, 1), ids["<na>"]),
        text_prev_lengths=torch.ones(batch, dtype=torch.long),
        text_ctc=text[:, 3:],
        text_ctc_lengths=torch.full((batch,), 3),
    )


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def test_gate_only_training_keeps_no_state_for_the_backbone(base):
    """ESPnet's freeze rule + optimizer builder: only the gates are trained."""
    _, out = base
    config = yaml.safe_load((out / "config.yaml").read_text())
    model = S2TTask.build_model(argparse.Namespace(**config))
    model.load_state_dict(load_state_dict_safely(out / "init.pth"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    frozen = ("frontend", "normalize", "encoder", "decoder", "ctc")
    for name, param in model.named_parameters():  # as ESPnet's --freeze_param
        if any(name.startswith(prefix + ".") for prefix in frozen):
            param.requires_grad = False
    args = argparse.Namespace(
        optim="adamw",
        optim_conf={"lr": 0.01},
        sharded_ddp=False,
        exclude_weight_decay=False,
    )
    (optimizer,) = S2TTask.build_optimizers(args, model)
    model.train()
    for _ in range(2):
        loss, _, _ = model(**_s2t_batch(model.token_list))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    trainable = [p for p in model.parameters() if p.requires_grad]
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.startswith("gating.") for n in names)
    for name, param in model.named_parameters():
        assert (param.grad is None) == (name not in names), name
    state = [t for s in optimizer.state.values() for t in s.values() if t.dim() > 0]
    assert _bytes(state) == 2 * _bytes(trainable)  # Adam's two moments, gates only
    after = model.state_dict()
    for key, value in before.items():
        if not key.startswith("gating."):  # global_mvn casts its stats to float32
            assert torch.equal(after[key], value.to(after[key].dtype)), key
    assert any(
        not torch.equal(after[k], v)
        for k, v in before.items()
        if k.startswith("gating.predictor.mlp")
    )
    weights = _bytes(model.parameters())
    grads = _bytes(p.grad for p in model.parameters() if p.grad is not None)
    # Training state (weights + gradients + optimizer) against inference (weights):
    assert (weights + grads + _bytes(state)) / weights < 1.02


def test_the_source_model_is_the_distillation_teacher(base):
    """Stage 5 after a conversion: teacher = stock_config.yaml + init.pth."""
    _, out = base
    config = yaml.safe_load((out / "config.yaml").read_text())
    config["model_conf"]["distill_conf"] = {
        "teacher_config": str(out / "stock_config.yaml"),
        "teacher_model_file": str(out / "init.pth"),
    }
    model = S2TTask.build_model(argparse.Namespace(**config))
    model.load_state_dict(load_state_dict_safely(out / "init.pth"))
    model.eval()  # gates start open: the student is still the source model
    _, stats, _ = model(**_s2t_batch(model.token_list))
    assert float(stats["loss_distill_att"]) == pytest.approx(0.0, abs=1e-4)
    assert float(stats["loss_distill_ctc"]) == pytest.approx(0.0, abs=1e-4)
    teacher = model.distillation_teacher.model(torch.device("cpu"))
    assert type(teacher).__name__ == "ESPnetS2TModel"  # the stock class


def test_config_source_needs_weights(base):
    saved, _ = base
    with pytest.raises(ValueError, match="needs --model_file"):
        resolve_source(saved.root / saved.config)
    with pytest.raises(ValueError, match="not a Hub repository id"):
        resolve_source("no/such/dir/x.yaml")


def test_mismatched_weights_name_the_file(small, base, tmp_path):
    saved, _ = base  # the cheaper model to build
    other, _ = small
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "espnet_dynprune.bin.convert_owsm",
            str(saved.root / saved.config),
            str(tmp_path / "out"),
            "--model_file",
            str(other.root / other.model_file),
        ],
        capture_output=True,
        text=True,
        cwd=saved.root,
        check=False,
    )
    assert result.returncode != 0
    assert f"{other.model_file}: does not match" in result.stderr


def test_hub_id_goes_through_snapshot_download(base, monkeypatch):
    """A repository id is fetched with huggingface_hub (stubbed: no network here)."""
    from espnet_dynprune.io import locate

    saved, _ = base
    calls = []

    def snapshot_download(repo_id, revision=None, **kwargs):
        calls.append((repo_id, revision))
        return str(saved.root)

    monkeypatch.setattr(locate, "snapshot_download", snapshot_download)
    found = resolve_source("espnet/owsm_v3.1_ebf_base", revision="main")
    assert calls == [("espnet/owsm_v3.1_ebf_base", "main")]
    assert found.model_file == saved.root / saved.model_file
    assert found.config == saved.root / saved.config
