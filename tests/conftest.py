"""Shared fixtures. Real TensorFlow (the `test` extra) is the oracle for parity tests; tests that
need it take the `realtf` fixture and skip cleanly when it is not installed."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def realtf():
    """The real `tensorflow` module (skips the test when it is not installed)."""
    return pytest.importorskip("tensorflow")
