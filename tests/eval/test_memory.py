"""``peak_allocated_bytes``: the most tensor memory a call holds at once on CPU."""

import torch

from espnet_dynprune.eval.memory import peak_allocated_bytes

N = 1_000_000  # float32 elements: 4 MB, far above any allocator rounding
TENSOR_BYTES = 4 * N


def in_tensors(peak: int) -> float:
    """A peak in units of one ``N``-element float32 tensor."""
    return peak / TENSOR_BYTES


def test_one_returned_tensor_counts_its_size():
    def allocate_one():
        return torch.ones(N)

    peak = peak_allocated_bytes(allocate_one)
    assert peak >= TENSOR_BYTES
    assert in_tensors(peak) < 1.5


def test_tensor_freed_before_the_next_does_not_add_up():
    def one_after_the_other():
        first = torch.ones(N)
        del first
        return torch.ones(N)

    assert 1.0 <= in_tensors(peak_allocated_bytes(one_after_the_other)) < 1.5


def test_tensors_held_together_add_up():
    def both_held():
        first = torch.ones(N)
        second = torch.ones(N)
        return first, second

    assert 2.0 <= in_tensors(peak_allocated_bytes(both_held)) < 2.5


def test_peak_is_the_high_water_mark_not_the_last_value():
    """Three tensors live at once, then two freed: the peak stays at three."""

    def rise_and_fall():
        held = [torch.ones(N) for _ in range(3)]
        del held[:2]
        return held

    assert 3.0 <= in_tensors(peak_allocated_bytes(rise_and_fall)) < 3.5


def test_operator_outputs_are_counted():
    """Intermediates of a chain of operators stay live until the chain ends."""
    x = torch.ones(N)

    def chain():
        y = x + 1.0
        z = y * 2.0
        return z.exp()

    assert 3.0 <= in_tensors(peak_allocated_bytes(chain)) < 3.5


def test_memory_allocated_before_the_call_is_not_counted():
    existing = torch.ones(8 * N)  # 32 MB held across the call

    def allocate_small_from_existing():
        return existing[: N // 4].clone()

    peak = peak_allocated_bytes(allocate_small_from_existing)
    assert TENSOR_BYTES / 4 <= peak < TENSOR_BYTES / 2
    assert existing.sum().item() == 8 * N  # still alive and intact


def test_call_that_allocates_nothing_reports_near_zero():
    existing = torch.ones(N)

    def view_only():
        return existing.view(1000, 1000)[:10]

    assert peak_allocated_bytes(view_only) < TENSOR_BYTES / 100
