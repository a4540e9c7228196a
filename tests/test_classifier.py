"""The shipped MNIST classifier: its checksum, its accuracy, and its outputs' shapes."""

import numpy as np
import pytest

import minigrad
from gan.data import load_mnist, sha256_file
from gan.evaluation import classifier
from gan.evaluation.classifier import WEIGHTS_PATH, WEIGHTS_SHA256, ClassifierWeightsError, classify, load_classifier


def test_shipped_weights_match_their_checksum():
    assert sha256_file(WEIGHTS_PATH) == WEIGHTS_SHA256


def test_altered_weights_are_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_classifier.npz"
    data = bytearray(WEIGHTS_PATH.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(classifier, "WEIGHTS_PATH", bad)
    with pytest.raises(ClassifierWeightsError, match="SHA-256"):
        load_classifier(bad)


def test_truncated_weights_are_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_classifier.npz"
    bad.write_bytes(WEIGHTS_PATH.read_bytes()[:1000])
    monkeypatch.setattr(classifier, "WEIGHTS_PATH", bad)
    with pytest.raises(ClassifierWeightsError, match=str(bad.name)):
        load_classifier(bad)


def test_missing_weights_name_the_path(tmp_path):
    with pytest.raises(ClassifierWeightsError, match="not found"):
        load_classifier(tmp_path / "nope.npz")


def test_classifier_is_accurate_on_test_images():
    images, labels = load_mnist("test")
    model = load_classifier()
    feats, probs = classify(model, images[:1000] / 255.0)
    assert feats.shape == (1000, classifier.FEATURE_DIM) and probs.shape == (1000, 10)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == labels[:1000]).mean() >= 0.98


def test_classifier_input_shape_is_checked():
    with pytest.raises(ValueError, match="28, 28"):
        classifier.to_classifier_input(np.zeros((2, 32, 32)))


def test_other_weights_load_without_the_shipped_checksum(tmp_path):
    """Only the shipped file is held to its SHA-256: fine-tuned weights elsewhere load (bytes differ here)."""
    sd = load_classifier().state_dict()
    key = next(iter(sd))
    sd[key] = sd[key] * 1.0 + 1e-3
    other = tmp_path / "w.npz"
    minigrad.save(sd, other)
    model = load_classifier(other)
    assert not model.training
    np.testing.assert_allclose(model.state_dict()[key].numpy(), sd[key].numpy())


def test_loading_the_classifier_leaves_minigrads_random_stream_alone():
    # a run scored mid-training (--eval-every, --final-scores) must draw the same noise and dropout masks
    # afterwards as a run that is not scored: building the net must not consume minigrad's generator
    minigrad.manual_seed(7)
    minigrad.randn(3)
    expected = minigrad.randn(5).numpy()
    minigrad.manual_seed(7)
    minigrad.randn(3)
    load_classifier()
    np.testing.assert_array_equal(minigrad.randn(5).numpy(), expected)
