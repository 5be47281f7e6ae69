"""The gate contract, shared by the gated encoder and the gated decoder.

A gate tensor for a stack of layers has shape ``(B, L, M)``: batch, layer, module.
Its values are 0 or 1 (straight-through values during training equal 0 or 1 in the
forward pass), and **1 means the module runs**. ``ENCODER_MODULES`` and
``DECODER_MODULES`` name the M axis.

A stack turns a gate tensor into a :class:`GateDecision` per layer and module once
(one host synchronisation per call, not per layer or decoder step). A decision is
one of:

* ``SOFT``: gates carry gradients (training); the module runs for every row and its
  output is multiplied by the gate, so the predictor learns.
* ``OPEN`` / ``CLOSED``: every row agrees; the module runs as in stock ESPnet, or
  is not executed at all.
* ``ROWS``: rows disagree (a batch of mixed contexts); the module runs on the
  open rows only and closed rows get a zero update.

Hard decisions (the last three) give the same values as ``SOFT`` with a 0/1 mask.

A stack built with ``pruned_modules`` (a per-context export, see
``espnet_dynprune.inference.export_context``) has no closed modules at all: their
submodules are ``None`` and their weights do not exist; its layers run a fixed
plan.
"""

import enum
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

import torch

__all__ = [
    "CLOSED",
    "DECODER_MODULES",
    "ENCODER_MODULES",
    "GateDecision",
    "GateKind",
    "GateMask",
    "GatedStackMixin",
    "OPEN",
    "add_update",
    "fixed_plan",
    "plan_gates",
    "run_gated",
    "take_rows",
]

ENCODER_MODULES = ("macaron_ffn", "self_attn", "cgmlp", "ffn")
DECODER_MODULES = ("self_attn", "src_attn", "ffn")


class GateKind(enum.Enum):
    """How one module of one layer is executed for a batch."""

    SOFT = "soft"
    OPEN = "open"
    CLOSED = "closed"
    ROWS = "rows"


@dataclass(frozen=True)
class GateDecision:
    """Execution decision for one module of one layer.

    Args:
        kind: how the module runs.
        weight: ``(B, 1, 1)`` gate values, for ``SOFT`` only.
        rows: indices of the open rows, for ``ROWS`` only.
    """

    kind: GateKind
    weight: Optional[torch.Tensor] = None
    rows: Optional[torch.Tensor] = None


OPEN = GateDecision(GateKind.OPEN)
CLOSED = GateDecision(GateKind.CLOSED)


@dataclass
class GateMask:
    """Gates for a whole model; ``None`` leaves that part dense.

    Args:
        encoder: ``(B, L_enc, len(ENCODER_MODULES))``, 1 = module runs.
        decoder: ``(B, L_dec, len(DECODER_MODULES))``, 1 = module runs.
    """

    encoder: Optional[torch.Tensor] = None
    decoder: Optional[torch.Tensor] = None


def plan_gates(gates: torch.Tensor) -> list[list[GateDecision]]:
    """Turn a ``(B, L, M)`` gate tensor into per-layer, per-module decisions."""
    if gates.requires_grad and torch.is_grad_enabled():
        weights = gates[..., None, None]  # [B, L, M, 1, 1]
        num_layers, num_modules = gates.shape[1:]
        return [
            [
                GateDecision(GateKind.SOFT, weight=weights[:, i, j])
                for j in range(num_modules)
            ]
            for i in range(num_layers)
        ]
    is_open = gates > 0.5  # [B, L, M]
    counts = is_open.sum(0).tolist()  # one host sync for the whole stack
    batch = gates.size(0)
    plan = []
    for i, layer_counts in enumerate(counts):
        layer = []
        for j, count in enumerate(layer_counts):
            if count == batch:
                layer.append(OPEN)
            elif count == 0:
                layer.append(CLOSED)
            else:
                rows = is_open[:, i, j].nonzero().squeeze(1)
                layer.append(GateDecision(GateKind.ROWS, rows=rows))
        plan.append(layer)
    return plan


def fixed_plan(
    pruned_modules: Sequence[Sequence[str]],
    module_names: Sequence[str],
    num_layers: int,
    key: str,
) -> list[list[GateDecision]]:
    """Decisions of a pruned stack: listed modules ``CLOSED``, the others ``OPEN``.

    Args:
        pruned_modules: per layer, the names of its removed modules.
        module_names: the stack's module names (the M axis).
        num_layers: number of gated layers.
        key: the option's name, for error messages.
    Raises:
        ValueError: wrong number of layers or an unknown module name.
    """
    if len(pruned_modules) != num_layers:
        raise ValueError(
            f"{key}: needs one list per layer ({num_layers}), got {len(pruned_modules)}"
        )
    for layer, names in enumerate(pruned_modules):
        unknown = [name for name in names if name not in module_names]
        if unknown:
            raise ValueError(
                f"{key}[{layer}]: unknown module(s) {unknown}; "
                f"known: {list(module_names)}"
            )
    return [
        [CLOSED if name in names else OPEN for name in module_names]
        for names in pruned_modules
    ]


def take_rows(
    tensor: Optional[torch.Tensor], rows: Optional[torch.Tensor]
) -> Optional[torch.Tensor]:
    """Select batch rows; tensors broadcast over the batch (size 1) pass through."""
    if tensor is None or rows is None or tensor.size(0) == 1:
        return tensor
    return tensor.index_select(0, rows)


def run_gated(
    decision: GateDecision,
    branch: Callable[[Optional[torch.Tensor]], torch.Tensor],
    batch: int,
) -> Optional[torch.Tensor]:
    """Run ``branch(rows)`` as the decision says; ``None`` when nothing ran.

    Args:
        decision: the module's decision.
        branch: computes the module's output for the given rows (``None``: all rows).
        batch: the batch size of the full output.
    Returns:
        ``(B, T, D)`` output with closed rows set to zero, or ``None`` when the
        module is closed for every row.
    """
    if decision.kind is GateKind.OPEN:
        return branch(None)
    if decision.kind is GateKind.CLOSED:
        return None
    if decision.kind is GateKind.SOFT:
        return branch(None) * decision.weight
    partial = branch(decision.rows)
    out = partial.new_zeros((batch,) + tuple(partial.shape[1:]))
    return out.index_copy(0, decision.rows, partial)


def add_update(x: torch.Tensor, update: Optional[torch.Tensor]) -> torch.Tensor:
    """Residual add that skips a module that did not run."""
    return x if update is None else x + update


class GatedStackMixin:
    """Applies a ``(B, L, M)`` gate tensor to the layers of an encoder or decoder.

    The layers read their decisions from ``layer.gate_plan`` (``None``: stock path).
    Subclasses define ``gate_modules`` and ``gated_layers()``; their layers define
    ``module_attributes(name)`` (the submodules only that gated module uses).
    """

    gate_modules: Sequence[str] = ()
    # Decisions of a stack built with pruned_modules (None: not pruned).
    _fixed_plans: Optional[list[list[GateDecision]]] = None
    # The gate tensor in place, and the batch size its layer plans were made for.
    _gates: Optional[torch.Tensor] = None
    _planned_batch: Optional[int] = None

    def gated_layers(self) -> Sequence[torch.nn.Module]:
        """The layers that carry gates, in order."""
        raise NotImplementedError

    def num_gated_layers(self) -> int:
        """Number of gated layers (the L axis)."""
        return len(self.gated_layers())

    def remove_modules(self, pruned_modules: Sequence[Sequence[str]], key: str) -> None:
        """Delete closed modules for good: their submodules become ``None``.

        Args:
            pruned_modules: per layer, the names of the modules to remove.
            key: the option's name, for error messages.
        """
        layers = self.gated_layers()
        plans = fixed_plan(pruned_modules, self.gate_modules, len(layers), key)
        for layer, names in zip(layers, pruned_modules, strict=True):
            for name in names:
                for attr in layer.module_attributes(name):
                    setattr(layer, attr, None)
        self._fixed_plans = plans
        self.set_gates(None)

    def removed_modules(self) -> list[tuple[int, str]]:
        """``(layer, module name)`` of every removed module (none if not pruned)."""
        return [
            (layer, name)
            for layer, plan in enumerate(self._fixed_plans or [])
            for name, decision in zip(self.gate_modules, plan, strict=True)
            if decision is CLOSED
        ]

    def set_gates(self, gates: Optional[torch.Tensor]) -> None:
        """Apply gates until replaced; ``None`` restores the stock, dense path.

        A pruned stack always runs its fixed plan and accepts only ``None``.
        """
        layers = self.gated_layers()
        if gates is not None and self._fixed_plans is not None:
            raise ValueError(
                f"{type(self).__name__} was built with pruned_modules (fixed gates): "
                "it takes no gate tensor"
            )
        if gates is None:
            plans = self._fixed_plans or [None] * len(layers)
        else:
            expected = (len(layers), len(self.gate_modules))
            if gates.dim() != 3 or tuple(gates.shape[1:]) != expected:
                raise ValueError(
                    f"{type(self).__name__}: gates must have shape "
                    f"(batch, {expected[0]}, {expected[1]}), got {tuple(gates.shape)}"
                )
            plans = plan_gates(gates)
        self._gates = gates
        self._planned_batch = None if gates is None else gates.size(0)
        for layer, plan in zip(layers, plans, strict=True):
            layer.gate_plan = plan

    def expand_gates_to(self, batch: int) -> None:
        """Plan the gates in place for ``batch`` rows, utterance-major.

        A beam search over ``B`` utterances holds ``batch = B * K`` hypotheses,
        those of utterance ``b`` at rows ``b*K .. (b+1)*K - 1`` (ESPnet's
        ``BatchBeamSearch`` layout); each hypothesis takes its utterance's gates.
        One gate row (a single utterance or a shared context) needs nothing.

        Raises:
            ValueError: ``batch`` is not a multiple of the gates' batch.
        """
        gates = self._gates
        if gates is None or gates.size(0) == 1 or batch == self._planned_batch:
            return
        if batch % gates.size(0):
            raise ValueError(
                f"{type(self).__name__}: gates for {gates.size(0)} utterances cannot "
                f"be spread over {batch} hypotheses"
            )
        expanded = gates.repeat_interleave(batch // gates.size(0), dim=0)
        for layer, plan in zip(self.gated_layers(), plan_gates(expanded), strict=True):
            layer.gate_plan = plan
        self._planned_batch = batch

    @contextmanager
    def gates_applied(self, gates: Optional[torch.Tensor]) -> Iterator[None]:
        """Apply gates for the duration of a ``with`` block."""
        self.set_gates(gates)
        try:
            yield
        finally:
            self.set_gates(None)
