"""Distillation from a frozen dense teacher (``model_conf.distill_conf``)."""

import argparse

import pytest
import torch
import yaml
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.nets.distillation import distribution_kl

from helpers.model_factory import MODEL_CONF, build_s2t, make_batch, s2t_args


def write_teacher(tmp_path, seed: int = 1, **kwargs) -> dict:
    """A tiny dense S2T model on disk; returns the ``distill_conf`` naming it."""
    teacher = build_s2t(gated=False, seed=seed, **kwargs)
    config_file, model_file = tmp_path / "teacher.yaml", tmp_path / "teacher.pth"
    config_file.write_text(yaml.safe_dump(vars(s2t_args(gated=False, **kwargs))))
    torch.save(teacher.state_dict(), model_file)
    return {"teacher_config": str(config_file), "teacher_model_file": str(model_file)}


def student_with(distill_conf: dict, seed: int = 0) -> torch.nn.Module:
    return build_s2t(
        gated=True, seed=seed, model_conf={**MODEL_CONF, "distill_conf": distill_conf}
    )


def record_outputs(model: torch.nn.Module) -> dict:
    """The student's encoder output and decoder inputs/scores, seen by hooks
    (the first call only: the sparsity loss's FLOPs measurement runs them too)."""
    seen: dict = {}

    def on_encoder(_module, _args, output):
        seen.setdefault("encoder", output[0])

    def on_decoder(_module, args, output):
        seen.setdefault("decoder_in", args[2])
        seen.setdefault("decoder_lens", args[3])
        seen.setdefault("decoder_out", output[0])

    model.encoder.register_forward_hook(on_encoder)
    model.decoder.register_forward_hook(on_decoder)
    return seen


def reference_kl(student, teacher, valid, temperature) -> torch.Tensor:
    """``T^2 sum KL / B``, with ``torch.nn.functional.kl_div`` position by position."""
    total = torch.zeros(())
    for b, n in valid.nonzero().tolist():
        total = total + torch.nn.functional.kl_div(
            torch.log_softmax(student[b, n] / temperature, -1),
            torch.log_softmax(teacher[b, n] / temperature, -1),
            log_target=True,
            reduction="sum",
        )
    return total * temperature**2 / student.size(0)


def test_distribution_kl_is_the_masked_temperature_scaled_kl():
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(2, 2, 4, 7, generator=generator)
    valid = torch.tensor([[True, True, False, False], [True, True, True, True]])
    for temperature in (1.0, 2.5):
        assert distribution_kl(student, teacher, valid, temperature) == pytest.approx(
            float(reference_kl(student, teacher, valid, temperature)), rel=1e-5
        )
    assert float(distribution_kl(teacher, teacher, valid)) == pytest.approx(0, abs=1e-6)
    # masked positions do not count, whatever they hold
    changed = student.clone()
    changed[0, 3] += 100
    assert torch.equal(
        distribution_kl(changed, teacher, valid),
        distribution_kl(student, teacher, valid),
    )


def test_loss_terms_equal_their_definition_on_a_tiny_model(tmp_path):
    conf = {**write_teacher(tmp_path), "weight": 0.4, "temperature": 2.0}
    student = student_with(conf).eval()  # deterministic gates
    seen = record_outputs(student)
    batch = make_batch()
    loss, stats, _ = student(**batch)

    teacher = build_s2t(gated=False, seed=1)
    with torch.no_grad():
        teacher_out, teacher_lens = teacher.encode(
            batch["speech"], batch["speech_lengths"]
        )
        teacher_logits = teacher.decoder(
            teacher_out, teacher_lens, seen["decoder_in"], seen["decoder_lens"]
        )[0]
    # every decoder position up to the length: no previous text here (<na>)
    positions = torch.arange(seen["decoder_in"].size(1))
    valid = positions[None] < seen["decoder_lens"][:, None]
    expected_att = reference_kl(seen["decoder_out"], teacher_logits, valid, 2.0)
    frames = torch.arange(teacher_out.size(1))
    expected_ctc = reference_kl(
        student.ctc.log_softmax(seen["encoder"]),
        teacher.ctc.log_softmax(teacher_out),
        frames[None] < teacher_lens[:, None],
        2.0,
    )
    assert float(stats["loss_distill_att"]) == pytest.approx(
        float(expected_att.detach()), rel=1e-4
    )
    assert float(stats["loss_distill_ctc"]) == pytest.approx(
        float(expected_ctc.detach()), rel=1e-4
    )
    c = student.ctc_weight
    distill = (1 - c) * expected_att + c * expected_ctc
    assert float(stats["loss_distill"]) == pytest.approx(
        float(distill.detach()), rel=1e-4
    )
    task = c * stats["loss_ctc"] + (1 - c) * stats["loss_att"]
    expected_loss = 0.6 * task + 0.4 * distill + stats["loss_sparsity"]
    assert float(loss) == pytest.approx(float(expected_loss), rel=1e-4)


def test_previous_text_positions_are_not_distilled(tmp_path):
    """ESPnet ignores the decoder's positions over text_prev; so does distillation."""
    student = student_with(write_teacher(tmp_path)).eval()
    seen = record_outputs(student)
    batch = make_batch()
    letters = batch["text_ctc"][:, :2].clamp(min=0)
    batch["text_prev"], batch["text_prev_lengths"] = letters, torch.full((4,), 2)
    _, stats, _ = student(**batch)
    teacher = build_s2t(gated=False, seed=1)
    with torch.no_grad():
        out, lens = teacher.encode(batch["speech"], batch["speech_lengths"])
        teacher_logits = teacher.decoder(
            out, lens, seen["decoder_in"], seen["decoder_lens"]
        )[0]
    positions = torch.arange(seen["decoder_in"].size(1))[None]
    # <sop> p1 p2 <sos> ...: the first three positions predict previous text
    valid = (positions >= 3) & (positions < seen["decoder_lens"][:, None])
    expected = reference_kl(seen["decoder_out"], teacher_logits, valid, 1.0)
    assert float(stats["loss_distill_att"]) == pytest.approx(float(expected), rel=1e-4)


def test_teacher_with_the_students_weights_gives_zero_with_gates_open(tmp_path):
    teacher = build_s2t(gated=False, seed=0)
    config_file, model_file = tmp_path / "t.yaml", tmp_path / "t.pth"
    config_file.write_text(yaml.safe_dump(vars(s2t_args(gated=False))))
    torch.save(teacher.state_dict(), model_file)
    conf = {"teacher_config": str(config_file), "teacher_model_file": str(model_file)}
    student = build_s2t(
        gated=True, seed=5, model_conf={**MODEL_CONF, "distill_conf": conf}
    )
    student.load_state_dict(teacher.state_dict(), strict=False)
    student.eval()  # an untrained predictor starts with every gate open
    _, stats, _ = student(**make_batch())
    assert float(stats["loss_distill_att"]) == pytest.approx(0.0, abs=1e-5)
    assert float(stats["loss_distill_ctc"]) == pytest.approx(0.0, abs=1e-5)


def test_teacher_gets_no_gradient_and_is_not_in_the_checkpoint(tmp_path):
    student = student_with(write_teacher(tmp_path)).train()
    plain = build_s2t(gated=True, seed=0, model_conf=MODEL_CONF)
    loss, stats, _ = student(**make_batch())
    loss.backward()
    teacher = student.distillation_teacher.model(torch.device("cpu"))
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert not teacher.training
    assert set(student.state_dict()) == set(plain.state_dict())
    assert sum(p.numel() for p in student.parameters()) == sum(
        p.numel() for p in plain.parameters()
    )
    assert student.decoder.output_layer.weight.grad.abs().sum() > 0
    assert stats["loss_distill"] > 0


def test_teacher_is_not_loaded_to_build_or_decode(tmp_path):
    """Decoding builds the model from the same config; the teacher files may be gone."""
    conf = {
        "teacher_config": str(tmp_path / "gone.yaml"),
        "teacher_model_file": "x.pth",
    }
    student = student_with(conf).eval()
    student.set_inference_context("<deu>", "<asr>", gate_mode="dense")
    batch = make_batch()
    encoder_out, _ = student.encode(batch["speech"], batch["speech_lengths"])
    assert encoder_out.dim() == 3
    with pytest.raises(ValueError, match="gone.yaml"):
        student(**batch)  # training needs it, and says which file is missing


def test_bad_distill_conf_is_refused_by_key(tmp_path):
    conf = write_teacher(tmp_path)
    with pytest.raises(ValueError, match="unknown option.*teacher_weights"):
        student_with({**conf, "teacher_weights": "a.pth"})
    with pytest.raises(ValueError, match="distill_conf.weight"):
        student_with({**conf, "weight": 1.5})
    with pytest.raises(ValueError, match="distill_conf.temperature"):
        student_with({**conf, "temperature": 0})


def test_teacher_with_another_token_list_is_refused(tmp_path):
    config = vars(s2t_args(gated=False))
    config["token_list"] = config["token_list"][:-4] + config["token_list"][-3:]
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(config))
    teacher = S2TTask.build_model(argparse.Namespace(**config))
    torch.save(teacher.state_dict(), tmp_path / "other.pth")
    conf = {
        "teacher_config": str(tmp_path / "other.yaml"),
        "teacher_model_file": str(tmp_path / "other.pth"),
    }
    student = student_with(conf).train()
    with pytest.raises(ValueError, match=r"other.yaml has 40 tokens, the student 41"):
        student(**make_batch())
