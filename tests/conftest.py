"""Shared test setup: hypothesis profiles and the device parametrization.

Under CI (the CI variable is set) hypothesis runs derandomized, so a green
run is reproducible and never flakes; locally it explores with random seeds.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=30, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev", deadline=None, max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

CUDA_SKIP_REASON = "CUDA not available (CuPy not installed or no GPU)"
DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda,
                                pytest.mark.skipif(not minigrad.cuda.is_available(), reason=CUDA_SKIP_REASON)]),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Run a test once per backend: 'cpu' always, 'cuda' when a GPU is there."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
    yield
