"""gan.conditional_models: the label enters G and D as their closed forms say."""

import numpy as np
import pytest

import minigrad
from gan.conditional_models import ConcatDiscriminator, ConditionalGenerator, ProjectionDiscriminator, one_hot
from minigrad import nn


def test_one_hot_rows_and_errors():
    like = minigrad.zeros(3, 2)
    np.testing.assert_array_equal(one_hot(np.array([2, 0, 1]), 4, like).numpy(), np.eye(4)[[2, 0, 1]])
    assert one_hot([1, 1, 1], 4, like).dtype == like.dtype
    with pytest.raises(ValueError, match=r"labels must lie in 0..3, got values in 0..4"):
        one_hot(np.array([0, 4, 1]), 4, like)
    with pytest.raises(ValueError, match="2 labels for a batch of 3"):
        one_hot(np.array([0, 1]), 4, like)
    with pytest.raises(ValueError, match="integers of shape"):
        one_hot(np.array([0.5, 1, 2]), 4, like)


def test_generator_feeds_z_and_the_one_hot_label_to_its_body():
    body = nn.Linear(5 + 3, 2)
    G = ConditionalGenerator(body, num_classes=3)
    z, y = minigrad.randn(4, 5), np.array([0, 2, 1, 2])
    want = np.concatenate([z.numpy(), np.eye(3)[y]], axis=1) @ body.weight.numpy().T + body.bias.numpy()
    np.testing.assert_allclose(G(z, y).numpy(), want, rtol=1e-5, atol=1e-6)


def test_concat_discriminator_appends_the_one_hot_label_to_the_stem_features():
    stem, head = nn.Flatten(), nn.Linear(4 + 3, 1)
    D = ConcatDiscriminator(stem, head, num_classes=3)
    x, y = minigrad.randn(2, 1, 2, 2), np.array([1, 0])
    want = np.concatenate([x.numpy().reshape(2, 4), np.eye(3)[y]], axis=1) @ head.weight.numpy().T + head.bias.numpy()
    np.testing.assert_allclose(D(x, y).numpy(), want, rtol=1e-5, atol=1e-6)


def test_projection_discriminator_is_psi_plus_the_label_embedding_dotted_with_phi():
    features, psi = nn.Sequential(nn.Flatten(), nn.Linear(6, 4), nn.LeakyReLU(0.2)), nn.Linear(4, 1)
    D = ProjectionDiscriminator(features, psi, num_features=4, num_classes=3)
    x, y = minigrad.randn(5, 1, 2, 3), np.array([0, 1, 2, 2, 1])
    phi = features(x).numpy()
    E = D.embed.weight.numpy().T  # (classes, features): row y is e_y
    want = phi @ psi.weight.numpy().T + psi.bias.numpy() + (E[y] * phi).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(D(x, y).numpy(), want, rtol=1e-5, atol=1e-6)
    # the label changes the logit only through the projection: swapping labels changes it by (e_a - e_b) . phi
    y2 = np.array([1, 1, 2, 0, 1])
    diff = D(x, y2).numpy() - D(x, y).numpy()
    np.testing.assert_allclose(diff[:, 0], ((E[y2] - E[y]) * phi).sum(axis=1), rtol=1e-4, atol=1e-5)


def test_gradients_reach_the_label_embedding_and_the_input():
    features, psi = nn.Sequential(nn.Flatten(), nn.Linear(6, 4)), nn.Linear(4, 1)
    D = ProjectionDiscriminator(features, psi, num_features=4, num_classes=3)
    x = minigrad.randn(2, 1, 2, 3, requires_grad=True)
    D(x, np.array([2, 2])).sum().backward()
    g = D.embed.weight.grad.numpy()
    assert np.all(g[:, :2] == 0) and np.any(g[:, 2] != 0)  # only class 2's embedding was used
    assert x.grad is not None and np.any(x.grad.numpy() != 0)


@pytest.mark.parametrize("name", ["mlp", "dcgan28", "goodfellow2014"])
def test_build_models_conditional_nets_take_labels_and_keep_the_image_shapes(name):
    from gan.models import build_models

    G, D = build_models(name, width=0.25, conditional=True)
    assert G.num_classes == D.num_classes == 10 and G.latent_dim == 100
    z, y = minigrad.randn(4, 100), np.array([0, 3, 9, 1])
    G.eval()
    x = G(z, y)
    assert x.shape == (4, *G.image_shape)
    assert D(x, y).shape == (4, 1)
    other = G(z, np.array([1, 4, 0, 2])).numpy()
    assert np.all(np.abs(other - x.numpy()).reshape(4, -1).max(axis=1) > 0)  # the label changes every image
    if name == "dcgan28":
        assert isinstance(D, ProjectionDiscriminator)
    else:
        assert isinstance(D, ConcatDiscriminator)


def test_build_models_refuses_a_conditional_dcgan64():
    from gan.models import build_models

    with pytest.raises(ValueError, match="conditional is an option of mlp, dcgan28, goodfellow2014, not of dcgan64"):
        build_models("dcgan64", conditional=True)
