"""The one inference state: gate mode and context, validated when made."""

import pytest

from espnet_dynprune.models.inference_context import GateMode, InferenceContext


def test_gate_mode_parses_values_and_members():
    assert GateMode.parse("dense") is GateMode.DENSE
    assert GateMode.parse(GateMode.PREDICTED) is GateMode.PREDICTED
    assert GateMode.choices() == ["predicted", "dense"]


def test_unknown_gate_mode_names_the_choices():
    with pytest.raises(ValueError, match=r"gate_mode must be one of .*'sparse'"):
        InferenceContext("sparse", "<deu>", "<asr>")


def test_context_is_frozen_and_keyed_by_symbols():
    context = InferenceContext("predicted", "<deu>", "<st_eng>")
    assert context.gate_mode is GateMode.PREDICTED
    assert context.symbols == ("<deu>", "<st_eng>")
    with pytest.raises(AttributeError):
        context.lang_sym = "<fra>"


def test_model_holds_one_context_and_reports_it(gated_model):
    gated_model.set_inference_context("<deu>", "<st_eng>", "dense")
    assert gated_model.inference_context == InferenceContext(
        GateMode.DENSE, "<deu>", "<st_eng>"
    )
    assert gated_model.last_gates is None
    with pytest.raises(ValueError, match="gate_mode must be one of"):
        gated_model.set_inference_context(gate_mode="half")
    assert gated_model.inference_context.gate_mode is GateMode.DENSE  # unchanged
