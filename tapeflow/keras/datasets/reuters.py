"""`keras.datasets.reuters`: 11,228 Reuters newswires labelled over 46 topics, as word-index
sequences, from `$KERAS_HOME/datasets/reuters.npz` (and the words from
`reuters_word_index.json`)."""
import json

import numpy as np

from tapeflow.keras.datasets import _prepare
from tapeflow.keras.datasets._readers import read_npz
from tapeflow.keras.utils.file_utils import get_file

SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters newswires, each a list of word indices (by frequency: 1 is the most
    frequent word) labelled with one of 46 topics (`get_label_names()`).

    Args:
        path: the file's name in the Keras cache (`$KERAS_HOME/datasets/`).
        num_words: keep the `num_words` most frequent words (by their shifted index, so
            indices below `num_words`); others become `oov_char`. None keeps all.
        skip_top: the most frequent words below this shifted index also become `oov_char`.
        maxlen: drop newswires of `maxlen` words or more (after `start_char`). None keeps all.
        test_split: the fraction of the newswires kept for testing (after the shuffle).
        seed: the seed of the shuffle.
        start_char: the index put before every newswire (None: nothing).
        oov_char: the index cut words become (None: they are removed).
        index_from: the amount added to every word index, keeping room for 0 (padding),
            `start_char` and `oov_char`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints and integer
        label arrays.
    """
    path = get_file(fname=path, origin=_prepare.ORIGIN + "reuters.npz", file_hash=SHA256)
    arrays = read_npz(path)
    xs, labels = _prepare.shuffle(np.random.RandomState(seed), arrays["x"], arrays["y"])
    xs = _prepare.mark_and_offset(xs, start_char, index_from)
    if maxlen:
        xs, labels = _prepare.drop_long(maxlen, xs, labels)
    xs = _prepare.limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:cut], dtype="object"), np.array(labels[:cut])),
            (np.array(xs[cut:], dtype="object"), np.array(labels[cut:])))


def get_word_index(path="reuters_word_index.json"):
    """{word: index} of the Reuters newswires (index 1 is the most frequent word). The
    sequences of `load_data` hold these indices plus `index_from` (3 by default)."""
    path = get_file(path, origin=_prepare.ORIGIN + "reuters_word_index.json",
                    file_hash=WORD_INDEX_MD5)
    with open(path) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed by the labels of `load_data`."""
    return LABEL_NAMES
