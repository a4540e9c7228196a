"""gan.models: the architectures the issue specifies, their shapes, and DCGAN initialisation."""

import numpy as np
import pytest

import minigrad
from gan.models import MODELS, build_models, image_shape
from minigrad import nn


def _layers(module, kind):
    return [m for m in module.modules() if type(m) is kind]


def test_mlp_architecture_is_the_papers():
    G, D = build_models("mlp")
    assert [(l.in_features, l.out_features) for l in _layers(G, nn.Linear)] == [
        (100, 256),
        (256, 512),
        (512, 1024),
        (1024, 784),
    ]
    assert [(l.in_features, l.out_features) for l in _layers(D, nn.Linear)] == [
        (784, 512),
        (512, 256),
        (256, 32),
        (32, 1),
    ]
    assert all(l.negative_slope == 0.2 for l in _layers(G, nn.LeakyReLU) + _layers(D, nn.LeakyReLU))
    assert len(_layers(G, nn.Tanh)) == 1 and not _layers(D, nn.Sigmoid)  # D outputs a logit
    assert not _layers(D, nn.Dropout)
    _, D = build_models("mlp", dropout=0.3)
    assert [d.p for d in _layers(D, nn.Dropout)] == [0.3, 0.3, 0.3]


def _conv_specs(module, kind):
    return [(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding) for c in _layers(module, kind)]


def test_dcgan28_architecture_is_infogans_at_half_width():
    G, D = build_models("dcgan28")
    assert [(l.in_features, l.out_features) for l in _layers(G, nn.Linear)] == [(100, 512), (512, 64 * 7 * 7)]
    assert [bn.num_features for bn in _layers(G, nn.BatchNorm1d)] == [512, 64 * 7 * 7]
    assert _conv_specs(G, nn.ConvTranspose2d) == [(64, 32, (4, 4), (2, 2), (1, 1)), (32, 1, (4, 4), (2, 2), (1, 1))]
    assert _conv_specs(D, nn.Conv2d) == [(1, 32, (4, 4), (2, 2), (1, 1)), (32, 64, (4, 4), (2, 2), (1, 1))]
    assert [bn.num_features for bn in _layers(D, nn.BatchNorm2d)] == [64]
    assert [bn.num_features for bn in _layers(D, nn.BatchNorm1d)] == [512]
    assert [(l.in_features, l.out_features) for l in _layers(D, nn.Linear)] == [(64 * 7 * 7, 512), (512, 1)]
    G2, _ = build_models("dcgan28", width=2)  # InfoGAN's own sizes
    assert [l.out_features for l in _layers(G2, nn.Linear)] == [1024, 128 * 7 * 7]


@pytest.mark.parametrize("norm", ["layer", "none"])
def test_dcgan28_critic_normalisation(norm):
    _, D = build_models("dcgan28", d_norm=norm)
    assert not _layers(D, nn.BatchNorm1d) and not _layers(D, nn.BatchNorm2d)
    layer_norms = [tuple(m.normalized_shape) for m in _layers(D, nn.LayerNorm)]
    assert layer_norms == ([(64, 7, 7), (512,)] if norm == "layer" else [])
    # a normalisation's beta replaces the bias of the layer before it
    assert [m.bias is None for m in _layers(D, nn.Conv2d)] == [False, norm == "layer"]
    x = minigrad.randn(3, 1, 28, 28)
    one = D(x[:1])  # per sample: the first image's output does not depend on the others
    assert np.allclose(D(x).numpy()[:1], one.numpy(), atol=1e-6)


def test_dcgan64_architecture_follows_radford():
    G, D = build_models("dcgan64", channels=3)
    convs = [
        (c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, c.bias is None)
        for c in _layers(G, nn.ConvTranspose2d)
    ]
    assert convs == [
        (100, 1024, (4, 4), (1, 1), (0, 0), True),
        (1024, 512, (4, 4), (2, 2), (1, 1), True),
        (512, 256, (4, 4), (2, 2), (1, 1), True),
        (256, 128, (4, 4), (2, 2), (1, 1), True),
        (128, 3, (4, 4), (2, 2), (1, 1), True),
    ]
    assert [bn.num_features for bn in _layers(G, nn.BatchNorm2d)] == [1024, 512, 256, 128]
    convs = [(c.in_channels, c.out_channels, c.stride, c.padding) for c in _layers(D, nn.Conv2d)]
    assert convs == [
        (3, 128, (2, 2), (1, 1)),
        (128, 256, (2, 2), (1, 1)),
        (256, 512, (2, 2), (1, 1)),
        (512, 1024, (2, 2), (1, 1)),
        (1024, 1, (1, 1), (0, 0)),
    ]
    assert [bn.num_features for bn in _layers(D, nn.BatchNorm2d)] == [256, 512, 1024]  # none on the first
    # the layer after the first conv is the activation, not a BatchNorm
    assert isinstance(D[1], nn.LeakyReLU) and D[1].negative_slope == 0.2


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_ranges(name, channels):
    G, D = build_models(name, latent_dim=16, channels=channels, width=1 / 16)
    z = minigrad.randn(3, 16)
    x = G(z)
    c, h, w = image_shape(name, channels)
    assert x.shape == (3, c, h, w) == (3, *G.image_shape) and x.dtype == np.float32
    assert G.latent_dim == 16
    assert np.all(np.abs(x.numpy()) <= 1)
    logits = D(x)
    assert logits.shape == (3, 1) and logits.dtype == np.float32


def test_dcgan64_intermediate_sizes():
    G, D = build_models("dcgan64", width=1 / 16)

    def sizes_after(model, kind, h):
        """(the output, the shape after each layer of type ``kind``)."""
        sizes = []
        for layer in model:
            h = layer(h)
            if isinstance(layer, kind):
                sizes.append(h.shape[1:])
        return h, sizes

    images, g_sizes = sizes_after(G, nn.ConvTranspose2d, minigrad.randn(2, 100))
    assert g_sizes == [(64, 4, 4), (32, 8, 8), (16, 16, 16), (8, 32, 32), (1, 64, 64)]
    _, d_sizes = sizes_after(D, nn.Conv2d, images)
    assert d_sizes == [(8, 32, 32), (16, 16, 16), (32, 8, 8), (64, 4, 4), (1, 1, 1)]


def test_mlp_discriminator_takes_flat_images():
    _, D = build_models("mlp", width=0.1)
    assert D(minigrad.randn(5, 784)).shape == (5, 1)


def test_dcgan_initialisation_statistics():
    G, D = build_models("dcgan28")
    for module in (G, D):
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                w = m.weight.numpy()
                # N(0, 0.02): over the smallest layer's 512 weights the mean has sd 0.02 / 22.6 = 0.00088,
                # so 0.0045 is 5 sd (a correct init fails by chance ~1e-6); the std's sd is ~0.00063
                assert abs(w.mean()) < 0.0045 and abs(w.std() - 0.02) < 0.0032, type(m).__name__
                if m.bias is not None:
                    assert np.all(m.bias.numpy() == 0)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                gamma = m.weight.numpy()
                assert abs(gamma.mean() - 1) < 0.01 and 0.01 < gamma.std() < 0.03
                assert np.all(m.bias.numpy() == 0)


def test_width_scales_hidden_sizes_and_never_reaches_zero():
    G, D = build_models("mlp", width=0.001)
    assert [l.out_features for l in _layers(G, nn.Linear)] == [1, 1, 1, 784]
    G, _ = build_models("dcgan28", width=0.5)
    assert _layers(G, nn.ConvTranspose2d)[0].in_channels == 32


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown model 'vae'"):
        build_models("vae")
    with pytest.raises(ValueError, match="dropout"):
        build_models("dcgan28", dropout=0.5)
    with pytest.raises(ValueError, match="d_norm is an option of the dcgan28"):
        build_models("mlp", d_norm="layer")
    with pytest.raises(ValueError, match="unknown discriminator normalisation 'group'"):
        build_models("dcgan28", d_norm="group")
    with pytest.raises(ValueError, match="width"):
        build_models("mlp", width=0)
