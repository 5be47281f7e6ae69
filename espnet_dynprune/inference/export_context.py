"""Per-context pruned export: one (language, task) baked into a smaller model.

In context-only mode (``gate_predictor_conf.acoustic: false``) the gates depend
only on the context, so for one (language, task) they are fixed. The export
computes them once and writes a plain directory:

* ``config.yaml``: the training config with ``model: espnet`` (no gate predictor,
  no sparsity loss) and ``encoder_conf.pruned_modules`` /
  ``decoder_conf.pruned_modules``: per layer, the modules the layer is built
  without (their submodules are ``None``), and ``decoder_conf.exported_context``:
  the context, so that decoding any other context is refused;
* ``model.pth``: the backbone weights without ``gating.*`` and without the removed
  modules' weights (a plain state dict of tensors, ``weights_only`` loadable);
* ``context.json``: the context, the gates, the removed modules and weight
  prefixes, parameter counts / bytes and file sizes against the source.

It loads through ESPnet's normal path after ``import espnet_dynprune`` (which
registers the gated encoder / decoder classes): ``S2TTask.build_model_from_file``
or ``espnet2.bin.s2t_inference.Speech2Text``. Files the config refers to by path
(BPE model, normalisation statistics) are not copied.
"""

import argparse
import copy
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

import torch
import yaml
from espnet2.tasks.s2t import S2TTask

from espnet_dynprune.models.dynprune_model import DynPruneModelMixin
from espnet_dynprune.models.gating import GATE_PREFIX, describe_gates
from espnet_dynprune.nets.gate_contract import GatedStackMixin, GateMask
from espnet_dynprune.nets.gated_transformer_decoder import GatedTransformerDecoder
from espnet_dynprune.tasks.gated_config import GATE_MODEL_OPTIONS
from espnet_dynprune.tasks.model_files import load_gated_model

__all__ = [
    "CONFIG_NAME",
    "CONTEXT_NAME",
    "MODEL_NAME",
    "export_context",
    "export_parameter_bytes",
    "pruned_config",
]

CONFIG_NAME = "config.yaml"
MODEL_NAME = "model.pth"
CONTEXT_NAME = "context.json"

logger = logging.getLogger(__name__)


def _pruned_lists(
    gates: Optional[torch.Tensor], names: Sequence[str]
) -> Optional[list[list[str]]]:
    """Per layer, the names of the closed modules of a ``(1, L, M)`` gate tensor."""
    if gates is None:
        return None
    lists: list[list[str]] = [[] for _ in range(gates.size(1))]
    for layer, name in _closed(gates, names):
        lists[layer].append(name)
    return lists


def pruned_config(
    config: dict[str, Any],
    model: DynPruneModelMixin,
    gates: GateMask,
    lang_sym: Optional[str],
    task_sym: Optional[str],
) -> dict[str, Any]:
    """The export's config: stock model class, fixed gates as ``pruned_modules``,
    the context as ``decoder_conf.exported_context`` (a gated decoder refuses
    prompts of other contexts).

    Args:
        config: the gated model's training config.
        model: the gated model built from it.
        gates: the context's gates (batch of one).
        lang_sym, task_sym: the context (``None``: the gates ignore it).
    """
    out = copy.deepcopy(config)
    out["model"] = "espnet"
    model_conf = config.get("model_conf") or {}
    out["model_conf"] = {
        k: v for k, v in model_conf.items() if k not in GATE_MODEL_OPTIONS
    }
    for part, stack in (("encoder", model.encoder), ("decoder", model.decoder)):
        lists = _pruned_lists(getattr(gates, part), getattr(stack, "gate_modules", ()))
        if lists is not None:
            out[f"{part}_conf"] = {**(config.get(f"{part}_conf") or {})}
            out[f"{part}_conf"]["pruned_modules"] = lists
    if isinstance(model.decoder, GatedTransformerDecoder):
        ids = {t: i for i, t in enumerate(model.token_list)}
        out["decoder_conf"] = {**(out.get("decoder_conf") or {})}
        out["decoder_conf"]["exported_context"] = {
            "sos_id": model.sos,
            "lang_sym": lang_sym,
            "lang_id": None if lang_sym is None else ids[lang_sym],
            "task_sym": task_sym,
            "task_id": None if task_sym is None else ids[task_sym],
        }
    return out


def _parameter_bytes(state: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def export_parameter_bytes(model: torch.nn.Module, gates: GateMask) -> int:
    """Bytes of the weights an export of ``model`` under ``gates`` would keep.

    The backbone (no ``gating.*``) less every submodule a closed module alone
    uses; equals the export's ``parameter_bytes`` without building it.

    Args:
        model: a stock or gated model.
        gates: gates with a batch of one (``None`` parts stay whole).
    """
    total = _parameter_bytes(
        {k: v for k, v in model.state_dict().items() if not k.startswith(GATE_PREFIX)}
    )
    for part in ("encoder", "decoder"):
        mask = getattr(gates, part)
        if mask is None:
            continue
        stack = getattr(model, part)
        layers = stack.gated_layers()
        for layer, name in _closed(mask, stack.gate_modules):
            for attr in layers[layer].module_attributes(name):
                total -= _parameter_bytes(getattr(layers[layer], attr).state_dict())
    return total


def _closed(mask: torch.Tensor, names: Sequence[str]) -> list[tuple[int, str]]:
    """``(layer, module name)`` closed in a ``(1, L, M)`` gate tensor."""
    return [
        (layer, name)
        for layer, row in enumerate((mask[0] > 0.5).tolist())
        for name, is_open in zip(names, row, strict=True)
        if not is_open
    ]


def _removed(model: torch.nn.Module) -> dict[str, list]:
    return {
        part: [[layer, name] for layer, name in stack.removed_modules()]
        for part, stack in (("encoder", model.encoder), ("decoder", model.decoder))
        if isinstance(stack, GatedStackMixin)
    }


def export_context(
    config_file: Union[str, Path],
    model_file: Union[str, Path],
    lang_sym: Optional[str],
    task_sym: Optional[str],
    out_dir: Union[str, Path],
) -> dict[str, Any]:
    """Write the pruned model of one (language, task) context to ``out_dir``.

    Args:
        config_file: the gated model's ``config.yaml`` (``model: dynprune``).
        model_file: its weights, with trained ``gating.*`` weights.
        lang_sym: language symbol such as ``<deu>`` (if the predictor uses it).
        task_sym: task symbol such as ``<st_eng>`` (if the predictor uses it).
        out_dir: the export directory (created).
    Returns:
        What ``context.json`` holds.
    Raises:
        ValueError: not a ``dynprune`` config, weights that do not match it, an
            acoustic predictor, an untrained predictor, or an unknown symbol.
    """
    config_file, model_file = Path(config_file), Path(model_file)
    out_dir = Path(out_dir)
    config, model = load_gated_model(config_file, model_file)
    with torch.no_grad():
        gates = model.context_gates(lang_sym, task_sym)
    export_config = pruned_config(config, model, gates, lang_sym, task_sym)
    pruned = S2TTask.build_model(argparse.Namespace(**export_config)).eval()
    source = model.state_dict()
    state = {key: source[key] for key in pruned.state_dict()}
    pruned.load_state_dict(state, strict=True)
    backbone = {k: v for k, v in source.items() if not k.startswith(GATE_PREFIX)}
    dropped = sorted(
        {".".join(key.split(".")[:4]) for key in set(backbone) - set(state)}
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / CONFIG_NAME, "w", encoding="utf-8") as f:
        yaml.safe_dump(export_config, f, sort_keys=False)
    torch.save(state, out_dir / MODEL_NAME)
    summary = {
        "lang_sym": lang_sym,
        "task_sym": task_sym,
        "gates": describe_gates(gates),
        "removed_modules": _removed(pruned),
        "dropped_weights": dropped,
        "source": {"config": str(config_file), "model": str(model_file)},
        "parameters": {
            "source_backbone": sum(t.numel() for t in backbone.values()),
            "export": sum(t.numel() for t in state.values()),
        },
        "parameter_bytes": {
            "source_backbone": _parameter_bytes(backbone),
            "export": _parameter_bytes(state),
        },
        "file_bytes": {
            "source": model_file.stat().st_size,
            "export": (out_dir / MODEL_NAME).stat().st_size,
        },
    }
    with open(out_dir / CONTEXT_NAME, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    logger.info(
        "%s %s: %d of %d backbone parameters kept, %s",
        lang_sym,
        task_sym,
        summary["parameters"]["export"],
        summary["parameters"]["source_backbone"],
        summary["gates"],
    )
    return summary
