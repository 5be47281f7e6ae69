"""The gate contract: planning and execution of gate decisions."""

import pytest
import torch

from espnet_dynprune.nets.gate_contract import GateKind, plan_gates, run_gated


def test_plan_hard_gates_by_agreement():
    gates = torch.tensor([[[1.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]]])  # [B=2, L=1, M=3]
    kinds = [d.kind for d in plan_gates(gates)[0]]
    assert kinds == [GateKind.OPEN, GateKind.CLOSED, GateKind.ROWS]
    assert plan_gates(gates)[0][2].rows.tolist() == [0]


def test_plan_soft_when_gates_carry_gradients():
    gates = torch.ones(2, 1, 3, requires_grad=True)
    plan = plan_gates(gates)
    assert all(d.kind is GateKind.SOFT for d in plan[0])
    with torch.no_grad():
        assert plan_gates(gates)[0][0].kind is GateKind.OPEN


@pytest.mark.parametrize("gate", [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
def test_hard_execution_equals_soft_mask(gate):
    x = torch.randn(3, 4, 5)
    branch = torch.nn.Linear(5, 5)
    gates = torch.tensor(gate).view(3, 1, 1)
    hard = run_gated(
        plan_gates(gates)[0][0], lambda rows: branch(x if rows is None else x[rows]), 3
    )
    soft = branch(x) * gates.view(3, 1, 1)
    if hard is None:
        assert not gate[0] and not any(gate)
    else:
        torch.testing.assert_close(hard, soft)


def test_closed_rows_are_not_computed():
    seen = []
    gates = torch.tensor([1.0, 0.0, 1.0]).view(3, 1, 1)

    def branch(rows):
        seen.append(rows.tolist())
        return torch.ones(len(rows), 2, 2)

    out = run_gated(plan_gates(gates)[0][0], branch, 3)
    assert seen == [[0, 2]]
    assert out[1].abs().sum() == 0 and out[0].sum() == 4
