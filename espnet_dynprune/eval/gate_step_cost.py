"""Cost of one training step of a gated OWSM-shaped model: time, FLOPs, memory.

One step = forward + backward + AdamW update on a batch of OWSM-style inputs
(every utterance padded to the same length, as OWSM's 30 s). ``gate_only``
freezes the backbone the way ESPnet's ``--freeze_param`` does (parameters of
``frontend normalize encoder decoder ctc`` get ``requires_grad = False``), so
only ``gating.*`` is trained; ``joint`` trains everything. Memory is counted in
tensor bytes: weights, gradients, optimizer state, and the activations autograd
saves for the backward pass (``saved_tensors_hooks``).
"""

import argparse
import statistics
import time
from dataclasses import asdict, dataclass

import torch
from espnet2.tasks.s2t import S2TTask
from torch.utils.flop_counter import FlopCounterMode

from espnet_dynprune.eval.benchmark import ModelShape, build_models

__all__ = ["FROZEN", "StepCost", "as_row", "measure_step"]

FROZEN = ("frontend", "normalize", "encoder", "decoder", "ctc")
"""Prefixes frozen for gate-only training (the recipes' ``--freeze_param``)."""

_MB = 2**20


@dataclass(frozen=True)
class StepCost:
    """Measured cost of one training step (times in s, sizes in MiB).

    ``encode_*``: the encoder's forward on the same batch without gradients
    (the bulk of inference for 30 s inputs), for comparison.
    """

    shape: str
    mode: str
    batch: int
    seconds_audio: float
    step_s: float
    encode_s: float
    train_gflops: float
    encode_gflops: float
    params_m: float
    trainable_m: float
    weights_mb: float
    grads_mb: float
    optimizer_mb: float
    activations_mb: float


def _batch(model: torch.nn.Module, batch: int, seconds: float) -> dict:
    ids = {t: i for i, t in enumerate(model.token_list)}
    prefix = [ids["<deu>"], ids["<st_eng>"], ids["<notimestamps>"]]
    pieces = list(range(len(ids) - 40, len(ids) - 10))  # 30 ordinary tokens
    text = torch.tensor([prefix + pieces] * batch)
    samples = int(seconds * 16000)
    generator = torch.Generator().manual_seed(0)
    return dict(
        speech=torch.randn(batch, samples, generator=generator),
        speech_lengths=torch.full((batch,), samples),
        text=text,
        text_lengths=torch.full((batch,), text.size(1)),
        text_prev=torch.full((batch, 1), ids["<na>"]),
        text_prev_lengths=torch.ones(batch, dtype=torch.long),
        text_ctc=torch.tensor([pieces] * batch),
        text_ctc_lengths=torch.full((batch,), len(pieces)),
    )


def _bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def _saved_activation_bytes(step) -> int:
    """Bytes autograd keeps for the backward pass of ``step`` (distinct storages)."""
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        if not isinstance(tensor, torch.nn.Parameter):
            storage = tensor.untyped_storage()
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        step()
    return sum(seen.values())


def measure_step(
    shape: ModelShape,
    mode: str,
    batch: int = 2,
    seconds: float = 30.0,
    repeats: int = 3,
) -> StepCost:
    """Median step time over ``repeats`` steps after one warm-up, and the sizes.

    Raises:
        ValueError: ``mode`` is neither ``gate_only`` nor ``joint``.
    """
    if mode not in ("gate_only", "joint"):
        raise ValueError(f"mode must be gate_only or joint, got {mode!r}")
    model = build_models(shape)["gated"]
    if mode == "gate_only":
        for name, param in model.named_parameters():
            if name.split(".", 1)[0] in FROZEN:
                param.requires_grad = False
    args = argparse.Namespace(
        optim="adamw",
        optim_conf={"lr": 1e-4},
        sharded_ddp=False,
        exclude_weight_decay=False,
    )
    (optimizer,) = S2TTask.build_optimizers(args, model)
    inputs = _batch(model, batch, seconds)
    model.train()

    def step() -> None:
        optimizer.zero_grad()
        loss, _, _ = model(**inputs)
        loss.backward()
        optimizer.step()

    def forward_only() -> None:
        loss, _, _ = model(**inputs)
        loss.backward()

    activations = _saved_activation_bytes(forward_only)
    with FlopCounterMode(display=False) as counter:
        step()
    train_flops = counter.get_total_flops()
    times: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.encode(inputs["speech"], inputs["speech_lengths"])
    encode_flops = counter.get_total_flops()
    with torch.no_grad():
        start = time.perf_counter()
        model.encode(inputs["speech"], inputs["speech_lengths"])
        encode_s = time.perf_counter() - start
    trainable = [p for p in model.parameters() if p.requires_grad]
    state = [t for s in optimizer.state.values() for t in s.values() if t.dim() > 0]
    return StepCost(
        shape=shape.name,
        mode=mode,
        batch=batch,
        seconds_audio=seconds,
        step_s=statistics.median(times),
        encode_s=encode_s,
        train_gflops=train_flops / 1e9,
        encode_gflops=encode_flops / 1e9,
        params_m=sum(p.numel() for p in model.parameters()) / 1e6,
        trainable_m=sum(p.numel() for p in trainable) / 1e6,
        weights_mb=_bytes(model.parameters()) / _MB,
        grads_mb=_bytes(p.grad for p in model.parameters() if p.grad is not None) / _MB,
        optimizer_mb=_bytes(state) / _MB,
        activations_mb=activations / _MB,
    )


def as_row(cost: StepCost) -> dict:
    """The cost as a flat dict (JSON / table row)."""
    return asdict(cost)
