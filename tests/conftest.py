"""Shared test setup: hypothesis profiles and the device parametrization.

Under CI (the CI variable is set) hypothesis runs derandomized, so a green
run is reproducible and never flakes; locally it explores with random seeds.
"""

import os

import numpy as np
import pytest
from helpers import TINY_TRAIN_FLAGS
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

CUDA_SKIP_REASON = "CUDA not available (CuPy not installed or no GPU)"
DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(not minigrad.cuda.is_available(), reason=CUDA_SKIP_REASON)]
    ),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test once per backend: 'cpu' always, 'cuda' when a GPU is there."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
    yield


@pytest.fixture(autouse=True)
def _restore_threads():
    """A test that sets minigrad's CPU threads (a CLI run does) leaves the next test the count it found."""
    before = minigrad.get_num_threads()
    yield
    if minigrad.get_num_threads() != before:
        minigrad.set_num_threads(before)


def write_idx(path, array):
    """Write a uint8 array as an uncompressed IDX file (the MNIST format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """A folder with the first 256 MNIST training images as IDX files: GAN runs load it instantly."""
    from gan.data import load_mnist

    images, labels = load_mnist("train")
    d = tmp_path_factory.mktemp("mnist")
    write_idx(d / "train-images-idx3-ubyte", images[:256])
    write_idx(d / "train-labels-idx1-ubyte", labels[:256])
    return d


@pytest.fixture
def train_tiny(mnist_dir):
    """``train_tiny(outdir, *flags)``: ``python -m gan train`` on ``mnist_dir`` with TINY_TRAIN_FLAGS and one
    thread (runs compared bit for bit need the same thread count); returns the exit code. The run is the mlp
    (Algorithm 1's settings) unless the flags name a --model or --preset."""
    from gan import cli

    def run(outdir, *extra):
        model = [] if {"--model", "--preset"} & set(extra) else ["--model", "mlp"]
        return cli.main(
            [
                "train",
                *model,
                "--data-dir",
                str(mnist_dir),
                *TINY_TRAIN_FLAGS,
                "--threads",
                "1",
                "--outdir",
                str(outdir),
                *extra,
            ]
        )

    return run
