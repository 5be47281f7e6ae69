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

The state-dict names are ESPnet's own, so stock checkpoints load unchanged, and
with no gates applied (``set_gates(None)``) every layer runs ESPnet's code.
"""

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from espnet2.asr.encoder.e_branchformer_encoder import (
    EBranchformerEncoder,
    EBranchformerEncoderLayer,
)
from espnet2.asr.layers.fastformer import FastSelfAttention
from typeguard import typechecked

from espnet_dynprune.gates import (
    ENCODER_MODULES,
    GatedStackMixin,
    add_update,
    run_gated,
    take_rows,
)

__all__ = ["GatedEBranchformerEncoder", "GatedEBranchformerEncoderLayer"]


class GatedEBranchformerEncoderLayer(EBranchformerEncoderLayer):
    """E-Branchformer layer that honours ``gate_plan`` (see ``espnet_dynprune.gates``).

    Created by re-classing ESPnet's layer in place (no new parameters).
    """

    gate_plan = None

    def forward(self, x_input, mask, cache=None):
        """ESPnet's contract: ``x_input`` is ``(B, T, D)`` or ``(x, pos_emb)``."""
        plan = self.gate_plan
        if plan is None:
            return super().forward(x_input, mask, cache)
        if cache is not None:
            raise NotImplementedError("cache is not supported")
        x, pos_emb = x_input if isinstance(x_input, tuple) else (x_input, None)
        macaron, attention, cgmlp, ffn = plan
        batch = x.size(0)

        x = add_update(
            x,
            run_gated(
                macaron,
                lambda rows: (
                    self.ff_scale
                    * self.dropout(
                        self.feed_forward_macaron(
                            self.norm_ff_macaron(take_rows(x, rows))
                        )
                    )
                ),
                batch,
            ),
        )
        x_att = run_gated(
            attention,
            lambda rows: self.dropout(
                self._self_attention(
                    self.norm_mha(take_rows(x, rows)), take_rows(mask, rows), pos_emb
                )
            ),
            batch,
        )
        x_mlp = run_gated(
            cgmlp,
            lambda rows: self.dropout(
                self._cgmlp(
                    self.norm_mlp(take_rows(x, rows)), take_rows(mask, rows), pos_emb
                )
            ),
            batch,
        )
        x = x + self.dropout(self._merge(x_att, x_mlp).expand_as(x))
        x = add_update(
            x,
            run_gated(
                ffn,
                lambda rows: (
                    self.ff_scale
                    * self.dropout(self.feed_forward(self.norm_ff(take_rows(x, rows))))
                ),
                batch,
            ),
        )
        x = self.norm_final(x)
        if pos_emb is not None:
            return (x, pos_emb), mask
        return x, mask

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
        self, x_att: Optional[torch.Tensor], x_mlp: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """``merge_proj(c + fusion(c))`` with ``c = [x_att ; x_mlp]``, None = zeros."""
        if x_att is not None and x_mlp is not None:
            x_concat = torch.cat([x_att, x_mlp], dim=-1)
            x_tmp = self.depthwise_conv_fusion(x_concat.transpose(1, 2)).transpose(1, 2)
            return self.merge_proj(x_concat + x_tmp)
        conv = self.depthwise_conv_fusion
        weight = self.merge_proj.weight
        out = self.merge_proj.bias
        for half, branch in enumerate((x_att, x_mlp)):
            cols = slice(half * self.size, (half + 1) * self.size)
            if branch is None:  # zero input: the depthwise conv yields its bias
                out = out + F.linear(conv.bias[cols], weight[:, cols])
                continue
            fused = F.conv1d(
                branch.transpose(1, 2),
                conv.weight[cols],
                conv.bias[cols],
                padding=conv.padding,
                groups=self.size,
            ).transpose(1, 2)
            out = out + F.linear(branch + fused, weight[:, cols])
        return out


class GatedEBranchformerEncoder(GatedStackMixin, EBranchformerEncoder):
    """``EBranchformerEncoder`` with a gate per module per layer.

    Takes every option of ESPnet's ``e_branchformer`` encoder (same YAML keys, same
    state-dict names). Gates need both FFNs, so ``use_ffn`` and ``macaron_ffn``
    must be true (as in OWSM v3.1).
    """

    gate_modules = ENCODER_MODULES

    @typechecked
    def __init__(self, input_size: int, **kwargs) -> None:
        for key in ("use_ffn", "macaron_ffn"):
            if not kwargs.get(key, False):
                raise ValueError(
                    f"encoder_conf.{key} must be true for gated_e_branchformer: "
                    "the macaron FFN and FFN gates need both feed-forward modules"
                )
        super().__init__(input_size=input_size, **kwargs)
        self.input_size = input_size
        for layer in self.encoders:
            layer.__class__ = GatedEBranchformerEncoderLayer

    def gated_layers(self) -> Sequence[torch.nn.Module]:
        """The E-Branchformer layers, in order."""
        return list(self.encoders)
