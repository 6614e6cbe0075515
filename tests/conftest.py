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


@pytest.fixture
def adaptive(monkeypatch):
    """The thread policy switched on, looking every 0.05 s from a clean history; torch's
    default thread count restored afterwards."""
    import torch

    from tapeflow._core import threads
    monkeypatch.setitem(threads._state, "enabled", True)
    monkeypatch.setitem(threads._state, "next", 0.0)
    threads._state["looks"].clear()
    monkeypatch.setattr(threads, "INTERVAL", 0.05)
    yield
    torch.set_num_threads(threads._default)
