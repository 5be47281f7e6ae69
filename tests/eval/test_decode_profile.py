"""The split of a decode into parts times the methods ESPnet's search really calls."""

import functools

import torch

from espnet_dynprune.eval.benchmark import SHAPES, build_models, default_settings
from espnet_dynprune.eval.benchmark import _decode as decode
from espnet_dynprune.eval.decode_profile import PARTS, decode_time_parts


def _parts(models, setting_name: str) -> dict[str, float]:
    setting = {s.name: s for s in default_settings(SHAPES["tiny"])}[setting_name]
    model = models["gated" if setting.gated else "stock"]
    speech = torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    return decode_time_parts(
        model, functools.partial(decode, model, setting, speech, 2, 3)
    )


def test_every_part_is_timed_on_each_decoding_path():
    """Stock layers run ``forward``; the gated cached step ``forward_new_positions``
    and the uncached one ``forward``: each path's layers and output layer count."""
    models = build_models(SHAPES["tiny"])
    for name in ("stock", "dense", "dense, no cache", "joint 0.5"):
        parts = _parts(models, name)
        assert set(parts) == {*PARTS, "total"}
        assert all(parts[p] > 0 for p in ("encoder", "decoder layers", "output layer"))
        assert parts["decoder, other"] >= 0 and parts["beam search"] >= 0, parts


def test_the_model_is_left_as_it_was():
    models = build_models(SHAPES["tiny"])
    _parts(models, "stock")
    stock = models["stock"]
    assert "encode" not in vars(stock)
    assert "batch_score" not in vars(stock.decoder)
    assert all("forward" not in vars(layer) for layer in stock.decoder.decoders)
    assert "forward" not in vars(stock.decoder.output_layer)
