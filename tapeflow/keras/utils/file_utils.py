"""`keras.utils.get_file`: files in the Keras cache (`$KERAS_HOME/<cache_subdir>/`, default
`~/.keras/datasets/`), downloaded only when missing, under Keras 3's cache names, with its hash
checks, its "Downloading data from ..." line and its progress bar.

Unlike Keras, nothing half-written is ever left in the cache: a download goes to a temporary
file renamed into place once complete and hash-checked, and an archive is extracted into a
temporary folder renamed into place. A file found in the cache is used as it is (Keras would
hash it and download it again on a mismatch), so a file a user puts there is read offline.
`get_files` serves loaders that need several files: when any cannot be downloaded it raises one
error (Keras's class, `Exception`) naming every missing file, where to put it, its URL, and
what `KERAS_HOME` changes.
"""
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass

from tapeflow.keras.engine.progbar import Progbar, print_msg

BLOCK_SIZE = 8192  # what urlretrieve reads per progress update (Keras downloads with it)
TIMEOUT_S = 60


def keras_home():
    """`$KERAS_HOME`, else `~/.keras` (`/tmp/.keras` when the home directory is read-only).

    Read at every call (Keras reads it once, at import), so a program or test may set it late.
    """
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def _hasher(algorithm, file_hash=None):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()  # what Keras falls back to: 32-digit hashes of the old datasets


def hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file: `algorithm` is "sha256" or "md5" ("auto", with no hash to
    compare with, is md5 as in Keras), or a hashlib object."""
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """Whether the file's sha256 or md5 digest ("auto": by the length of `file_hash`) is
    `file_hash`."""
    return hash_file(fpath, _hasher(algorithm, file_hash), chunk_size) == str(file_hash)


@dataclass
class _Request:
    """One file `get_file` serves: where it is cached and, for archives, extracted."""
    origin: str
    path: str                # the downloaded file (an archive's cache name, for extract=True)
    extraction_dir: str      # None unless extract/untar
    file_hash: str
    hash_algorithm: str
    archive_format: object
    cache_note: str          # which cache folder holds `path`, and why (for the offline error)


def _cache_note(cache_dir, base):
    if cache_dir is not None:
        return (f"These paths are under cache_dir={cache_dir!r}, so KERAS_HOME does not apply "
                "to them.")
    if "KERAS_HOME" in os.environ:
        where = f"the Keras cache folder {base}, set by KERAS_HOME={os.environ['KERAS_HOME']}"
    else:
        where = f"the Keras cache folder {base} (KERAS_HOME is not set: ~/.keras is the default)"
    return (f"These paths are under {where}. Setting KERAS_HOME=/another/folder moves the "
            "cache: the files are then looked for under /another/folder instead.")


def _resolve(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None):
    """Keras's cache layout: `<cache>/<cache_subdir>/<fname>`; with extract=True an archive
    is cached as `<fname>_archive` and extracted into `<fname>/` (or, when `fname` has a dot,
    cached as `<fname>` and extracted into `<fname up to its first dot>_extracted/`)."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    base = os.path.expanduser(keras_home() if cache_dir is None else cache_dir)
    note = _cache_note(cache_dir, base)
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass  # not ours to create: fall back to /tmp/.keras below, as Keras does
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                            ".keras")
        note = (f"These paths are under {base}, because the cache folder asked for is not "
                "writable. Setting KERAS_HOME=/another/folder moves the cache there.")
    datadir = os.path.join(base, cache_subdir)
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    given = os.fspath(fname) if fname else None
    name = given or os.path.basename(urllib.parse.urlsplit(origin).path)
    if not name:
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'."
                         "Please specify the `fname` argument.")
    if os.sep in name:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={name}")
    extraction_dir = None
    path = os.path.join(datadir, name)
    if extract or untar:
        if given and "." in name:
            extraction_dir = os.path.join(datadir, name[:name.find(".")] + "_extracted")
        else:
            extraction_dir, path = path, path + "_archive"
        if untar:
            archive_format = "tar"
    return _Request(origin, path, extraction_dir, file_hash, hash_algorithm, archive_format,
                    note)


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Downloads a file from a URL if it is not already in the cache.

    The file from `origin` is cached as `~/.keras/<cache_subdir>/<fname>` (`$KERAS_HOME`
    replaces `~/.keras`; `fname` defaults to the URL's last part) and downloaded only when it
    is not there (or when `force_download=True`), then checked against `file_hash` (sha256 or
    md5, told apart by length) when one is given. `extract=True` extracts a tar or zip archive
    and returns the folder it was extracted into.

    Example:

    >>> path = keras.utils.get_file(origin="https://example.org/data/flowers.tgz",
    ...                             extract=True)  # doctest: +SKIP

    Returns:
        The local path of the file (or of the extracted folder).
    """
    request = _resolve(fname, origin, untar, md5_hash, file_hash, cache_subdir,
                       hash_algorithm, extract, archive_format, cache_dir)
    return _fetch([request], force_download)[0]


def get_files(requests):
    """`get_file` for several files at once (each item is a dict of `get_file` arguments):
    their local paths, in order. Offline, one error lists every file that is missing."""
    return _fetch([_resolve(**request) for request in requests], force_download=False)


def _fetch(requests, force_download):
    missing = [r for r in requests if force_download or not os.path.exists(r.path)]
    downloaded = {id(r) for r in missing}
    for i, request in enumerate(missing):
        try:
            _download(request)
        except _FetchFailure as failure:
            # The next downloads would fail the same way (and each could wait for a timeout):
            # stop here and tell the user everything that is still missing.
            raise Exception(_offline_message(str(failure), missing[i:])) from None
    for request in requests:
        if request.extraction_dir is not None and (
                id(request) in downloaded or not os.path.isdir(request.extraction_dir)):
            _extract(request)
    return [r.path if r.extraction_dir is None else r.extraction_dir for r in requests]


def _offline_message(failure, missing):
    files = "a file" if len(missing) == 1 else f"{len(missing)} files"
    lines = [failure,
             f"The Keras cache lacks {files} that could not be downloaded. To work offline, "
             "save what each URL serves at the path below it:"]
    for r in missing:
        lines += [f"    {r.origin}", f"      -> {r.path}"]
    lines.extend(dict.fromkeys(r.cache_note for r in missing))
    return "\n".join(lines)


class _FetchFailure(Exception):
    """A download that did not happen (network, HTTP status): Keras's "URL fetch failure"."""


def _download(request):
    print_msg(f"Downloading data from {request.origin}")
    folder, name = os.path.split(request.path)
    os.makedirs(folder, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(request.origin, out)
        if request.file_hash is not None and not validate_file(part, request.file_hash,
                                                                 request.hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The "
                             f"{request.hash_algorithm} file hash does not match the provided "
                             f"value of {request.file_hash}.")
        os.replace(part, request.path)
    except BaseException:
        if os.path.exists(part):
            os.remove(part)
        raise


def _copy_url(origin, out):
    """Copies what `origin` serves into `out`, updating a Keras progress bar in bytes exactly
    as Keras's urlretrieve hook does (one update before the first block, one per block)."""
    show = _DownloadProgress()
    try:
        response = urllib.request.urlopen(origin, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        raise _FetchFailure(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from None
    except urllib.error.URLError as e:
        raise _FetchFailure(f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from None
    with response:
        total = int(response.headers.get("Content-Length", -1))
        blocks = received = 0
        show(blocks, BLOCK_SIZE, total)
        while True:
            try:
                block = response.read(BLOCK_SIZE)
            except (OSError, http.client.HTTPException) as e:  # reset, timeout, cut short
                raise _FetchFailure(f"URL fetch failure on {origin}: "
                                    f"{getattr(e, 'errno', None)} -- "
                                    f"{getattr(e, 'strerror', None) or e!r}") from None
            if not block:
                break
            out.write(block)  # a full disk is not a fetch failure: its OSError goes up as is
            received += len(block)
            blocks += 1
            show(blocks, BLOCK_SIZE, total)
    if total >= 0 and received < total:
        raise _FetchFailure(f"URL fetch failure on {origin}: None -- retrieval incomplete: "
                            f"got only {received} out of {total} bytes")


class _DownloadProgress:
    """A Progbar in bytes: created at the first block, finished once the total is reached."""

    def __init__(self):
        self.bar = None
        self.finished = False

    def __call__(self, blocks, block_size, total):
        total = None if total == -1 else total
        if self.bar is None:
            self.bar = Progbar(total)
        done = blocks * block_size
        if total is None or done < total:
            self.bar.update(done)
        elif not self.finished:
            self.bar.update(total)
            self.finished = True


def _extract(request):
    """Extracts the archive into a temporary folder beside `extraction_dir`, then renames it
    into place, so an extraction folder that exists is complete."""
    target = request.extraction_dir
    parent = os.path.dirname(target)
    work = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", suffix=".part", dir=parent)
    try:
        if not extract_archive(request.path, work, request.archive_format):
            warnings.warn("Could not extract archive.", stacklevel=3)
            return
        if os.path.isdir(target):  # a fresh download replaces an earlier extraction
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", suffix=".old",
                                   dir=parent)
            os.replace(target, os.path.join(old, "previous"))
            os.replace(work, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(work, target)
    finally:
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)


def _inside(base, name):
    path = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([path, base]) == base


def _safe_tar_members(archive, base):
    for member in archive:
        target = member.linkname if member.islnk() else os.path.join(
            os.path.dirname(member.name), member.linkname)
        if _inside(base, member.name) and (not (member.issym() or member.islnk())
                                           or _inside(base, target)):
            yield member
        else:
            warnings.warn(f"Skipping invalid path during archive extraction: '{member.name}'.",
                          stacklevel=4)


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into `path`, skipping members that
    would land outside it. Returns whether `file_path` was an archive of a format tried."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    file_path, path = os.fspath(file_path), os.fspath(path)
    base = os.path.realpath(path)
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                archive.extractall(path, members=_safe_tar_members(archive, base), **extra)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                members = []
                for member in archive.infolist():
                    if _inside(base, member.filename):
                        members.append(member)
                    else:
                        warnings.warn("Skipping invalid path during archive extraction: "
                                      f"'{member.filename}'.", stacklevel=3)
                archive.extractall(path, members=members)
            return True
        if kind not in ("tar", "zip"):
            raise NotImplementedError(kind)
    return False
