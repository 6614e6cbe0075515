"""`keras.utils.get_file`: a file from the Keras cache (`$KERAS_HOME/<cache_subdir>/`,
default `~/.keras/datasets/`), downloaded (and hash-checked) only when it is missing. Offline,
the error says which file to put where."""
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request


def keras_home():
    """`$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` when the home directory is read-only)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def _hash_file(path, algorithm):
    h = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto"):
    if algorithm == "auto":
        algorithm = "sha256" if len(file_hash) == 64 else "md5"
    return _hash_file(fpath, algorithm) == str(file_hash)


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """The local path of `fname` in the Keras cache, downloading it from `origin` first when
    it is not there."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    datadir = os.path.join(os.path.expanduser(cache_dir), cache_subdir)
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
    fpath = os.path.join(datadir, fname)
    if os.path.exists(fpath) and not force_download:
        return fpath
    os.makedirs(datadir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=datadir, suffix=".part")
    os.close(fd)
    try:
        try:
            with urllib.request.urlopen(origin, timeout=60) as response, open(tmp, "wb") as f:
                shutil.copyfileobj(response, f)
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise Exception(
                f"URL fetch failure on {origin}: {reason}\n"
                f"tapeflow could not download `{fname}`. To use it offline, put the file "
                f"at:\n    {fpath}\n(the Keras cache is $KERAS_HOME/{cache_subdir}/, default "
                f"~/.keras/{cache_subdir}/; get the file from {origin}).") from None
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            raise ValueError("Incomplete or corrupted file detected. The "
                             f"{'md5' if hash_algorithm == 'md5' else 'sha256'} file hash "
                             f"does not match the provided value of {file_hash}.")
        os.replace(tmp, fpath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return fpath
