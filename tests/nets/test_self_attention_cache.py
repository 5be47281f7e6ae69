"""Decoder self-attention key/value cache: the same search as ESPnet's recomputation."""

import functools

import pytest
import torch
from espnet2.bin.s2t_inference import Speech2Text as ESPnetSpeech2Text

from espnet_dynprune.compat.espnet_release import BatchBeamSearch, BeamSearch
from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.nets.gate_contract import DECODER_MODULES

from helpers.model_factory import (
    DECODER_CONF,
    TOKENS,
    build_s2t,
    write_context_gated_model,
)

NUM_LAYERS = DECODER_CONF["num_blocks"]
SIZE = 32  # the tiny encoder's output size
SOS = TOKENS.index("<sos>")
VARIANTS = {
    "pre-norm": {},
    "post-norm": {"normalize_before": False},
    "concat_after": {"concat_after": True},
    "post-norm, concat_after, qk_norm": {
        "normalize_before": False,
        "concat_after": True,
        "qk_norm": True,
    },
}
# (layer, module) closed; module 0 is the self-attention
CLOSED = {
    "open": (),
    "self_attn 0": ((0, 0),),
    "self_attn 1, src_attn 0": ((1, 0), (0, 1)),
    "every self_attn": ((0, 0), (1, 0)),
}


@functools.cache
def _model(variant: str) -> torch.nn.Module:
    return build_s2t(gated=True, decoder_conf=VARIANTS[variant])


def _memory(rows: int = 1, frames: int = 10) -> torch.Tensor:
    generator = torch.Generator().manual_seed(rows)
    return torch.randn(rows, frames, SIZE, generator=generator)


def _gates(closed, batch: int = 1) -> torch.Tensor:
    gates = torch.ones(batch, NUM_LAYERS, len(DECODER_MODULES))
    for layer, module in closed:
        gates[:, layer, module] = 0.0
    return gates


def _search(search_class, model, beam: int, closed, cached: bool) -> list:
    decoder = model.decoder
    search = search_class(
        scorers={"decoder": decoder},
        weights={"decoder": 1.0},
        beam_size=beam,
        vocab_size=model.vocab_size,
        sos=model.sos,
        eos=model.eos,
    )
    decoder.use_self_attention_cache(cached)
    try:
        with torch.no_grad(), decoder.gates_applied(_gates(closed)):
            best = search(x=_memory()[0], maxlenratio=0.0, minlenratio=0.0)
    finally:
        decoder.use_self_attention_cache(True)
    return [(hyp.yseq.tolist(), float(hyp.score)) for hyp in best]


def _assert_same_hypotheses(got: list, want: list) -> None:
    assert [tokens for tokens, _ in got] == [tokens for tokens, _ in want]
    torch.testing.assert_close(
        [score for _, score in got], [score for _, score in want], atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("closed", CLOSED.values(), ids=CLOSED.keys())
@pytest.mark.parametrize("beam", [1, 5])
@pytest.mark.parametrize("search_class", [BeamSearch, BatchBeamSearch])
@pytest.mark.parametrize("variant", VARIANTS)
def test_beam_search_equals_recomputation(variant, search_class, beam, closed):
    model = _model(variant)
    got = _search(search_class, model, beam, closed, cached=True)
    want = _search(search_class, model, beam, closed, cached=False)
    _assert_same_hypotheses(got, want)
    assert len(got) >= beam and len({tuple(tokens) for tokens, _ in got}) == len(got)


def _score_steps(decoder, prefixes, memory, first: int = 1) -> tuple[list, list]:
    """``batch_score`` from the first ``first`` tokens, then one token per call:
    the scores of every call and the last states."""
    states, scores = [None] * prefixes.size(0), []
    for length in range(first, prefixes.size(1) + 1):
        logp, states = decoder.batch_score(prefixes[:, :length], states, memory)
        scores.append(logp)
    return scores, states


def test_states_follow_their_hypotheses():
    """Hypotheses swapped with their states get each other's scores: the keys
    and values live in each hypothesis's state, as beam search reorders it."""
    decoder = _model("pre-norm").decoder
    prefixes = torch.tensor([[SOS, 4, 7, 9, 14, 15], [SOS, 5, 8, 20, 11, 30]])
    memory = _memory().expand(2, -1, -1)
    with torch.no_grad():
        _, states = _score_steps(decoder, prefixes[:, :-1], memory)
        straight, _ = decoder.batch_score(prefixes, states, memory)
        swapped, _ = decoder.batch_score(prefixes.flip(0), states[::-1], memory)
        decoder.use_self_attention_cache(False)
        try:
            want, _ = _score_steps(decoder, prefixes, memory)
        finally:
            decoder.use_self_attention_cache(True)
    assert not torch.allclose(straight[0], straight[1], atol=1e-3)
    torch.testing.assert_close(straight, want[-1], atol=1e-5, rtol=0)
    torch.testing.assert_close(swapped, want[-1].flip(0), atol=1e-5, rtol=0)


def test_each_step_projects_only_the_new_position():
    """The prefix is projected once, then one position per step; a closed
    self-attention projects nothing and keeps an empty entry."""
    decoder = _model("pre-norm").decoder
    positions = {layer: [] for layer in range(NUM_LAYERS)}
    hooks = [
        linear.register_forward_hook(
            lambda _m, args, _o, layer=layer: positions[layer].append(args[0].size(1))
        )
        for layer, block in enumerate(decoder.decoders)
        for linear in (block.self_attn.linear_q, block.self_attn.linear_k)
    ]
    prefixes = torch.tensor([[SOS, 4, 7, 9, 14, 15]] * 3)
    try:
        with torch.no_grad(), decoder.gates_applied(_gates([(1, 0)])):
            _, states = _score_steps(decoder, prefixes, _memory().expand(3, -1, -1), 3)
    finally:
        for hook in hooks:
            hook.remove()
    assert positions == {0: [3, 3, 1, 1, 1, 1, 1, 1], 1: []}
    assert [tuple(entry.shape) for entry in states[0]] == [(6, 2 * SIZE), (0, 0)]


@pytest.mark.parametrize("variant", ["pre-norm", "post-norm"])
def test_mixed_contexts_in_one_batch_equal_recomputation(variant):
    """Two utterances with their own gates (self-attention open for some rows
    only), two hypotheses each: every step scores as ESPnet's recomputation."""
    decoder = _model(variant).decoder
    gates = torch.cat([_gates([(0, 0)]), _gates([(1, 0), (0, 1)])])
    prefixes = torch.tensor(
        [[SOS, 4, 7, 9, 14], [SOS, 4, 8, 9, 2], [SOS, 5, 8, 20, 11], [SOS, 6, 5, 3, 30]]
    )
    memory = _memory(2).repeat_interleave(2, dim=0)
    scores = {}
    for cached in (True, False):
        decoder.use_self_attention_cache(cached)
        try:
            with torch.no_grad(), decoder.gates_applied(gates):
                scores[cached], _ = _score_steps(decoder, prefixes, memory)
        finally:
            decoder.use_self_attention_cache(True)
    torch.testing.assert_close(scores[True], scores[False], atol=1e-5, rtol=0)


@pytest.mark.parametrize("why", ["switched off", "sdpa", "gradients"])
def test_falls_back_to_espnet_layer_outputs(why):
    """Switched off, with another attention path, or with gradients, the state
    is ESPnet's (each layer's outputs) and the scores are the same."""
    decoder = build_s2t(gated=True).decoder
    prefixes = torch.tensor([[SOS, 4, 7, 9, 14, 15]])
    memory = _memory()
    with torch.no_grad():
        want, states = _score_steps(decoder, prefixes, memory)
    assert [tuple(entry.shape) for entry in states[0]] == [(6, 2 * SIZE)] * NUM_LAYERS
    if why == "switched off":
        decoder.use_self_attention_cache(False)
    elif why == "sdpa":
        for layer in decoder.decoders:
            layer.self_attn.use_sdpa = True
    with torch.set_grad_enabled(why == "gradients"):
        got, states = _score_steps(decoder, prefixes, memory)
    assert [tuple(entry.shape) for entry in states[0]] == [(6, SIZE)] * NUM_LAYERS
    torch.testing.assert_close([s.detach() for s in got], want, atol=1e-5, rtol=0)


CONTEXTS = [("<deu>", "<asr>"), ("<deu>", "<st_eng>"), ("<fra>", "<st_eng>")]


@pytest.fixture(scope="module")
def s2t(tmp_path_factory) -> Speech2Text:
    """A gated model whose contexts close different self-attention modules;
    ESPnet's batched beam search with CTC and the S2T prompt as primer."""
    config, model_file = write_context_gated_model(tmp_path_factory.mktemp("kv"))
    return Speech2Text(config, model_file, beam_size=5, nbest=5, batch_size=3)


def _audio(count: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(2)
    return [torch.randn(6400 + 800 * i, generator=generator) for i in range(count)]


def _decoded(s2t: Speech2Text, decode, cached: bool) -> list:
    s2t.s2t_model.decoder.use_self_attention_cache(cached)
    try:
        nbest = decode()
    finally:
        s2t.s2t_model.decoder.use_self_attention_cache(True)
    return [(hyp[2], float(hyp[4].score)) for hyp in nbest]


@pytest.mark.parametrize("lang, task", CONTEXTS)
def test_speech2text_equals_recomputation(s2t, lang, task):
    audio = _audio(1)[0]

    def decode():
        return s2t(audio, lang_sym=lang, task_sym=task)

    got = _decoded(s2t, decode, cached=True)
    self_attention_open = s2t.s2t_model.last_gates.decoder[0, :, 0]
    assert not self_attention_open.all()  # the context closes some
    _assert_same_hypotheses(got, _decoded(s2t, decode, cached=False))


@pytest.mark.skipif(
    not hasattr(ESPnetSpeech2Text, "batch_decode"),
    reason="the installed espnet has no batch_decode (202611 and newer)",
)
def test_batch_decode_equals_recomputation(s2t):
    """Utterances of different contexts in one beam (mixed self-attention rows)."""
    speech = _audio(3)

    def decode():
        lang, task = zip(*CONTEXTS, strict=True)
        batches = s2t.batch_decode(speech, lang_sym=list(lang), task_sym=list(task))
        return [hyp for nbest in batches for hyp in nbest]

    got = _decoded(s2t, decode, cached=True)
    _assert_same_hypotheses(got, _decoded(s2t, decode, cached=False))
