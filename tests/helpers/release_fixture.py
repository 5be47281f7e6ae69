"""Packed tiny gated models made under each supported ESPnet release.

``PYTHONPATH=tests python -m helpers.release_fixture``, run once in each release
line's environment, trains a tiny gated model for a few steps, packs it and
records what it decodes, in ``tests/fixtures/releases/espnet-<version>/``
(``model.zip``, ``hypotheses.json``). ``tests/compat/test_release_portability.py``
decodes every such package under the installed release and compares: a model
trained and packed under one release decodes identically under the other.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from espnet_dynprune.compat.espnet_release import ESPNET_VERSION
from espnet_dynprune.inference.speech2text import Speech2Text
from espnet_dynprune.packaging.pack import pack_model
from espnet_dynprune.tasks.model_files import load_gated_model

from helpers.model_factory import make_batch, write_gated_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "releases"
CONTEXTS = (("<deu>", "<st_eng>"), ("<eng>", "<asr>"))
TRAIN_STEPS = 20


def utterances() -> list[torch.Tensor]:
    """The audio every package is decoded on (the training batch's first two)."""
    return list(make_batch(batch=2)["speech"])


def decode(s2t: Speech2Text) -> list[dict]:
    """Per (utterance, context): the n-best token ids, scores and active modules."""
    records = []
    for index, speech in enumerate(utterances()):
        for lang, task in CONTEXTS:
            nbest = s2t(speech, lang_sym=lang, task_sym=task)
            records.append(
                {
                    "utterance": index,
                    "context": lang + task,
                    "tokens": [hyp[2] for hyp in nbest],
                    "scores": [float(hyp[4].score) for hyp in nbest],
                    "active_modules": s2t.active_modules(),
                }
            )
    return records


def load(package: Path) -> Speech2Text:
    """``from_pretrained`` with the settings the records were made with."""
    return Speech2Text.from_pretrained(str(package), beam_size=2, nbest=2)


def _train(config: Path, model_file: Path) -> None:
    """A few Adam steps of gated training on the toy batch (ESPnet's forward)."""
    torch.manual_seed(0)
    _, model = load_gated_model(config, model_file)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = make_batch(batch=4)
    for _ in range(TRAIN_STEPS):
        optimizer.zero_grad()
        loss, _, _ = model(**batch)
        loss.backward()
        optimizer.step()
    torch.save(model.state_dict(), model_file)


def main() -> None:
    """Write this release's fixture directory."""
    out = FIXTURES / f"espnet-{ESPNET_VERSION}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        config, model_file = write_gated_model(Path(tmp))
        _train(config, model_file)
        package = pack_model(config, model_file, out / "model.zip", repo_id="t/t")
    records = {
        "made_with": {"espnet": ESPNET_VERSION, "torch": str(torch.__version__)},
        "hypotheses": decode(load(package)),
    }
    (out / "hypotheses.json").write_text(json.dumps(records, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
