"""BackwardTrace: one record per backward node, in visiting order, with the gradients it received and handed on."""

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.autograd import BackwardTrace


def test_records_follow_a_chain_with_closed_form_gradients():
    x = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
    with BackwardTrace(names={"x": x}) as trace:
        y = (x * 2).exp()
        loss = y.sum()
        loss.backward()
    ops = [r.op for r in trace.records]
    assert ops == ["Sum", "Exp", "Mul"]
    assert [r.step for r in trace.records] == [1, 2, 3]
    e = np.exp(2 * np.array([1.0, -2.0, 3.0]))
    # Sum gets 1, hands ones(3) on; Exp gets ones, hands e; Mul gets e, hands 2 e to x (input 1, the 2, gets none)
    assert np.isclose(trace.records[0].grad_norm, 1.0)
    assert np.isclose(trace.records[0].inputs[0].norm, np.sqrt(3))
    assert np.isclose(trace.records[1].inputs[0].norm, np.linalg.norm(e))
    mul = trace.records[2]
    assert mul.grad_shape == (3,) and np.isclose(mul.grad_norm, np.linalg.norm(e))
    assert mul.inputs[0].name == "x" and np.isclose(mul.inputs[0].norm, np.linalg.norm(2 * e))
    assert mul.inputs[1].norm is None  # the constant 2 needs no gradient


def test_names_parameters_and_matches_their_grads_and_a_table_prints():
    mg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    with BackwardTrace(names=dict(net.named_parameters())) as trace:
        net(mg.randn(5, 3)).pow(2).mean().backward()
    by_name = {i.name: i.norm for r in trace.records for i in r.inputs if i.name}
    assert set(by_name) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for name, p in net.named_parameters():
        assert np.isclose(by_name[name], np.linalg.norm(p.grad.numpy()), rtol=1e-5)
    table = trace.table()
    assert table.splitlines()[0].startswith("step") and "2.weight" in table and len(table.splitlines()) == 6


def test_nothing_is_recorded_outside_the_block():
    x = mg.tensor([1.0], requires_grad=True)
    with BackwardTrace() as trace:
        pass
    (x * 3).sum().backward()
    assert trace.records == []
