"""Context vocabulary: language and task symbols from the S2T token-list layout."""

import re

import pytest
import torch
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.data.languages import LANGUAGES, task_pairs
from espnet_dynprune.data.token_list import build_token_list, time_symbols
from espnet_dynprune.eval.benchmark import token_list as benchmark_token_list
from espnet_dynprune.nets.context_vocabulary import ContextVocabulary

from helpers.model_factory import MODEL_CONF, TOKENS, s2t_args

TAIL = ["<sos>", "<eos>", "<sop>"]
PIECES = list("abcdefghijklmnopqrstuvwxyz")


def _s2t_tokens(head: list[str], languages: list[str], tasks: list[str]) -> list[str]:
    """``<blank> <unk> head languages tasks <notimestamps> times pieces tail``."""
    times = time_symbols(1.0, 0.5)
    return [
        "<blank>",
        "<unk>",
        *head,
        *languages,
        *tasks,
        "<notimestamps>",
        *times,
        *PIECES,
        *TAIL,
    ]


# ESPnet's mini_an4 s2t1 recipe (local/generate_nlsyms.py): <na> <nospeech>, then
# the languages, <asr>, <st_*>, <notimestamps> and the time symbols.
MINI_AN4 = _s2t_tokens(["<na>", "<nospeech>"], ["<en>"], ["<asr>", "<st_en>"])
# OWSM v1 (Whisper's language codes, two or three letters) and v3 (ISO 639-3).
OWSM_V1_LANGS = ["<en>", "<zh>", "<de>", "<haw>", "<yue>", "<zh-cn>"]
OWSM_V1 = _s2t_tokens(
    ["<na>", "<nospeech>"],
    OWSM_V1_LANGS,
    ["<asr>", *(f"<st_{s[1:-1]}>" for s in OWSM_V1_LANGS)],
)
OWSM_V3_LANGS = ["<abk>", "<afr>", "<deu>", "<eng>", "<zho>", "<zul>"]
OWSM_V3 = _s2t_tokens(
    ["<na>", "<nospeech>"],
    OWSM_V3_LANGS,
    ["<asr>", "<st_ara>", "<st_deu>", "<st_eng>", "<st_zho>"],
)
# A translation-only corpus (prepare_europarl_st --tasks st): no <asr> at all.
ST_ONLY = _s2t_tokens(["<na>", "<nolang>"], ["<deu>", "<fra>"], ["<st_eng>"])
WORD_ALIGNED = (  # tests/models/test_word_aligned_model.py
    ["<blank>", "<unk>", "<na>", "<nolang>", "<deu>", "<asr>", "<st_eng>"]
    + ["<notimestamps>", "<0.00>", "<30.00>"]
    + ["\u2581die", "\u2581gr\u00fc", "ne", "\u2581pizza", "s", "\u2581ist"]
    + ["<sop>", "<sos>", "<eos>"]
)


def _legacy(token_list):
    """The former rule: 3-letter ``<xxx>`` languages, ``<asr>``/``<st_xxx>`` tasks."""
    language, task = re.compile(r"^<[a-z]{3}>$"), re.compile(r"^<(asr|st_[a-z]{3})>$")
    not_languages = {"<unk>", "<asr>", "<sop>", "<sos>", "<eos>"}
    languages = [t for t in token_list if language.match(t) and t not in not_languages]
    return languages, [t for t in token_list if task.match(t)]


def _index_map(vocabulary: ContextVocabulary, token_list, kind: str) -> dict:
    """``{symbol: embedding index}`` read through token ids, as training does."""
    symbols = vocabulary.languages if kind == "lang" else vocabulary.tasks
    ids = torch.tensor([list(token_list).index(s) for s in symbols])
    return dict(zip(symbols, vocabulary.indices(ids, kind).tolist(), strict=True))


# ----- backward compatibility: trained predictors index into these -----------
def test_toy_token_list_indices_are_pinned():
    vocabulary = ContextVocabulary(TOKENS)
    assert _index_map(vocabulary, TOKENS, "lang") == {
        "<eng>": 0,
        "<deu>": 1,
        "<fra>": 2,
    }
    assert _index_map(vocabulary, TOKENS, "task") == {"<asr>": 0, "<st_eng>": 1}
    assert vocabulary.symbol_index("<fra>", "lang") == 2
    assert vocabulary.symbol_index("<st_eng>", "task") == 1


def test_default_recipe_token_list_indices_are_pinned(tmp_path):
    """The token list stage 5 of the default recipe writes (sentencepiece)."""
    train = tmp_path / "train"
    train.mkdir()
    pairs = task_pairs(LANGUAGES)
    (train / "text").write_text(
        "".join(
            f"u{i} {pair.prefix} the red house number {i}\n"
            for i, pair in enumerate(pairs)
        )
    )
    (train / "text_ctc").write_text(
        "".join(f"u{i} das rote haus {i}\n" for i in range(len(pairs)))
    )
    tokens_file, _ = build_token_list(train, tmp_path / "tok", 60, 1.0, 0.5)
    tokens = tokens_file.read_text(encoding="utf-8").splitlines()
    vocabulary = ContextVocabulary(tokens)
    assert _index_map(vocabulary, tokens, "lang") == {
        "<deu>": 0,
        "<eng>": 1,
        "<fra>": 2,
        "<ita>": 3,
        "<spa>": 4,
    }
    assert _index_map(vocabulary, tokens, "task") == {"<asr>": 0, "<st_eng>": 1}
    assert (vocabulary.languages, vocabulary.tasks) == _legacy(tokens)


def test_benchmark_token_list_indices_are_pinned():
    tokens = benchmark_token_list(200)
    vocabulary = ContextVocabulary(tokens)
    assert vocabulary.languages == ["<eng>", "<deu>", "<fra>", "<ita>", "<spa>"]
    assert vocabulary.tasks == ["<asr>", "<st_eng>"]


@pytest.mark.parametrize(
    "tokens",
    [TOKENS, WORD_ALIGNED, OWSM_V3, ST_ONLY, benchmark_token_list(200)],
    ids=["toy", "word_aligned", "owsm_v3", "st_only", "benchmark"],
)
def test_lists_the_former_rule_read_give_the_same_vocabulary(tokens):
    vocabulary = ContextVocabulary(tokens)
    assert (vocabulary.languages, vocabulary.tasks) == _legacy(tokens)


# ----- any symbols the layout declares ---------------------------------------
def test_mini_an4_style_two_letter_symbols():
    vocabulary = ContextVocabulary(MINI_AN4)
    assert vocabulary.languages == ["<en>"]
    assert vocabulary.tasks == ["<asr>", "<st_en>"]
    assert vocabulary.symbol_index("<st_en>", "task") == 1
    ids = torch.tensor([MINI_AN4.index("<st_en>"), MINI_AN4.index("<asr>")])
    assert vocabulary.indices(ids, "task").tolist() == [1, 0]


def test_owsm_v1_style_mixed_language_codes():
    vocabulary = ContextVocabulary(OWSM_V1)
    assert vocabulary.languages == OWSM_V1_LANGS
    assert vocabulary.tasks == [
        "<asr>",
        "<st_en>",
        "<st_zh>",
        "<st_de>",
        "<st_haw>",
        "<st_yue>",
        "<st_zh-cn>",
    ]
    assert vocabulary.symbol_index("<zh-cn>", "lang") == 5
    assert vocabulary.symbol_index("<st_zh-cn>", "task") == 6
    assert "<nospeech>" not in vocabulary.languages


def test_other_tasks_after_asr_are_tasks():
    """POWSM-style tasks: everything from <asr> to <notimestamps> is a task."""
    tokens = _s2t_tokens(["<na>"], ["<eng>", "<deu>"], ["<asr>", "<pr>", "<lid>"])
    vocabulary = ContextVocabulary(tokens)
    assert vocabulary.languages == ["<eng>", "<deu>"]
    assert vocabulary.tasks == ["<asr>", "<pr>", "<lid>"]


def test_translation_only_list_starts_tasks_at_the_first_st_symbol():
    vocabulary = ContextVocabulary(ST_ONLY)
    assert vocabulary.languages == ["<deu>", "<fra>"]
    assert vocabulary.tasks == ["<st_eng>"]


# ----- errors -----------------------------------------------------------------
def test_unknown_symbol_error_names_it_and_lists_the_known_ones():
    vocabulary = ContextVocabulary(OWSM_V1)
    with pytest.raises(ValueError, match=r"unknown lang symbol '<xx>'") as error:
        vocabulary.symbol_index("<xx>", "lang")
    assert str(OWSM_V1_LANGS) in str(error.value)
    with pytest.raises(ValueError, match=r"unknown task symbol '<st_xx>'.*<st_en>"):
        vocabulary.symbol_index("<st_xx>", "task")


def test_symbol_of_the_other_kind_or_without_brackets_gets_a_hint():
    vocabulary = ContextVocabulary(MINI_AN4)
    with pytest.raises(ValueError, match=r"'<asr>' is a task symbol"):
        vocabulary.symbol_index("<asr>", "lang")
    with pytest.raises(ValueError, match=r"unknown lang symbol 'en'.*'<en>'\?"):
        vocabulary.symbol_index("en", "lang")
    with pytest.raises(ValueError, match="kind must be one of"):
        vocabulary.symbol_index("<en>", "language")


def test_unknown_token_in_text_names_the_position_and_known_symbols():
    vocabulary = ContextVocabulary(MINI_AN4)
    ids = torch.tensor([MINI_AN4.index("<en>"), MINI_AN4.index("<nospeech>")])
    with pytest.raises(ValueError, match=r"position \[1\].*known: \['<en>'\]"):
        vocabulary.indices(ids, "lang")


def test_token_list_without_notimestamps_is_refused():
    tokens = [t for t in TOKENS if t != "<notimestamps>"]
    with pytest.raises(ValueError, match="token_list has no <notimestamps>"):
        ContextVocabulary(tokens)


def test_token_list_without_task_symbols_is_refused():
    tokens = [t for t in TOKENS if t not in ("<asr>", "<st_eng>")]
    with pytest.raises(ValueError, match="no task symbol before <notimestamps>.*<asr>"):
        ContextVocabulary(tokens)


def test_token_list_without_language_symbols_is_refused():
    tokens = [t for t in TOKENS if t not in ("<eng>", "<deu>", "<fra>")]
    with pytest.raises(ValueError, match=r"no language symbols before .*'<asr>'"):
        ContextVocabulary(tokens)


def test_text_piece_among_the_tasks_is_refused():
    tokens = list(TOKENS)
    tokens.insert(tokens.index("<notimestamps>"), "q")
    with pytest.raises(ValueError, match=r"'q' lies between .* no task symbol"):
        ContextVocabulary(tokens)


# ----- end to end -------------------------------------------------------------
def test_gated_model_decodes_under_two_letter_context_symbols():
    tokens = _s2t_tokens(["<na>", "<nolang>"], ["<en>", "<de>"], ["<asr>", "<st_en>"])
    args = s2t_args(gated=True, model_conf=MODEL_CONF)
    args.token_list = tokens
    torch.manual_seed(0)
    model = S2TTask.build_model(args).eval()
    assert model.gating.vocabulary.languages == ["<en>", "<de>"]
    assert model.gating.predictor.lang_embed.num_embeddings == 2
    model.gating.predictor.num_updates.fill_(1)  # counts as trained
    model.set_inference_context("<de>", "<st_en>")
    speech = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        encoded, lengths = model.encode(speech, torch.full((2,), 8000))
    assert encoded.shape[0] == 2 and torch.isfinite(encoded).all()
    assert model.last_gates is not None
    with pytest.raises(ValueError, match=r"unknown lang symbol '<fr>'.*'<de>'"):
        model.set_inference_context("<fr>", "<asr>")
