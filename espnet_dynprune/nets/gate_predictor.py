"""Context-aware gate predictor (Someki et al., ICLR 2025).

Input: language and task embeddings and, optionally, time-pooled input features.
Output: one ``(closed, open)`` logit pair per gate. Training draws hard gates with
a straight-through Gumbel-Softmax whose temperature anneals with the number of
training forward passes; inference takes the deterministic ``argmax``.

The Gumbel noise is scaled by ``temperature / temperature_start``. With torch's
``gumbel_softmax`` the hard sample ``argmax(logits + g)`` does not depend on the
temperature, so the sparsity loss can be met by undecided gates (logits near a
tie) that the inference ``argmax`` then resolves arbitrarily: measured inference
sparsity drifted 0.07 from the target on the tiny test model. Shrinking the noise
with the temperature makes late training see nearly the inference gates.
"""

import math
from typing import Optional

import torch
import torch.nn.functional as F

from espnet_dynprune.nets.context_vocabulary import ContextVocabulary
from espnet_dynprune.nets.gate_config import GatePredictorConfig

__all__ = ["GatePredictor"]


class GatePredictor(torch.nn.Module):
    """Predicts ``num_gates`` binary gates per utterance, 1 = module runs.

    Args:
        config: predictor options.
        vocabulary: language / task symbols of the model's token list.
        num_gates: total number of gates (all gated layers and modules).
        feature_dim: size of the pooled acoustic features (``config.acoustic``).
    """

    def __init__(
        self,
        config: GatePredictorConfig,
        vocabulary: ContextVocabulary,
        num_gates: int,
        feature_dim: Optional[int] = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.num_gates = num_gates
        self.lang_embed = (
            torch.nn.Embedding(len(vocabulary.languages), config.embed_dim)
            if "lang" in config.context
            else None
        )
        self.task_embed = (
            torch.nn.Embedding(len(vocabulary.tasks), config.embed_dim)
            if "task" in config.context
            else None
        )
        if config.acoustic and feature_dim is None:
            raise ValueError("gate_predictor_conf.acoustic needs the feature size")
        self.acoustic_proj = (
            torch.nn.Linear(feature_dim, config.embed_dim) if config.acoustic else None
        )
        num_inputs = len(config.context) + int(config.acoustic)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(num_inputs * config.embed_dim, config.hidden_dim),
            torch.nn.ReLU(),
            torch.nn.Linear(config.hidden_dim, num_gates * 2),
        )
        # Training forward passes so far; drives the temperature and tells a
        # trained predictor from a fresh one (it is saved with the checkpoint).
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))
        self.espnet_initialization_fn()

    def espnet_initialization_fn(self) -> None:
        """Start with every gate open; ESPnet's ``--init`` calls this after its own."""
        last = self.mlp[-1]
        torch.nn.init.normal_(last.weight, std=0.01)
        with torch.no_grad():
            last.bias.view(-1, 2).copy_(
                torch.tensor([0.0, self.config.init_open_logit])
            )

    def temperature(self) -> float:
        """Gumbel-Softmax temperature after ``num_updates`` training passes."""
        cfg = self.config
        progress = min(1.0, self.num_updates.item() / cfg.temperature_anneal_steps)
        ratio = math.log(cfg.temperature_end / cfg.temperature_start)
        return cfg.temperature_start * math.exp(ratio * progress)

    def logits(
        self,
        lang: Optional[torch.Tensor] = None,
        task: Optional[torch.Tensor] = None,
        pooled_features: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """``(B, G, 2)`` logits from ``(B,)`` indices and ``(B, F)`` features."""
        inputs = []
        if self.lang_embed is not None:
            inputs.append(self.lang_embed(lang))
        if self.task_embed is not None:
            inputs.append(self.task_embed(task))
        if self.acoustic_proj is not None:
            inputs.append(self.acoustic_proj(pooled_features))
        hidden = torch.cat(inputs, dim=-1)  # [B, n_inputs * E]
        return self.mlp(hidden).view(hidden.size(0), self.num_gates, 2)

    def forward(
        self,
        lang: Optional[torch.Tensor] = None,
        task: Optional[torch.Tensor] = None,
        pooled_features: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """``(B, G)`` gates: straight-through samples in training, else argmax."""
        logits = self.logits(lang, task, pooled_features)
        if not self.training:
            return (logits[..., 1] > logits[..., 0]).to(logits.dtype)
        tau = self.temperature()
        self.num_updates += 1
        noise = -torch.empty_like(logits).exponential_().log()  # Gumbel(0, 1)
        scale = tau / self.config.temperature_start
        soft = F.softmax((logits + scale * noise) / tau, dim=-1)
        hard = F.one_hot(soft.argmax(-1), 2).to(soft.dtype)
        return (hard - soft.detach() + soft)[..., 1]  # straight-through
