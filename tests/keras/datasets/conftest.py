"""Fixtures for the data set and download tests: a private Keras cache (for tapeflow and for
real Keras, which reads KERAS_HOME once at import), no network, and spies on the files and
hashes each side asks for."""
import urllib.error

import pytest

from tapeflow.keras.utils import file_utils


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def offline(monkeypatch):
    """Every URL fails as with no network, for tapeflow and for Keras (whose urlretrieve
    calls urllib.request.urlopen too)."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network here")
    monkeypatch.setattr("urllib.request.urlopen", refuse)


@pytest.fixture
def requests_seen(monkeypatch):
    """The files tapeflow's loaders ask for: `_Request`s (cache path, URL, hash)."""
    seen = []
    fetch = file_utils._fetch

    def spy(requests, force_download):
        seen.extend(requests)
        return fetch(requests, force_download)
    monkeypatch.setattr(file_utils, "_fetch", spy)
    return seen


@pytest.fixture
def realkeras(realtf, keras_home, monkeypatch):
    """Real Keras 3, its cache at `keras_home`."""
    import keras
    from keras.src.backend import config
    monkeypatch.setattr(config, "_KERAS_DIR", str(keras_home))
    return keras


@pytest.fixture
def keras_hash_checks(realkeras, monkeypatch):
    """[(path, hash)] of the cached files Keras hash-checks. Keras would replace a file whose
    hash does not match by downloading it again; here the check passes, so that Keras reads
    the small test files."""
    from keras.src.utils import file_utils as keras_file_utils
    checks = []

    def validate(fpath, file_hash, algorithm="auto", chunk_size=65535):
        checks.append((str(fpath), file_hash))
        return True
    monkeypatch.setattr(keras_file_utils, "validate_file", validate)
    return checks
