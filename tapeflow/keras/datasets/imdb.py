"""`keras.datasets.imdb`: 50,000 IMDB movie reviews labelled by sentiment, as word-index
sequences, from `$KERAS_HOME/datasets/imdb.npz` (and the words from `imdb_word_index.json`)."""
import json

import numpy as np

from tapeflow.keras.datasets import _prepare
from tapeflow.keras.datasets._readers import read_npz
from tapeflow.keras.utils.file_utils import get_file

SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB reviews: 25,000 for training and 25,000 for testing, each a list of word
    indices (by frequency: 1 is the most frequent word) labelled 1 (positive) or 0.

    Args:
        path: the file's name in the Keras cache (`$KERAS_HOME/datasets/`).
        num_words: keep the `num_words` most frequent words (by their shifted index, so
            indices below `num_words`); others become `oov_char`. None keeps all.
        skip_top: the most frequent words below this shifted index also become `oov_char`.
        maxlen: drop reviews of `maxlen` words or more (after `start_char`). None keeps all.
        seed: the seed of the shuffles of the training and the test reviews.
        start_char: the index put before every review (None: nothing).
        oov_char: the index cut words become (None: they are removed).
        index_from: the amount added to every word index, keeping room for 0 (padding),
            `start_char` and `oov_char`.
        **kwargs: accepted and ignored, as Keras 3 does (old Keras took `nb_words`).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints and integer
        label arrays.
    """
    del kwargs
    path = get_file(fname=path, origin=_prepare.ORIGIN + "imdb.npz", file_hash=SHA256)
    arrays = read_npz(path)
    rng = np.random.RandomState(seed)  # one generator: the test shuffle follows the training one
    x_train, labels_train = _prepare.shuffle(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = _prepare.shuffle(rng, arrays["x_test"], arrays["y_test"])
    x_train = _prepare.mark_and_offset(x_train, start_char, index_from)
    x_test = _prepare.mark_and_offset(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _prepare.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _prepare.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
    # The vocabulary bound comes from the training and the test reviews together.
    xs = _prepare.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    cut = len(x_train)
    return ((np.array(xs[:cut], dtype="object"), labels[:cut]),
            (np.array(xs[cut:], dtype="object"), labels[cut:]))


def get_word_index(path="imdb_word_index.json"):
    """{word: index} of the IMDB reviews (index 1 is the most frequent word). The sequences of
    `load_data` hold these indices plus `index_from` (3 by default)."""
    path = get_file(fname=path, origin=_prepare.ORIGIN + "imdb_word_index.json",
                    file_hash=WORD_INDEX_MD5)
    with open(path) as f:
        return json.load(f)
