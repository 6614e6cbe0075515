"""keras.utils.get_file and the loaders' downloads: the cache layout, messages and progress bar
of Keras 3 (compared with it character for character, clocks frozen), nothing half-written
left behind, and one offline error that lists every missing file."""
import hashlib
import http.server
import io
import os
import tarfile
import threading

import numpy as np
import pytest

from tapeflow import keras
from tapeflow.keras.engine import progbar as our_progbar
from tapeflow.keras.utils import file_utils
from tests.parity import error_of

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
           "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        self.now += 0.013
        return self.now


@pytest.fixture
def frozen(realtf, monkeypatch):
    """Both progress bars read the same scripted clock, so their texts can be compared."""
    from keras.src.utils import progbar as keras_progbar
    clock = Clock()
    monkeypatch.setattr(our_progbar, "time", clock)
    monkeypatch.setattr(keras_progbar, "time", clock)
    return clock


def leftovers(folder):
    """Temporary files or folders a download or an extraction left behind."""
    return [p for p in folder.rglob("*") if p.name.endswith((".part", ".old"))]


@pytest.fixture
def blob(tmp_path):
    """A 100,000-byte file served as `file://`: 13 blocks of 8192 bytes, the last one short."""
    path = tmp_path / "served" / "blob.bin"
    path.parent.mkdir()
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 100_000, np.uint8).tobytes())
    return path


def test_download_prints_what_keras_prints(realkeras, keras_home, frozen, capsys, blob):
    origin = blob.as_uri()
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    capsys.readouterr()
    ours = keras.utils.get_file("ours.bin", origin=origin, file_hash=digest)
    ours_text = capsys.readouterr().out
    frozen.now = 1000.0
    theirs = realkeras.utils.get_file("theirs.bin", origin=origin, file_hash=digest)
    theirs_text = capsys.readouterr().out
    assert ours_text == theirs_text.replace("theirs.bin", "ours.bin")
    assert ours_text.startswith(f"Downloading data from {origin}\n")
    assert "100000/100000" in ours_text and "\r" in ours_text  # the bar, redrawn in place
    assert open(ours, "rb").read() == open(theirs, "rb").read() == blob.read_bytes()
    assert ours == str(keras_home / "datasets" / "ours.bin")
    assert not leftovers(keras_home)


def test_a_cached_file_is_not_downloaded_again(keras_home, offline, capsys):
    (keras_home / "datasets").mkdir()
    (keras_home / "datasets" / "mine.txt").write_text("cached")
    path = keras.utils.get_file(origin="https://example.invalid/data/mine.txt")
    assert open(path).read() == "cached" and capsys.readouterr().out == ""


@pytest.mark.parametrize("algorithm,digits", [("auto", 64), ("md5", 32)])
def test_a_wrong_hash_raises_keras_error_and_leaves_nothing(realkeras, keras_home, blob,
                                                            algorithm, digits):
    wrong = "0" * digits
    ours = error_of(lambda: keras.utils.get_file(origin=blob.as_uri(), file_hash=wrong,
                                                 hash_algorithm=algorithm))
    theirs_home = keras_home / "keras"
    theirs_home.mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that does not exist
    theirs = error_of(lambda: realkeras.utils.get_file(origin=blob.as_uri(), file_hash=wrong,
                                                       hash_algorithm=algorithm,
                                                       cache_dir=str(theirs_home)))
    assert ours == theirs and ours[0] == "ValueError"
    # Keras leaves the corrupted file in its cache (and tries it again next time); we do not.
    assert os.listdir(keras_home / "datasets") == []


def test_an_interrupted_download_leaves_nothing(keras_home):
    """A server that promises 50,000 bytes and hangs up after 5,000."""
    class Short(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "50000")
            self.end_headers()
            self.wfile.write(b"x" * 5000)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Short)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"http://127.0.0.1:{server.server_port}/data.bin"
        with pytest.raises(Exception, match=f"URL fetch failure on {origin}") as info:
            keras.utils.get_file(origin=origin)
    finally:
        server.shutdown()
        server.server_close()
    assert type(info.value) is Exception
    assert str(keras_home / "datasets" / "data.bin") in str(info.value)
    assert os.listdir(keras_home / "datasets") == []


def test_offline_error_is_keras_class_and_first_line(realkeras, keras_home, offline):
    ours = error_of(keras.datasets.mnist.load_data)
    theirs = error_of(realkeras.datasets.mnist.load_data)
    assert ours[0] == theirs[0] == "Exception"
    assert ours[1].splitlines()[0] == theirs[1] == \
        f"URL fetch failure on {ORIGIN}mnist.npz: None -- no network here"


@pytest.mark.parametrize("present", [[], [1, 3], [0, 1, 2]])
def test_offline_error_lists_every_missing_file(keras_home, offline, present):
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for i in present:
        (folder / FASHION[i]).write_bytes(b"")
    with pytest.raises(Exception) as info:
        keras.datasets.fashion_mnist.load_data()
    message = str(info.value)
    assert type(info.value) is Exception
    for i, name in enumerate(FASHION):
        listed = f"    {ORIGIN}{name}\n      -> {folder / name}" in message
        assert listed == (i not in present), message
    missing = 4 - len(present)
    assert (f"lacks {missing} files" if missing > 1 else "lacks a file") in message
    assert f"set by KERAS_HOME={keras_home}" in message
    assert "Setting KERAS_HOME=/another/folder moves the cache" in message
    assert not leftovers(keras_home)


def test_offline_error_without_keras_home_names_the_default(tmp_path, monkeypatch, offline):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    message = str(error_of(keras.datasets.imdb.get_word_index)[1])
    assert f"-> {tmp_path / '.keras' / 'datasets' / 'imdb_word_index.json'}" in message
    assert "KERAS_HOME is not set: ~/.keras is the default" in message


def test_offline_archive_error_names_the_cache_name_to_save_it_under(keras_home, offline):
    message = error_of(keras.datasets.cifar100.load_data)[1]
    assert ("    https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz\n      -> "
            f"{keras_home / 'datasets' / 'cifar-100-python-target_archive'}") in message


def _tar_gz(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("fname", [None, "photos", "photos.tar.gz"])
def test_extract_uses_keras_cache_names(realkeras, keras_home, tmp_path, capsys, fname):
    served = tmp_path / "served"
    served.mkdir()
    _tar_gz(served / "pics.tgz", {"pics/a.txt": b"a", "pics/sub/b.txt": b"bb"})
    origin = (served / "pics.tgz").as_uri()
    ours = keras.utils.get_file(fname, origin=origin, extract=True)
    theirs_home = tmp_path / "theirs"
    theirs_home.mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that does not exist
    theirs = realkeras.utils.get_file(fname, origin=origin, extract=True,
                                      cache_dir=str(theirs_home))
    assert os.path.relpath(ours, keras_home) == os.path.relpath(theirs, theirs_home)
    tree = sorted(os.path.relpath(p, keras_home) for p in keras_home.rglob("*"))
    assert tree == sorted(os.path.relpath(p, theirs_home) for p in theirs_home.rglob("*"))
    assert open(os.path.join(ours, "pics", "sub", "b.txt")).read() == "bb"
    assert not leftovers(keras_home)
    # Cached: neither downloaded nor extracted again.
    os.remove(os.path.join(ours, "pics", "a.txt"))
    capsys.readouterr()
    assert keras.utils.get_file(fname, origin=origin, extract=True) == ours
    assert capsys.readouterr().out == "" and not os.path.exists(os.path.join(ours, "pics", "a.txt"))


def test_extract_skips_members_outside_the_folder(keras_home, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    _tar_gz(archive, {"ok.txt": b"fine", "../escaped.txt": b"bad"})
    with pytest.warns(UserWarning, match="Skipping invalid path during archive extraction"):
        folder = keras.utils.get_file("evil", origin=archive.as_uri(), extract=True)
    assert os.listdir(folder) == ["ok.txt"]
    assert not (keras_home / "datasets" / "escaped.txt").exists()


@pytest.mark.parametrize("kwargs", [{"fname": os.path.join("sub", "f.txt"),
                                     "origin": "https://example.invalid/f.txt"},
                                    {"fname": "f.txt"},
                                    {"origin": "https://example.invalid/"}])
def test_argument_errors_match_keras(realkeras, keras_home, offline, kwargs):
    ours = error_of(lambda: keras.utils.get_file(**kwargs))
    assert ours == error_of(lambda: realkeras.utils.get_file(**kwargs)) and ours[0] == "ValueError"


def test_get_files_downloads_what_is_missing_and_keeps_what_is_there(keras_home, tmp_path,
                                                                    capsys):
    served = tmp_path / "served"
    served.mkdir()
    for name in ("a.bin", "b.bin"):
        (served / name).write_bytes(name.encode() * 100)
    (keras_home / "datasets").mkdir()
    (keras_home / "datasets" / "a.bin").write_bytes(b"mine")
    paths = file_utils.get_files([dict(fname=n, origin=(served / n).as_uri())
                                  for n in ("a.bin", "b.bin")])
    assert [open(p, "rb").read() for p in paths] == [b"mine", b"b.bin" * 100]
    assert capsys.readouterr().out.count("Downloading data from") == 1
