"""What the Keras loaders do to the arrays they read, shared here so each is written once:
the seeded shuffle and the train/test split (Boston and California housing, Reuters), and the
word-index encoding of the IMDB and Reuters reviews (start mark, index offset, long sequences
dropped, vocabulary cut to `num_words` and `skip_top`).

Each step repeats Keras 3's arithmetic exactly, including its surprises (noted where they
are), so that the same file and arguments give the same arrays.
"""
import numpy as np

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def shuffle(rng, *arrays):
    """The arrays in one random order drawn from `rng` (a `np.random.RandomState`)."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [a[indices] for a in arrays]


def check_test_split(test_split):
    if not 0 <= test_split < 1:
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 "
                         "and 1 (exclusive of 1).")


def shuffled_split(x, y, test_split, seed):
    """`(x_train, y_train), (x_test, y_test)`: the rows shuffled with `seed`, the last
    `test_split` of them for testing."""
    x, y = shuffle(np.random.RandomState(seed), x, y)
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def mark_and_offset(sequences, start_char, index_from):
    """Lists of word indices moved up by `index_from`, each led by `start_char` unless None."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in sequences]
    return [[w + index_from for w in x] for x in sequences]


def drop_long(maxlen, sequences, labels):
    """The sequences (and their labels) SHORTER than `maxlen`: Keras drops, not truncates,
    and drops a sequence of exactly `maxlen` too."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Words outside `[skip_top, num_words)` become `oov_char`, or are removed when it is None.

    Without `num_words` Keras takes the largest index present as the bound, which is
    exclusive: that one word becomes `oov_char` as well. Kept for the same arrays as Keras.
    """
    if not num_words:
        num_words = max(max(x) for x in sequences)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]
