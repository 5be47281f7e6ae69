"""Gate predictor: straight-through training path, deterministic inference path."""

import pytest
import torch
from espnet2.torch_utils.initialize import initialize

from espnet_dynprune.nets.context_vocabulary import ContextVocabulary
from espnet_dynprune.nets.gate_config import GatePredictorConfig
from espnet_dynprune.nets.gate_predictor import GatePredictor

from helpers.model_factory import TOKENS


@pytest.fixture()
def vocabulary():
    return ContextVocabulary(TOKENS)


def _predictor(vocabulary, **conf):
    return GatePredictor(GatePredictorConfig(**conf), vocabulary, num_gates=6)


def test_vocabulary_finds_languages_and_tasks(vocabulary):
    assert vocabulary.languages == ["<eng>", "<deu>", "<fra>"]
    assert vocabulary.tasks == ["<asr>", "<st_eng>"]


def test_unknown_context_token_names_position_not_token(vocabulary):
    ids = torch.tensor([TOKENS.index("<deu>"), TOKENS.index("q")])
    with pytest.raises(ValueError, match=r"position \[1\].*known") as error:
        vocabulary.indices(ids, "lang")
    assert "'q'" not in str(error.value)


def test_unknown_symbol_lists_known(vocabulary):
    with pytest.raises(ValueError, match="<xyz>.*<deu>"):
        vocabulary.symbol_index("<xyz>", "lang")


def test_starts_open_and_is_deterministic_in_eval(vocabulary):
    predictor = _predictor(vocabulary).eval()
    lang, task = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1])
    first = predictor(lang, task)
    assert first.shape == (3, 6) and torch.equal(first, torch.ones(3, 6))
    assert torch.equal(first, predictor(lang, task))
    assert int(predictor.num_updates) == 0


def test_training_gates_are_hard_and_pass_gradients(vocabulary):
    predictor = _predictor(vocabulary, init_open_logit=0.0).train()
    gates = predictor(torch.tensor([0, 1]), torch.tensor([1, 0]))
    assert set(gates.unique().tolist()) <= {0.0, 1.0}
    gates.sum().backward()
    assert predictor.mlp[-1].weight.grad.abs().sum() > 0
    assert int(predictor.num_updates) == 1


def test_temperature_anneals_exponentially(vocabulary):
    predictor = _predictor(
        vocabulary,
        temperature_start=1.0,
        temperature_end=0.01,
        temperature_anneal_steps=4,
    )
    temps = []
    for _ in range(6):
        temps.append(predictor.temperature())
        predictor.num_updates += 1
    assert temps[0] == pytest.approx(1.0)
    assert temps[2] == pytest.approx(0.1)
    assert temps[4] == pytest.approx(0.01) and temps[5] == pytest.approx(0.01)


def test_acoustic_input(vocabulary):
    conf = GatePredictorConfig(context=(), acoustic=True)
    predictor = GatePredictor(conf, vocabulary, num_gates=6, feature_dim=20).eval()
    assert predictor(pooled_features=torch.randn(2, 20)).shape == (2, 6)


def test_espnet_init_keeps_gates_open(vocabulary):
    model = torch.nn.Module()
    model.predictor = _predictor(vocabulary)
    initialize(model, "xavier_uniform")
    gates = model.predictor.eval()(torch.tensor([0]), torch.tensor([0]))
    assert torch.equal(gates, torch.ones(1, 6))
