"""The plugin's S2T task: ``--gate_lr`` parameter groups and the word_bounds input."""

import pytest
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.models.gating import GATE_PREFIX
from espnet_dynprune.tasks.s2t import DynPruneS2TTask

from helpers.model_factory import make_batch


def _args(*argv: str):
    return DynPruneS2TTask.get_parser().parse_args(
        ["--optim", "adam", "--optim_conf", "lr=0.001", *argv]
    )


def test_gate_lr_steps_the_gate_predictor_apart_from_the_backbone(gated_model):
    (optimizer,) = DynPruneS2TTask.build_optimizers(
        _args("--gate_lr", "0.05"), gated_model
    )
    named = dict(gated_model.named_parameters())
    before = {name: p.detach().clone() for name, p in named.items()}
    loss, _, _ = gated_model.train()(**make_batch())
    loss.backward()
    optimizer.step()
    # Adam's first step moves an element whose gradient is well above eps by lr.
    checked = set()
    for name, param in named.items():
        if param.grad is None or param.grad.abs().max() < 1e-5:
            continue
        element = param.grad.abs().argmax()
        step = (param.detach() - before[name]).flatten()[element].abs().item()
        lr = 0.05 if name.startswith(GATE_PREFIX) else 0.001
        assert step == pytest.approx(lr, rel=0.01), name
        checked.add(name.startswith(GATE_PREFIX))
    assert checked == {True, False}


def test_without_gate_lr_one_group_as_espnet_builds_it(gated_model):
    (optimizer,) = DynPruneS2TTask.build_optimizers(_args(), gated_model)
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["lr"] == 0.001


def test_gate_lr_on_a_model_without_gates_is_refused(stock_model):
    with pytest.raises(ValueError, match="gating"):
        DynPruneS2TTask.build_optimizers(_args("--gate_lr", "0.05"), stock_model)


@pytest.mark.parametrize("bad", ["0", "-0.1"])
def test_gate_lr_must_be_positive(gated_model, bad):
    with pytest.raises(ValueError, match="--gate_lr must be positive"):
        DynPruneS2TTask.build_optimizers(_args("--gate_lr", bad), gated_model)


def test_word_bounds_is_an_optional_training_input_only():
    assert "word_bounds" in DynPruneS2TTask.optional_data_names(train=True)
    assert "word_bounds" not in DynPruneS2TTask.optional_data_names(inference=True)
    assert "word_bounds" not in S2TTask.optional_data_names(train=True)


def test_gate_lr_with_a_scheduler_that_sets_absolute_lrs_is_refused(gated_model):
    args = _args("--gate_lr", "0.05", "--scheduler", "piecewiselinearwarmuplr")
    with pytest.raises(ValueError, match="piecewiselinearwarmuplr"):
        DynPruneS2TTask.build_optimizers(args, gated_model)
