"""nn.Maxout against a naive loop over units and pieces, and its gradients by finite differences."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.testing import arrays


def maxout_loop(x, w, b, units, pieces):
    """y[n, j] = max_k (x[n] . w[j * pieces + k] + b[j * pieces + k]), one element at a time."""
    x2 = x.reshape(-1, x.shape[-1])
    y = np.empty((len(x2), units))
    for n in range(len(x2)):
        for j in range(units):
            best = -np.inf
            for k in range(pieces):
                r = j * pieces + k
                best = max(best, sum(x2[n, i] * w[r, i] for i in range(x2.shape[1])) + b[r])
            y[n, j] = best
    return y.reshape(x.shape[:-1] + (units,))


def layer(in_features, units, pieces, w, b):
    m = nn.Maxout(in_features, units, pieces).double()
    m.weight.data[...] = w
    m.bias.data[...] = b
    return m


def min_gap(x, w, b, units, pieces):
    """Smallest distance between the top two pieces of any unit (ties make max non-differentiable)."""
    z = (x.reshape(-1, x.shape[-1]) @ w.T + b).reshape(-1, units, pieces)
    if pieces == 1:
        return np.inf
    top2 = np.sort(z, axis=-1)[..., -2:]
    return float((top2[..., 1] - top2[..., 0]).min())


@st.composite
def problems(draw):
    units, pieces, fin = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(st.sampled_from([(2,), (3,), (2, 2)]))
    x = draw(arrays(lead + (fin,)))
    w = draw(arrays((units * pieces, fin)))
    b = draw(arrays((units * pieces,)))
    return units, pieces, fin, x, w, b


@given(problems())
def test_forward_matches_naive_loop(p):
    units, pieces, fin, x, w, b = p
    m = layer(fin, units, pieces, w, b)
    y = m(mg.tensor(x, dtype=mg.float64))
    assert y.shape == x.shape[:-1] + (units,)
    np.testing.assert_allclose(y.numpy(), maxout_loop(x, w, b, units, pieces), rtol=1e-12, atol=1e-12)


@given(problems())
def test_gradcheck_away_from_ties(p):
    units, pieces, fin, x, w, b = p
    assume(min_gap(x, w, b, units, pieces) > 1e-3)
    m = layer(fin, units, pieces, w, b)
    xt = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    # the layer's own parameters are checked inputs: gradcheck perturbs and reads them in place
    assert mg.gradcheck(lambda x, w, b: m(x), [xt, m.weight, m.bias])


def test_gradient_reaches_only_the_winning_piece():
    # unit 0's pieces are rows 0, 1; unit 1's rows 2, 3; the biases decide the winners
    m = layer(2, 2, 2, np.zeros((4, 2)), np.array([0.0, 1.0, 5.0, -1.0]))
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float64)
    m(x).sum().backward()
    np.testing.assert_array_equal(m.bias.grad.numpy(), [0, 1, 1, 0])
    np.testing.assert_array_equal(m.weight.grad.numpy(), [[0, 0], [1, 2], [1, 2], [0, 0]])


def test_one_piece_is_a_linear_layer():
    mg.manual_seed(3)
    m = nn.Maxout(5, 4, 1)
    lin = nn.Linear(5, 4)
    lin.load_state_dict(m.state_dict())
    x = mg.randn(3, 5)
    np.testing.assert_array_equal(m(x).numpy(), lin(x).numpy())


def test_shapes_init_repr_and_errors():
    m = nn.Maxout(784, 240, 5)
    assert m.weight.shape == (1200, 784) and m.bias.shape == (1200,)
    assert list(dict(m.named_parameters())) == ["weight", "bias"]
    bound = 1 / np.sqrt(784)  # Linear's default init
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert repr(m) == "Maxout(in_features=784, units=240, pieces=5, bias=True)"
    assert nn.Maxout(3, 2, 2, bias=False).bias is None
    for bad in (dict(units=0), dict(pieces=0), dict(in_features=2.5)):
        kw = dict(dict(in_features=3, units=2, pieces=2), **bad)
        name = next(iter(bad))
        with pytest.raises(ValueError, match=f"Maxout: {name} must be a positive integer"):
            nn.Maxout(**kw)
    with pytest.raises(ValueError, match="expects in_features=3"):
        nn.Maxout(3, 2, 2)(mg.zeros(4, 5))
