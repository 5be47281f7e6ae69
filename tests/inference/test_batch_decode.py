"""``Speech2Text.batch_decode`` (espnet 202611): mixed contexts, own gates each."""

import pytest
import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.models.gating import describe_gates

from helpers.model_factory import write_context_gated_model

pytestmark = pytest.mark.skipif(
    not hasattr(ESPnetSpeech2Text, "batch_decode"),
    reason="the installed espnet has no batch_decode (202611 and newer)",
)

CONTEXTS = [("<deu>", "<st_eng>"), ("<eng>", "<asr>"), ("<fra>", "<asr>")]


@pytest.fixture(scope="module")
def s2t(tmp_path_factory) -> Speech2Text:
    out = tmp_path_factory.mktemp("batch_decode")
    config, model_file = write_context_gated_model(out)
    return Speech2Text(config, model_file, beam_size=3, nbest=2, batch_size=4)


def _utterances(count: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(6400 + 400 * i, generator=generator) for i in range(count)]


def _summary(nbest) -> list[tuple[list[int], float]]:
    return [(hyp[2], float(hyp[4].score)) for hyp in nbest]


def test_mixed_contexts_equal_one_at_a_time(s2t):
    speech = _utterances(4)
    contexts = [CONTEXTS[i % len(CONTEXTS)] for i in range(4)]
    one_at_a_time, gates = [], []
    for audio, (lang, task) in zip(speech, contexts, strict=True):
        one_at_a_time.append(_summary(s2t(audio, lang_sym=lang, task_sym=task)))
        gates.append(str(s2t.active_modules()))
    assert len(set(gates)) > 1, "the fixture's contexts should have different gates"

    batched = s2t.batch_decode(
        speech,
        lang_sym=[lang for lang, _ in contexts],
        task_sym=[task for _, task in contexts],
    )
    assert len(batched) == 4
    for got, want in zip(batched, one_at_a_time, strict=True):
        got = _summary(got)
        assert [tokens for tokens, _ in got] == [tokens for tokens, _ in want]
        torch.testing.assert_close(
            [score for _, score in got], [score for _, score in want], atol=1e-4, rtol=0
        )
    # the batch's gates are each utterance's own
    batch_gates = s2t.s2t_model.last_gates
    for row, want in enumerate(gates):
        row_gates = type(batch_gates)(
            batch_gates.encoder[row : row + 1], batch_gates.decoder[row : row + 1]
        )
        assert str(describe_gates(row_gates)) == want


def test_one_shared_context_equals_stock_batch_path(s2t):
    speech = _utterances(2)
    batched = s2t.batch_decode(speech, lang_sym="<fra>", task_sym="<asr>")
    for audio, got in zip(speech, batched, strict=True):
        want = s2t(audio, lang_sym="<fra>", task_sym="<asr>")
        assert [h[2] for h in got] == [h[2] for h in want]


def test_symbol_lists_must_match_the_batch(s2t):
    with pytest.raises(ValueError, match="lang_sym: 3 symbols for 2 utterances"):
        s2t.batch_decode(_utterances(2), lang_sym=["<eng>"] * 3, task_sym="<asr>")
