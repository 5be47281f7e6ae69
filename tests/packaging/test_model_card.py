"""The Hub model card of a packed gated model, from the recipe's scores."""

import pytest
import yaml

from espnet_dynprune.eval.scoring import DecodeScore
from espnet_dynprune.packaging.model_card import (
    model_languages,
    render_model_card,
    select_results,
)

GATED = {"encoder": 0.19, "decoder": 0.33, "flops": 0.27}


def _dense(bleu: float = 12.3, wer: float = 45.6) -> list[DecodeScore]:
    return [
        DecodeScore("test_deu_st_eng", "st_eng", 4, "BLEU", bleu, 2.0),
        DecodeScore("test_fra_asr", "asr", 4, "WER", wer, 4.0),
    ]


def _gated() -> list[DecodeScore]:
    return [
        DecodeScore(
            "test_deu_st_eng",
            "st_eng",
            4,
            "BLEU",
            11.1,
            1.5,
            sparsity=GATED,
            dense_seconds=2.0,
        ),
        DecodeScore(
            "test_fra_asr",
            "asr",
            4,
            "WER",
            47.8,
            1.0,
            sparsity={"decoder": 0.5},
            dense_seconds=4.0,
        ),
    ]


def _results() -> dict[str, list[DecodeScore]]:
    return {"m/decode_dense": _dense(), "m/decode_predicted": _gated()}


def _front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_select_results_prefers_the_models_own_dense_decoding():
    results = {
        "first/decode_dense": _dense(bleu=1.0),
        "first/decode_predicted": _gated(),
        "m/decode_dense": _dense(bleu=2.0),
        "m/decode_predicted": _gated(),
    }
    gated, dense = select_results(results, "m")
    assert gated is results["m/decode_predicted"]
    assert dense is results["m/decode_dense"]
    del results["m/decode_dense"]  # the recipe scores the dense baseline once
    assert select_results(results, "m")[1] is results["first/decode_dense"]
    assert select_results({"m/decode_predicted": _gated()}, "m")[1] == []


def test_select_results_names_a_model_that_was_not_scored():
    with pytest.raises(ValueError, match="no 'other/decode_predicted'.*stage 7"):
        select_results(_results(), "other")


def test_model_languages_are_sorted_and_ignore_other_set_names():
    scores = _gated() + [
        DecodeScore("test_eng_asr", "asr", 1, "WER", 1.0, 1.0),
        DecodeScore("dev_ita_asr", "asr", 1, "WER", 1.0, 1.0),
        DecodeScore("test_spanish", "asr", 1, "WER", 1.0, 1.0),
    ]
    assert model_languages(scores) == ["deu", "eng", "fra"]


def test_card_front_matter_and_loading_example():
    card = render_model_card(
        "m", "owner/repo", "cc-by-4.0", "9.9.9", _results(), ["gates_m.png"]
    )
    meta = _front_matter(card)
    assert meta["library_name"] == "espnet"
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["deu", "fra"]
    assert meta["pipeline_tag"] == "automatic-speech-recognition"
    for tag in (
        "espnet",
        "espnet_dynprune",
        "automatic-speech-recognition",
        "speech-translation",
        "dynamic-pruning",
    ):
        assert tag in meta["tags"], tag
    assert "# m: ESPnet S2T model with context-aware dynamic pruning" in card
    assert "espnet_dynprune/) 9.9.9." in card
    # the example decodes in the context of the first scored test set
    assert '"owner/repo", lang_sym="<deu>", task_sym="<st_eng>"' in card
    assert "![gates](gates_m.png)" in card


def test_card_tables_come_from_the_given_scores():
    card = render_model_card("m", "owner/repo", "mit", "1.0", _results())
    quality = card.split("## Results")[1].split("## Speed")[0]
    assert "| test_deu_st_eng | BLEU | 12.3 | 11.1 |" in quality
    assert "| test_fra_asr | WER | 45.6 | 47.8 |" in quality
    speed = card.split("## Speed and sparsity")[1].split("## Files")[0]
    assert "| test_deu_st_eng | 0.19 | 0.33 | 0.27 | 2.0 | 1.5 | -25.0% |" in speed
    assert "| test_fra_asr | - | 0.50 | - | 4.0 | 1.0 | -75.0% |" in speed


def test_card_without_a_dense_decoding_leaves_its_column_empty():
    card = render_model_card(
        "m", "owner/repo", "mit", "1.0", {"m/decode_predicted": _gated()}
    )
    assert "| test_fra_asr | WER | - | 47.8 |" in card


def test_card_without_results_has_no_tables():
    card = render_model_card("m", "owner/repo", "mit", "1.0")
    meta = _front_matter(card)
    assert "language" not in meta
    assert "automatic-speech-recognition" in meta["tags"]
    assert "speech-translation" not in meta["tags"]
    assert '"owner/repo", lang_sym="<eng>", task_sym="<asr>"' in card
    assert "## Results" not in card and "## Speed and sparsity" not in card
    assert "## Gates" not in card


def test_card_of_a_model_not_in_the_results_is_refused():
    with pytest.raises(ValueError, match="no 'other/decode_predicted'"):
        render_model_card("other", "owner/repo", "mit", "1.0", _results())
