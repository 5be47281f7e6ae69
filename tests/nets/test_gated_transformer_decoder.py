"""Gated Transformer decoder: stock parity in every path, skipping, caches."""

import pytest
import torch

from espnet_dynprune.compat.espnet_release import BatchBeamSearch
from espnet_dynprune.nets.gate_contract import DECODER_MODULES
from espnet_dynprune.nets.gated_transformer_decoder import GatedTransformerDecoder

MODULE_ATTRS = ("self_attn", "src_attn", "feed_forward")
NUM_LAYERS = 2


@pytest.fixture()
def memory(stock_model, speech, speech_lengths):
    with torch.no_grad():
        return stock_model.encode(speech, speech_lengths)


@pytest.fixture()
def prefix():
    return torch.tensor([[39, 5, 8, 9, 12, 13], [39, 4, 7, 9, 14, 15]])


def _gates(batch, closed=()):
    gates = torch.ones(batch, NUM_LAYERS, len(DECODER_MODULES))
    for layer, module in closed:
        gates[:, layer, module] = 0.0
    return gates


@pytest.mark.parametrize("gates", [None, _gates(2)])
def test_teacher_forced_dense_equals_stock(
    stock_model, gated_model, memory, prefix, gates
):
    (hs, hlens), lens = memory, torch.tensor([6, 4])
    with torch.no_grad(), gated_model.decoder.gates_applied(gates):
        got, _ = gated_model.decoder(hs, hlens, prefix, lens)
        want, _ = stock_model.decoder(hs, hlens, prefix, lens)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("gates", [None, _gates(1)])
def test_batch_score_dense_equals_stock(
    stock_model, gated_model, memory, prefix, gates
):
    hs = memory[0][:1].expand(2, -1, -1)
    states = [None, None]
    with torch.no_grad(), gated_model.decoder.gates_applied(gates):
        for step in range(1, prefix.size(1) + 1):
            got, states = gated_model.decoder.batch_score(prefix[:, :step], states, hs)
        want, _ = stock_model.decoder.batch_score(prefix, [None, None], hs)
    # the last incremental step scores the same token as the full-prefix call
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    assert len(states[0]) == NUM_LAYERS


def test_incremental_steps_equal_teacher_forcing_when_pruned(
    gated_model, memory, prefix
):
    """Closed modules keep one cache entry per layer and a consistent cache."""
    hs = memory[0][:1].expand(2, -1, -1)
    gates = _gates(1, closed=[(0, 0), (1, 1), (1, 2)])
    states = [None, None]
    with torch.no_grad(), gated_model.decoder.gates_applied(gates):
        for step in range(1, prefix.size(1) + 1):
            logp, states = gated_model.decoder.batch_score(prefix[:, :step], states, hs)
        full, _ = gated_model.decoder(
            hs, torch.tensor([hs.size(1)] * 2), prefix, torch.tensor([6, 6])
        )
    torch.testing.assert_close(
        logp, torch.log_softmax(full[:, -1], dim=-1), atol=1e-5, rtol=0
    )
    assert all(len(s) == NUM_LAYERS for s in states)


@pytest.mark.parametrize("seed", range(3))
def test_hard_skip_equals_soft_gating(gated_model, memory, prefix, seed):
    (hs, hlens), lens = memory, torch.tensor([6, 4])
    generator = torch.Generator().manual_seed(seed)
    gates = (torch.rand(2, NUM_LAYERS, 3, generator=generator) > 0.5).float()
    with torch.no_grad(), gated_model.decoder.gates_applied(gates):
        hard, _ = gated_model.decoder(hs, hlens, prefix, lens)
    soft_gates = gates.clone().requires_grad_(True)
    with gated_model.decoder.gates_applied(soft_gates):
        soft, _ = gated_model.decoder(hs, hlens, prefix, lens)
    torch.testing.assert_close(hard, soft.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("module", range(3))
def test_closed_module_is_never_executed(gated_model, memory, prefix, module):
    hs = memory[0][:1]
    calls = []
    hooks = [
        getattr(layer, attr).register_forward_hook(
            lambda *_, name=attr: calls.append(name)
        )
        for layer in gated_model.decoder.gated_layers()
        for attr in MODULE_ATTRS
    ]
    gates = _gates(1, closed=[(layer, module) for layer in range(NUM_LAYERS)])
    # the cached attentions call their projections, not their forward
    gated_model.decoder.use_source_cache(False)
    gated_model.decoder.use_self_attention_cache(False)
    try:
        with torch.no_grad(), gated_model.decoder.gates_applied(gates):
            gated_model.decoder.score(prefix[0], None, hs[0])
    finally:
        for hook in hooks:
            hook.remove()
    assert MODULE_ATTRS[module] not in calls
    assert len(calls) == NUM_LAYERS * 2


def _beam_search(decoder, vocab_size, sos, eos):
    return BatchBeamSearch(
        scorers={"decoder": decoder},
        weights={"decoder": 1.0},
        beam_size=3,
        vocab_size=vocab_size,
        sos=sos,
        eos=eos,
    )


def test_beam_search_dense_equals_stock(stock_model, gated_model, memory):
    hs = memory[0][0]
    hyps = {}
    for name, model in (("stock", stock_model), ("gated", gated_model)):
        search = _beam_search(model.decoder, model.vocab_size, model.sos, model.eos)
        with torch.no_grad():
            best = search(x=hs, maxlenratio=0.0, minlenratio=0.0)[:3]
        hyps[name] = [(h.yseq.tolist(), float(h.score)) for h in best]
    assert [y for y, _ in hyps["stock"]] == [y for y, _ in hyps["gated"]]
    for (_, a), (_, b) in zip(hyps["stock"], hyps["gated"], strict=True):
        assert abs(a - b) < 1e-4


def test_beam_search_runs_with_closed_modules(gated_model, memory):
    search = _beam_search(
        gated_model.decoder, gated_model.vocab_size, gated_model.sos, gated_model.eos
    )
    gates = _gates(1, closed=[(0, 1), (1, 0), (1, 2)])
    with torch.no_grad(), gated_model.decoder.gates_applied(gates):
        best = search(x=memory[0][0], maxlenratio=0.3, minlenratio=0.0)
    assert len(best) > 0 and best[0].yseq[0] == gated_model.sos


@pytest.mark.parametrize("closed", [(), ((0, 0), (1, 2))])
def test_source_cache_keeps_beam_search_results(
    stock_model, gated_model, memory, closed
):
    hs = memory[0][0]
    reference = _beam_search(
        gated_model.decoder, gated_model.vocab_size, gated_model.sos, gated_model.eos
    )
    gates = _gates(1, closed=closed) if closed else None
    results = {}
    for cached in (False, True):
        gated_model.decoder.use_source_cache(cached)
        with torch.no_grad(), gated_model.decoder.gates_applied(gates):
            best = reference(x=hs, maxlenratio=0.0, minlenratio=0.0)[:3]
        results[cached] = [(h.yseq.tolist(), float(h.score)) for h in best]
    assert [y for y, _ in results[True]] == [y for y, _ in results[False]]
    for (_, a), (_, b) in zip(results[True], results[False], strict=True):
        assert abs(a - b) < 1e-4


def test_source_keys_are_projected_once_per_utterance(gated_model, memory, prefix):
    hs = memory[0][:1].expand(4, -1, -1)  # 4 hypotheses of one utterance
    calls = []
    hooks = [
        layer.src_attn.linear_k.register_forward_hook(
            lambda _m, args, _o: calls.append(args[0].shape[0])
        )
        for layer in gated_model.decoder.gated_layers()
    ]
    try:
        states = [None] * 4
        with torch.no_grad():
            for step in range(1, 5):
                ys = prefix[:1, :step].expand(4, -1)
                _, states = gated_model.decoder.batch_score(ys, states, hs)
    finally:
        for hook in hooks:
            hook.remove()
    assert calls == [1] * NUM_LAYERS  # one row, once per layer, for all 4 steps


@pytest.mark.parametrize("change", ["new tensor", "written in place"])
def test_source_cache_recomputes_for_new_memory(gated_model, memory, prefix, change):
    """A new or overwritten encoder output never gets the old keys/values."""
    hs = memory[0][:1].clone()
    decoder = gated_model.decoder
    try:
        with torch.no_grad():
            decoder.batch_score(prefix[:1, :2], [None], hs)  # fills the cache
            if change == "new tensor":
                other = torch.randn_like(hs)
            else:
                other = hs.add_(torch.randn_like(hs))  # same memory, new contents
            got, _ = decoder.batch_score(prefix[:1, :2], [None], other)
            decoder.use_source_cache(False)
            want, _ = decoder.batch_score(prefix[:1, :2], [None], other)
    finally:
        decoder.use_source_cache(True)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("normalize_before", [True, False])
def test_pruned_decoder_keeps_only_what_runs(normalize_before):
    decoder = GatedTransformerDecoder(
        vocab_size=10,
        encoder_output_size=16,
        attention_heads=2,
        linear_units=32,
        num_blocks=2,
        normalize_before=normalize_before,
        pruned_modules=[["src_attn"], []],
    )
    layer = decoder.decoders[0]
    assert layer.src_attn is None and layer.self_attn is not None
    # post-norm applies norm2 to the layer output even when src_attn is closed
    assert (layer.norm2 is None) == normalize_before
    assert decoder.removed_modules() == [(0, "src_attn")]
    memory = torch.randn(1, 7, 16)
    with torch.no_grad():
        out, _ = decoder(memory, torch.tensor([7]), torch.tensor([[1, 2, 3]]), [3])
    assert out.shape == (1, 3, 10)
