"""Gated E-Branchformer encoder: ESPnet's encoder with four gates per layer.

Gates (``ENCODER_MODULES``): macaron FFN, self-attention, cgMLP, FFN.

What a closed module means:

* macaron FFN / FFN: the residual update is skipped (``x + 0``); the layer norm
  in front of it is not computed either.
* self-attention / cgMLP: the branch output is zero. E-Branchformer merges the
  two branches as ``merge_proj(c + fusion_conv(c))`` with ``c = [att ; mlp]``. The
  fusion conv is depthwise, so a zero half of ``c`` only contributes the conv's
  bias, and ``merge_proj`` is linear, so the closed half reduces to a constant
  vector. The open half is convolved and projected with its own slices of the
  weights; with both branches closed the merge adds one constant vector. This is
  exactly the value of soft gating with a zero gate, at the cost of the open half.
  A ``merge_proj`` that is not a plain ``torch.nn.Linear`` (e.g. after ESPnet's
  ``quantize_s2t_model``: a dynamically quantized Linear without weight tensors)
  runs as a module on the concatenation, the closed halves as that constant.

With ``gradient_checkpoint_layers`` and gates applied, a gated layer checkpoints
itself with its gate plan as an argument: the recomputation in backward runs after
``gates_applied`` has cleared ``gate_plan``, so ESPnet's loop must not do it.

The state-dict names are ESPnet's own, so stock checkpoints load unchanged, and
with no gates applied (``set_gates(None)``) every layer runs ESPnet's code.

``pruned_modules`` (one list of module names per layer) builds the encoder
without those modules: a per-context export, whose layers always run that plan.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from espnet2.asr.encoder.e_branchformer_encoder import (
    EBranchformerEncoder,
    EBranchformerEncoderLayer,
)
from espnet2.asr.layers.fastformer import FastSelfAttention
from typeguard import typechecked

from espnet_dynprune.compat.espnet_release import mask_merge_input
from espnet_dynprune.nets.gate_contract import (
    CLOSED,
    ENCODER_MODULES,
    GateDecision,
    GatedStackMixin,
    add_update,
    run_gated,
    take_rows,
)

__all__ = ["GatedEBranchformerEncoder", "GatedEBranchformerEncoderLayer"]

# Submodules used only by each gated module (a closed FFN skips its norm too).
_MODULE_ATTRIBUTES = dict(
    zip(
        ENCODER_MODULES,
        (
            ("feed_forward_macaron", "norm_ff_macaron"),
            ("attn", "norm_mha"),
            ("cgmlp", "norm_mlp"),
            ("feed_forward", "norm_ff"),
        ),
        strict=True,
    )
)


class GatedEBranchformerEncoderLayer(EBranchformerEncoderLayer):
    """E-Branchformer layer that honours ``gate_plan`` (see :mod:`.gate_contract`).

    Created by re-classing ESPnet's layer in place (no new parameters).
    """

    gate_plan = None
    # the gated modules this layer has (no FFN gates with use_ffn / macaron_ffn off)
    present_modules: tuple[str, ...] = ENCODER_MODULES
    # set by the encoder for one forward: checkpoint this layer's gated path
    checkpoint_gated = False
    # (weight versions, {open half: _MergeSlice}): inference-time merge slices
    _merge_cache = None

    def forward(self, x_input, mask, cache=None):
        """ESPnet's contract: ``x_input`` is ``(B, T, D)`` or ``(x, pos_emb)``."""
        plan = self.gate_plan
        if plan is None:
            return super().forward(x_input, mask, cache)
        if cache is not None:
            raise NotImplementedError("cache is not supported")
        if self.checkpoint_gated:
            # the plan is an argument: backward recomputes with the same gates
            return torch.utils.checkpoint.checkpoint(
                self._gated_forward, x_input, mask, plan, use_reentrant=False
            )
        return self._gated_forward(x_input, mask, plan)

    def _gated_forward(
        self,
        x_input: Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]],
        mask: torch.Tensor,
        plan: Sequence[GateDecision],
    ) -> tuple[Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
        """``forward`` under ``plan`` (one decision per present module)."""
        x, pos_emb = x_input if isinstance(x_input, tuple) else (x_input, None)
        decisions = dict(zip(self.present_modules, plan, strict=True))
        # a module the layer does not have is skipped, as ESPnet skips it
        macaron, attention, cgmlp, ffn = (
            decisions.get(name, CLOSED) for name in ENCODER_MODULES
        )
        batch = x.size(0)

        def macaron_ffn(rows):
            h = self.norm_ff_macaron(take_rows(x, rows))
            return self.ff_scale * self.dropout(self.feed_forward_macaron(h))

        def self_attention(rows):
            h = self.norm_mha(take_rows(x, rows))
            return self.dropout(self._self_attention(h, take_rows(mask, rows), pos_emb))

        def cgmlp_branch(rows):
            h = self.norm_mlp(take_rows(x, rows))
            return self.dropout(self._cgmlp(h, take_rows(mask, rows), pos_emb))

        def feed_forward(rows):
            h = self.norm_ff(take_rows(x, rows))
            return self.ff_scale * self.dropout(self.feed_forward(h))

        x = add_update(x, run_gated(macaron, macaron_ffn, batch))
        x_att = run_gated(attention, self_attention, batch)
        x_mlp = run_gated(cgmlp, cgmlp_branch, batch)
        x = x + self.dropout(self._merge(x_att, x_mlp, mask).expand_as(x))
        x = add_update(x, run_gated(ffn, feed_forward, batch))
        x = self.norm_final(x)
        if pos_emb is not None:
            return (x, pos_emb), mask
        return x, mask

    def module_attributes(self, name: str) -> tuple[str, ...]:
        """Submodules that only the gated module ``name`` uses."""
        return _MODULE_ATTRIBUTES[name]

    def _self_attention(
        self, x: torch.Tensor, mask: torch.Tensor, pos_emb: Optional[torch.Tensor]
    ) -> torch.Tensor:
        if isinstance(self.attn, FastSelfAttention):
            return self.attn(x, mask)
        if pos_emb is not None:
            return self.attn(x, x, x, pos_emb, mask)
        return self.attn(x, x, x, mask)

    def _cgmlp(
        self, x: torch.Tensor, mask: torch.Tensor, pos_emb: Optional[torch.Tensor]
    ) -> torch.Tensor:
        out = self.cgmlp((x, pos_emb) if pos_emb is not None else x, mask)
        return out[0] if isinstance(out, tuple) else out

    def _merge(
        self,
        x_att: Optional[torch.Tensor],
        x_mlp: Optional[torch.Tensor],
        mask: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """``merge_proj(c + fusion(c))`` with ``c = [x_att ; x_mlp]``, None = zeros.

        The fusion conv's input is masked as the installed ESPnet masks it.
        """
        if x_att is not None and x_mlp is not None:
            x_concat = torch.cat([x_att, x_mlp], dim=-1)
            x_tmp = mask_merge_input(x_concat.transpose(1, 2), mask)
            x_tmp = self.depthwise_conv_fusion(x_tmp).transpose(1, 2)
            return self.merge_proj(x_concat + x_tmp)
        if type(self.merge_proj) is not torch.nn.Linear:
            return self._merge_through_module(x_att, x_mlp, mask)
        half = 0 if x_att is not None else 1 if x_mlp is not None else None
        weights = self._split_merge(half)
        if half is None:
            return weights.bias  # both branches closed: one constant vector
        branch = x_att if half == 0 else x_mlp
        fused = self._fuse_half(branch, half, mask)
        return F.linear(fused, weights.proj_weight, weights.bias)

    def _merge_through_module(
        self,
        x_att: Optional[torch.Tensor],
        x_mlp: Optional[torch.Tensor],
        mask: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """``_merge`` by calling ``merge_proj`` (its weights cannot be sliced, e.g. a
        dynamically quantized Linear) on ``c + fusion(c)``, a closed half being the
        fusion conv's bias: ESPnet's merge of a zero branch, without its conv.
        """
        conv_bias = self.depthwise_conv_fusion.bias
        if x_att is None and x_mlp is None:
            return self.merge_proj(conv_bias[None])  # one constant row
        shape = (x_att if x_att is not None else x_mlp).shape
        halves = [
            conv_bias[half * self.size : (half + 1) * self.size].expand(shape)
            if branch is None
            else self._fuse_half(branch, half, mask)
            for half, branch in enumerate((x_att, x_mlp))
        ]
        return self.merge_proj(torch.cat(halves, dim=-1))

    def _fuse_half(
        self, branch: torch.Tensor, half: int, mask: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """``c + fusion(c)`` on one half of ``c``: the depthwise conv's own channels."""
        conv = self.depthwise_conv_fusion
        cols = slice(half * self.size, (half + 1) * self.size)
        fused = F.conv1d(
            mask_merge_input(branch.transpose(1, 2), mask),
            conv.weight[cols],
            conv.bias[cols],
            padding=conv.padding,
            groups=self.size,
        )
        return branch + fused.transpose(1, 2)

    def _split_merge(self, half: Optional[int]) -> "_MergeSlice":
        """``merge_proj``'s weights for one open half (``None``: none open).

        At inference the slices are cached, contiguous, per weight version, so a
        closed branch costs no slicing per call; while gradients flow into the
        merge (training) they are sliced from the live parameters.
        """
        conv, proj = self.depthwise_conv_fusion, self.merge_proj
        tensors = (conv.bias, proj.weight, proj.bias)
        if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
            return _slice_merge(conv, proj, self.size, half)
        version = tuple((t.data_ptr(), t._version) for t in tensors)
        cache = self._merge_cache
        if cache is None or cache[0] != version:
            cache = self._merge_cache = (version, {})
        if half not in cache[1]:
            # ordinary tensors even under inference_mode: usable by any later call
            with torch.inference_mode(False), torch.no_grad():
                cache[1][half] = _slice_merge(conv, proj, self.size, half).contiguous()
        return cache[1][half]


@dataclass(frozen=True)
class _MergeSlice:
    """``merge_proj`` with some branches closed (``proj_weight``: open half's columns).

    ``bias`` folds ``merge_proj``'s bias and the closed halves' constant
    contribution (the fusion conv's bias projected through their columns).
    """

    proj_weight: Optional[torch.Tensor]
    bias: torch.Tensor

    def contiguous(self) -> "_MergeSlice":
        """Detached, contiguous copies (for the inference cache)."""
        weight = self.proj_weight
        weight = None if weight is None else weight.detach().contiguous()
        return _MergeSlice(weight, self.bias.detach().contiguous())


def _slice_merge(
    conv: torch.nn.Conv1d, proj: torch.nn.Linear, size: int, half: Optional[int]
) -> _MergeSlice:
    """Slice the merge for an open ``half`` (0: attention, 1: cgMLP, None: none)."""
    bias = proj.bias
    for closed in range(2):
        if closed != half:  # zero input: the depthwise conv yields its bias
            cols = slice(closed * size, (closed + 1) * size)
            bias = bias + F.linear(conv.bias[cols], proj.weight[:, cols])
    if half is None:
        return _MergeSlice(None, bias)
    cols = slice(half * size, (half + 1) * size)
    return _MergeSlice(proj.weight[:, cols], bias)


class GatedEBranchformerEncoder(GatedStackMixin, EBranchformerEncoder):
    """``EBranchformerEncoder`` with a gate per module per layer.

    Takes every option of ESPnet's ``e_branchformer`` encoder (same YAML keys, same
    state-dict names). A module the layers do not have has no gate:
    ``gate_modules`` is ``ENCODER_MODULES`` without the FFNs that ``use_ffn`` /
    ``macaron_ffn`` switch off (both are on in OWSM v3.1).

    Args:
        input_size: input feature size.
        *args: ESPnet's ``EBranchformerEncoder`` options, in its order.
        pruned_modules: per layer, names from ``gate_modules`` to build
            without (a per-context export); ``None`` keeps every module.
        **kwargs: every option of ESPnet's ``EBranchformerEncoder``.
    """

    gate_modules = ENCODER_MODULES

    @typechecked
    def __init__(
        self,
        input_size: int,
        *args,
        pruned_modules: Optional[list[list[str]]] = None,
        **kwargs,
    ) -> None:
        super().__init__(input_size, *args, **kwargs)
        first = self.encoders[0]
        self.gate_modules = tuple(
            name
            for name, attributes in _MODULE_ATTRIBUTES.items()
            if getattr(first, attributes[0]) is not None
        )
        self.input_size = input_size
        for layer in self.encoders:
            layer.__class__ = GatedEBranchformerEncoderLayer
            layer.present_modules = self.gate_modules
        if pruned_modules is not None:
            self.remove_modules(pruned_modules, "encoder_conf.pruned_modules")

    def gated_layers(self) -> Sequence[torch.nn.Module]:
        """The E-Branchformer layers, in order."""
        return list(self.encoders)

    def forward(
        self, xs_pad: torch.Tensor, ilens: torch.Tensor, *args, **kwargs
    ) -> tuple:
        """ESPnet's ``forward``; gated layers in ``gradient_checkpoint_layers``
        checkpoint themselves (with their plan), the others as ESPnet does."""
        stock = self.gradient_checkpoint_layers
        # ESPnet's index of layer i is i + 1 (0: the input layer)
        gated = {
            index
            for index, layer in enumerate(self.encoders, start=1)
            if index in stock and layer.gate_plan is not None
        }
        if not gated:
            return super().forward(xs_pad, ilens, *args, **kwargs)
        self.gradient_checkpoint_layers = [i for i in stock if i not in gated]
        for index, layer in enumerate(self.encoders, start=1):
            layer.checkpoint_gated = index in gated
        try:
            return super().forward(xs_pad, ilens, *args, **kwargs)
        finally:
            self.gradient_checkpoint_layers = stock
            for layer in self.encoders:
                layer.checkpoint_gated = False
