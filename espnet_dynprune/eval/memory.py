"""Peak tensor memory of a call on CPU, from ``torch.profiler``'s memory events.

CPU builds of torch have no allocator statistics (``torch.cuda.max_memory_allocated``
has no CPU twin), and ``ru_maxrss`` is a process-wide high-water mark that model
building already sets. This counts what the call itself allocates: every
operator's net allocation (and every free outside operators) in time order; the
peak of the running sum is the most tensor memory the call held at once on top of
what existed before it (weights excluded). Workspace an operator allocates and
frees internally is not seen (operator granularity).
"""

import warnings
from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile

__all__ = ["peak_allocated_bytes"]


def peak_allocated_bytes(fn: Callable[[], object]) -> int:
    """Peak bytes of CPU tensors allocated by ``fn`` and live at the same time."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Profiler clears events at the end ..."
        with (
            torch.no_grad(),
            profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
        ):
            fn()
    events = sorted(prof.events(), key=lambda event: event.time_range.start)
    changes = (
        event.cpu_memory_usage
        if event.name == "[memory]"
        else event.self_cpu_memory_usage
        for event in events
    )
    live = peak = 0
    for change in changes:
        live += change
        peak = max(peak, live)
    return peak
