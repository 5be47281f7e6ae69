"""model: word_aligned: frame targets from word timings, the loss, ESPnet glue."""

import numpy as np
import pytest
import torch
from espnet2.s2t.espnet_model import ESPnetS2TModel
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.models.word_aligned_model import ESPnetWordAlignedS2TModel
from espnet_dynprune.nets.word_alignment import (
    IGNORE_INDEX,
    frame_targets,
    token_spans,
    word_start_mask,
)
from espnet_dynprune.tasks.gated_config import gated_config

from helpers.model_factory import s2t_args

TOKENS = (
    ["<blank>", "<unk>", "<na>", "<nolang>", "<deu>", "<asr>", "<st_eng>"]
    + ["<notimestamps>", "<0.00>", "<30.00>"]
    + ["\u2581die", "\u2581gr\u00fc", "ne", "\u2581pizza", "s", "\u2581ist"]
    + ["<sop>", "<sos>", "<eos>"]
)
DIE, GRU, NE, PIZZA, S, IST = range(10, 16)


def _path(text_ctc, ctc_lengths, bounds, bound_lengths, samples, frames):
    """token_spans, then frame_targets, on batched tensors."""
    text_ctc, frames = torch.tensor(text_ctc), torch.tensor(frames)
    spans = token_spans(
        text_ctc,
        torch.tensor(ctc_lengths),
        torch.tensor(bounds),
        torch.tensor(bound_lengths),
        torch.tensor(samples),
        frames,
        word_start_mask(TOKENS),
    )
    return frame_targets(spans, text_ctc, frames)


def _targets(tokens, bounds, samples=3200, frames=16):
    return _path([tokens], [len(tokens)], [bounds], [len(bounds)], [samples], [frames])[
        0
    ].tolist()


def test_tokens_spread_over_their_word_and_blank_elsewhere():
    # 200 samples a frame: "die" 0-800, a pause, "grü|ne" 1000-2000, "pizza"
    # 2000-2600, noise to the end.
    targets = _targets([DIE, GRU, NE, PIZZA], [0, 800, 1000, 2000, 2000, 2600])
    assert targets == [DIE] * 4 + [0] + [GRU] * 3 + [NE] * 2 + [PIZZA] * 3 + [0] * 3


def test_every_token_gets_a_frame_in_a_short_word():
    targets = _targets([PIZZA, S], [0, 200], samples=1000, frames=5)
    assert targets[:2] == [PIZZA, S] and targets[2:] == [0, 0, 0]


def test_disagreeing_words_and_padding_are_ignored():
    batch = _path(
        [[DIE, PIZZA, IST], [DIE, PIZZA, -1]],
        [3, 2],
        [[0, 800, 800, 1600], [0, 800, 800, 1600]],  # 2 words
        [4, 4],
        [3200, 1600],
        [16, 8],
    )
    assert (batch[0] == IGNORE_INDEX).all()  # 3 words, 2 bound pairs
    assert (batch[1, 8:] == IGNORE_INDEX).all()
    assert batch[1, :8].tolist() == [DIE] * 4 + [PIZZA] * 4


def _model(
    weight: float, seed: int = 0, attention_weight: float = 0.0
) -> ESPnetWordAlignedS2TModel:
    model_conf = {
        "word_alignment_weight": weight,
        "source_attention_weight": attention_weight,
    }
    args = s2t_args(gated=False, model_conf=model_conf)
    args.model, args.token_list = "word_aligned", list(TOKENS)
    torch.manual_seed(seed)
    return S2TTask.build_model(args)


def _batch(rng: np.random.Generator) -> dict:
    """Two 0.4-s utterances: "die grüne pizza" and "pizza ist"."""
    ctc = torch.tensor([[DIE, GRU, NE, PIZZA], [PIZZA, IST, -1, -1]])
    text = torch.tensor([[4, 5, 7, DIE, GRU, NE, PIZZA], [4, 5, 7, PIZZA, IST, -1, -1]])
    bounds = torch.tensor(
        [[0, 2000, 2000, 4000, 4000, 6400], [0, 3000, 3000, 6400, -1, -1]]
    )
    return dict(
        speech=torch.tensor(rng.standard_normal((2, 6400)), dtype=torch.float32),
        speech_lengths=torch.tensor([6400, 6400]),
        text=text,
        text_lengths=torch.tensor([7, 5]),
        text_prev=torch.tensor([[2], [2]]),
        text_prev_lengths=torch.tensor([1, 1]),
        text_ctc=ctc,
        text_ctc_lengths=torch.tensor([4, 2]),
        word_bounds=bounds,
        word_bounds_lengths=torch.tensor([6, 4]),
    )


def test_loss_is_espnets_plus_the_weighted_alignment_loss():
    """Same weights: ESPnet's stock model gives the loss without the term; the
    state dict is ESPnet's, so the stock model loads it strictly."""
    batch = _batch(np.random.default_rng(0))
    aligned = _model(weight=0.5).eval()
    stock_args = s2t_args(gated=False)
    stock_args.token_list = list(TOKENS)
    stock = S2TTask.build_model(stock_args).eval()
    assert isinstance(aligned, ESPnetWordAlignedS2TModel)
    assert type(stock) is ESPnetS2TModel
    stock.load_state_dict(aligned.state_dict(), strict=True)
    with torch.no_grad():
        loss, stats, _ = aligned(**batch)
        plain = {k: v for k, v in batch.items() if not k.startswith("word_bounds")}
        stock_loss, _, _ = stock(**plain)
        unaligned_loss, unaligned_stats, _ = aligned(**plain)
    assert stats["loss_word_align"] > 0
    assert loss == pytest.approx(float(stock_loss + 0.5 * stats["loss_word_align"]))
    assert unaligned_loss == pytest.approx(float(stock_loss))
    assert "loss_word_align" not in unaligned_stats


def test_training_on_the_alignment_teaches_the_ctc_head():
    """The term alone makes the CTC head's greedy output the word-aligned path."""
    model = _model(weight=1.0).train()
    batch = _batch(np.random.default_rng(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        encoder_out, lengths = model.encode(batch["speech"], batch["speech_lengths"])
        spans = _spans(model, batch, lengths)
        loss = model.word_alignment_loss(encoder_out, lengths, spans, batch["text_ctc"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        encoder_out, lengths = model.encode(batch["speech"], batch["speech_lengths"])
        greedy = model.ctc.argmax(encoder_out)
    for index, expected in enumerate(([DIE, GRU, NE, PIZZA], [PIZZA, IST])):
        path = torch.unique_consecutive(greedy[index, : lengths[index]]).tolist()
        assert [token for token in path if token != 0] == expected


def _spans(model, batch, lengths):
    keys = ("text_ctc", "text_ctc_lengths", "word_bounds", "word_bounds_lengths")
    return token_spans(
        *(batch[key] for key in keys),
        batch["speech_lengths"],
        lengths,
        model._word_start,
    )


def test_source_attention_term_is_added_for_transcripts_only():
    batch = _batch(np.random.default_rng(0))
    model = _model(weight=0.5, attention_weight=0.25).eval()
    with torch.no_grad():
        loss, stats, _ = model(**batch)
        plain = {k: v for k, v in batch.items() if not k.startswith("word_bounds")}
        stock_loss, _, _ = model(**plain)
    assert stats["loss_src_attn"] > 0
    expected = stock_loss + 0.5 * stats["loss_word_align"]
    assert loss == pytest.approx(float(expected + 0.25 * stats["loss_src_attn"]))
    # A translation (target differs from its transcript) takes no part.
    translated = dict(batch, text=batch["text"].clone())
    translated["text"][:, 1] = 6  # <st_eng>: the prefix differs, the tokens not
    translated["text"][:, 3:] = torch.tensor([[IST] * 4, [DIE, DIE, -1, -1]])
    with torch.no_grad():
        _, stats, _ = model(**translated)
    assert stats["loss_src_attn"] == 0


def test_training_the_source_attention_term_aligns_the_decoder():
    """The term alone puts each transcript token's attention on its frames."""
    model = _model(weight=0.0, attention_weight=1.0).train()
    batch = _batch(np.random.default_rng(1))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    keys = ("text", "text_lengths", "text_ctc", "text_ctc_lengths")
    lengths = model.encode(batch["speech"], batch["speech_lengths"])[1]
    spans = _spans(model, batch, lengths)
    for _ in range(60):
        model(**batch)  # the attention of this pass is scored
        loss = model.source_attention_loss(spans, *(batch[key] for key in keys))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        model(**batch)
    attention = torch.stack([layer.src_attn.attn for layer in model.decoder.decoders])
    peaks = attention.mean((0, 2)).argmax(-1)  # (B, L_in)
    for index, utterance in enumerate(spans):
        for position, (lo, hi) in enumerate(utterance, start=3):
            assert lo - 1 <= int(peaks[index, position]) < hi + 1


def test_bad_weight_and_missing_ctc():
    with pytest.raises(ValueError, match="word_alignment_weight must be >= 0"):
        _model(weight=-1.0)
    with pytest.raises(ValueError, match="source_attention_weight must be >= 0"):
        _model(weight=1.0, attention_weight=-0.5)
    args = s2t_args(gated=False, model_conf={"ctc_weight": 0.0})
    args.model, args.token_list = "word_aligned", list(TOKENS)
    with pytest.raises(ValueError, match="set ctc_weight > 0"):
        S2TTask.build_model(args)


def test_gated_config_from_a_word_aligned_config():
    config = {
        "model": "word_aligned",
        "model_conf": {
            "ctc_weight": 0.3,
            "word_alignment_weight": 1.0,
            "source_attention_weight": 1.0,
        },
        "encoder": "e_branchformer",
        "decoder": "transformer",
    }
    gated = gated_config(config, {"decoder_target": 0.5})
    assert gated["model"] == "dynprune"  # and the timing weights are gone:
    assert gated["model_conf"] == {
        "ctc_weight": 0.3,
        "gate_predictor_conf": {"parts": ["decoder"]},
        "sparsity_conf": {"decoder_target": 0.5},
    }
