"""The dynprune S2T model: ESPnet glue, stock checkpoints, training, inference."""

import pytest
import torch
from espnet2.tasks.asr import ASRTask
from espnet2.torch_utils.load_pretrained_model import load_pretrained_model

from espnet_dynprune.models.dynprune_model import ESPnetDynPruneS2TModel
from espnet_dynprune.models.gating import describe_gates

from helpers.model_factory import TOKENS, build_s2t, make_batch, s2t_args


def test_stock_checkpoint_loads_with_only_gate_keys_new(tmp_path, stock_model):
    path = tmp_path / "stock.pth"
    torch.save(stock_model.state_dict(), path)
    gated = build_s2t(gated=True, seed=3)
    load_pretrained_model(str(path), gated, ignore_init_mismatch=False)  # --init_param
    new_keys = set(gated.state_dict()) - set(stock_model.state_dict())
    assert new_keys and all(k.startswith("gating.") for k in new_keys)
    for key, value in stock_model.state_dict().items():
        assert torch.equal(gated.state_dict()[key], value), key


def test_forward_reports_sparsity_stats_and_trains_predictor(gated_model):
    gated_model.train()
    loss, stats, weight = gated_model(**make_batch())
    for key in (
        "loss_sparsity",
        "sparsity_enc",
        "sparsity_dec",
        "sparsity_flops",
        "gate_temperature",
    ):
        assert key in stats, key
    assert stats["loss"] == pytest.approx(float(loss.detach()))
    loss.backward()
    assert gated_model.gating.predictor.mlp[-1].weight.grad.abs().sum() > 0
    assert int(weight) == 4


def test_flops_weighted_sparsity_counts_module_cost(gated_model):
    enc, dec = gated_model.gating.module_flops()
    assert (
        enc.shape == (4,) and dec.shape == (3,) and (enc > 0).all() and (dec > 0).all()
    )
    # self-attention at T=250 frames costs more than the macaron FFN at d=32
    assert enc[1] > enc[0]


def test_decoder_target_is_reached_by_training():
    """Gate-only training moves measured (inference) decoder sparsity to 0.5."""
    model = build_s2t(
        gated=True,
        decoder_conf={"num_blocks": 4},
        model_conf={
            "sparsity_conf": {"decoder_target": 0.5, "weight": 10.0},
            "gate_predictor_conf": {
                "temperature_anneal_steps": 70,
                "init_open_logit": 1.0,
            },
        },
    ).train()
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("gating."))  # frozen backbone
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=0.01)
    for step in range(100):
        loss, _, _ = model(**make_batch(8, seed=step, samples=3200))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        _, stats, _ = model(**make_batch(30, seed=999, samples=3200))
    assert abs(float(stats["sparsity_dec"]) - 0.5) <= 0.05, stats["sparsity_dec"]


def test_dense_mode_encode_equals_stock(
    stock_model, gated_model, speech, speech_lengths
):
    gated_model.set_inference_context(gate_mode="dense")
    with torch.no_grad():
        got, _ = gated_model.encode(speech, speech_lengths)
        want, _ = stock_model.encode(speech, speech_lengths)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_predicted_mode_needs_trained_gates(gated_model):
    with pytest.raises(ValueError, match="no trained weights"):
        gated_model.set_inference_context("<deu>", "<st_eng>")


def test_predicted_mode_applies_gates_at_inference(gated_model, speech, speech_lengths):
    gated_model.gating.predictor.num_updates.fill_(1)
    last = gated_model.gating.predictor.mlp[-1]
    with torch.no_grad():
        last.bias.view(-1, 2)[:, 1] = -5.0  # every gate closed
    gated_model.set_inference_context("<deu>", "<st_eng>")
    with pytest.raises(ValueError, match="unknown lang symbol '<xyz>'.*<deu>"):
        gated_model.set_inference_context("<xyz>", "<asr>")
    with torch.no_grad():
        gated_model.encode(speech[:1], speech_lengths[:1])
    described = describe_gates(gated_model.last_gates)
    assert described == {"encoder": "0000 0000", "decoder": "000 000"}


def test_encode_without_context_is_an_error(gated_model, speech, speech_lengths):
    with pytest.raises(RuntimeError, match="set_inference_context"):
        gated_model.encode(speech, speech_lengths)


def test_bad_text_prefix_is_an_error(gated_model):
    batch = make_batch(2)
    batch["text"][1, 0] = TOKENS.index("q")
    with pytest.raises(ValueError, match=r"position \[1\]"):
        gated_model(**batch)


def test_asr_task_model_with_acoustic_predictor():
    args = s2t_args(
        gated=True,
        model_conf={
            "gate_predictor_conf": {"context": [], "acoustic": True},
            "sparsity_conf": {"encoder_target": 0.2, "decoder_target": 0.4},
        },
    )
    args.model_conf.update(report_cer=False, report_wer=False)
    for key in ("preencoder", "postencoder"):
        setattr(args, key, None)
    args.specaug = None
    model = ASRTask.build_model(args).train()
    batch = make_batch(2)
    loss, stats, _ = model(
        speech=batch["speech"],
        speech_lengths=batch["speech_lengths"],
        text=batch["text_ctc"],
        text_lengths=batch["text_ctc_lengths"],
    )
    loss.backward()
    assert "sparsity_enc" in stats
    assert model.gating.predictor.acoustic_proj.weight.grad is not None


def test_asr_task_rejects_context_predictor():
    args = s2t_args(gated=True)
    with pytest.raises(ValueError, match="acoustic: true"):
        ASRTask.build_model(args)


def test_context_only_gates_are_computed_once_per_context(gated_model, speech):
    gated_model.gating.predictor.num_updates.fill_(1)
    calls = []
    hook = gated_model.gating.predictor.register_forward_hook(
        lambda *_: calls.append(1)
    )
    try:
        with torch.no_grad():
            for _ in range(3):
                gated_model.set_inference_context("<deu>", "<st_eng>")
                gated_model.encode(speech[:1], torch.tensor([8000]))
            gated_model.set_inference_context("<fra>", "<asr>")
            gated_model.encode(speech[:1], torch.tensor([8000]))
    finally:
        hook.remove()
    assert len(calls) == 2  # one prediction per (language, task)


def test_model_takes_espnets_positional_order(gated_model):
    g = gated_model
    model = ESPnetDynPruneS2TModel(
        g.vocab_size,
        g.token_list,
        g.frontend,
        g.specaug,
        g.normalize,
        g.preencoder,
        g.encoder,
        g.postencoder,
        g.decoder,
        g.ctc,
        gate_predictor_conf={"parts": ["decoder"]},
        sparsity_conf={"decoder_target": 0.5},
    )
    assert model.vocab_size == g.vocab_size
    assert model.gating.config.parts == ("decoder",)


def test_encoder_without_feed_forwards_trains_and_decodes_with_gates():
    model = build_s2t(
        gated=True,
        encoder_conf={"use_ffn": False, "macaron_ffn": False},
        model_conf={
            "gate_predictor_conf": {"parts": ["encoder", "decoder"]},
            "sparsity_conf": {"encoder_target": 0.5, "decoder_target": 0.5},
        },
    )
    assert model.gating.encoder_shape == (2, 2)  # self-attention and cgMLP only
    model.train()
    loss, stats, _ = model(**make_batch())
    loss.backward()
    assert torch.isfinite(loss) and "sparsity_enc" in stats
    model.eval()
    model.gating.predictor.num_updates.fill_(1)
    model.set_inference_context("<deu>", "<st_eng>")
    batch = make_batch(batch=2)
    with torch.no_grad():
        encoded, _ = model.encode(batch["speech"], batch["speech_lengths"])
    assert model.last_gates.encoder.shape == (1, 2, 2)
    assert encoded.shape[0] == 2
