"""Where one decode's wall time goes: encoder, decoder layers, output layer, the
rest of the decoder step, and the beam search's own bookkeeping.

Timers wrap the methods that the model and ESPnet's beam search call (as instance
attributes that shadow the class's methods for one decode, then removed), so the
model and the search run their usual code. Parts nest (the layers and the output
layer run inside the decoder's scoring call, which runs inside the search), and
each part is reported without what nests in it. CPU execution is synchronous: the
wall time between a method's entry and exit is its cost.
"""

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import torch

__all__ = ["PARTS", "decode_time_parts"]

PARTS = (
    "encoder",
    "decoder layers",
    "output layer",
    "decoder, other",
    "beam search",
)


@contextmanager
def _timed(owner: object, method: str, totals: dict[str, float], key: str) -> Iterator:
    """Add the wall time of every ``owner.method(...)`` call to ``totals[key]``."""
    original = getattr(owner, method)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    setattr(owner, method, timed)
    try:
        yield
    finally:
        delattr(owner, method)


def decode_time_parts(
    model: torch.nn.Module, decode: Callable[[], object]
) -> dict[str, float]:
    """Seconds per part (:data:`PARTS`) of one ``decode()`` call, and ``total``.

    Args:
        model: an ESPnet speech-to-text model (stock or gated): its ``encode``,
            each layer of ``decoder.decoders``, ``decoder.output_layer`` and the
            decoder's ``score`` / ``batch_score`` are timed.
        decode: encodes and beam-searches one input with ``model``.
    """
    totals = dict.fromkeys(("encode", "layers", "output", "scoring"), 0.0)
    decoder = model.decoder
    timers = [(model, "encode", "encode")]
    timers += [(decoder, name, "scoring") for name in ("score", "batch_score")]
    if decoder.output_layer is not None:
        timers.append((decoder.output_layer, "forward", "output"))
    for layer in decoder.decoders:
        timers.append((layer, "forward", "layers"))
        if hasattr(layer, "forward_new_positions"):  # the gated decoder's cached step
            timers.append((layer, "forward_new_positions", "layers"))
    with ExitStack() as stack, torch.no_grad():
        for owner, method, key in timers:
            stack.enter_context(_timed(owner, method, totals, key))
        start = time.perf_counter()
        decode()
        total = time.perf_counter() - start
    return {
        "encoder": totals["encode"],
        "decoder layers": totals["layers"],
        "output layer": totals["output"],
        "decoder, other": totals["scoring"] - totals["layers"] - totals["output"],
        "beam search": total - totals["encode"] - totals["scoring"],
        "total": total,
    }
