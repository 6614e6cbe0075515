"""tf.RaggedTensor and tf.ragged against real TF: factories and their validation errors,
accessors, to_tensor, indexing, operators, map_flat_values, tf.strings.split, what repr and
tf.print show, and gradients reaching the flat values. Results are compared as TF shows them
(repr), so values, dtypes, shapes and texts are compared at once."""
import sys

import numpy as np
import pytest

import tapeflow as tf

R = [[1, 2], [3], [], [4, 5, 6]]
NESTED = [[[1, 2], [3]], [[4]]]
INNER = [[[1, 2], [3, 4]], [[5, 6]]]


def _r(m):
    return m.ragged.constant(R)


CASES = {
    "repr": lambda m: repr(_r(m)),
    "str and format": lambda m: (str(_r(m)), f"{_r(m)}"),
    "shape": lambda m: (_r(m).shape, str(_r(m).shape), _r(m).dtype, _r(m).ragged_rank),
    "values": lambda m: _r(m).values,
    "row_splits": lambda m: _r(m).row_splits,
    "row_lengths": lambda m: _r(m).row_lengths(),
    "nrows": lambda m: _r(m).nrows(),
    "flat_values": lambda m: _r(m).flat_values,
    "value_rowids": lambda m: _r(m).value_rowids(),
    "bounding_shape": lambda m: _r(m).bounding_shape(),
    "nested_row_lengths": lambda m: _r(m).nested_row_lengths(),
    "to_list": lambda m: _r(m).to_list(),
    "numpy": lambda m: _r(m).numpy(),
    "numpy uniform": lambda m: m.ragged.constant([[1, 2], [3, 4]]).numpy(),
    "to_tensor": lambda m: _r(m).to_tensor(),
    "to_tensor default": lambda m: _r(m).to_tensor(default_value=-1),
    "to_tensor shape cut": lambda m: _r(m).to_tensor(shape=[2, 2]),
    "to_tensor shape padded": lambda m: _r(m).to_tensor(shape=[5, 4], default_value=9),
    "to_tensor strings": lambda m: m.ragged.constant([["a"], []]).to_tensor(),
    "to_tensor float default": lambda m: m.ragged.constant([[1.5], []]).to_tensor(-1),
    "row": lambda m: _r(m)[0],
    "last row": lambda m: _r(m)[-1],
    "row out of range": lambda m: _r(m)[5],
    "rows": lambda m: _r(m)[1:3],
    "rows step": lambda m: _r(m)[::2],
    "element": lambda m: _r(m)[3, 1],
    "row slice": lambda m: _r(m)[0, 1:],
    "inner slice": lambda m: _r(m)[:, 1:],
    "inner slice head": lambda m: _r(m)[:, :1],
    "both sliced": lambda m: _r(m)[1:, -1:],
    "inner index": lambda m: _r(m)[:, 0],
    "iterate": lambda m: [x for x in _r(m)],
    "len": lambda m: len(_r(m)),
    "bool": lambda m: bool(_r(m)),
    "convert": lambda m: m.convert_to_tensor(_r(m)),
    "is_tensor": lambda m: (isinstance(_r(m), m.RaggedTensor), m.is_tensor(_r(m))),
    "r + 1": lambda m: _r(m) + 1,
    "2 * r": lambda m: 2 * _r(m),
    "r + r": lambda m: _r(m) + _r(m),
    "-r": lambda m: -_r(m),
    "r > 2": lambda m: _r(m) > 2,
    "r == r": lambda m: _r(m) == _r(m),
    "r + column": lambda m: _r(m) + m.constant([[10], [20], [30], [40]]),
    "r + row": lambda m: _r(m) + m.constant([10, 20, 30, 40]),
    "r + other rows": lambda m: _r(m) + m.ragged.constant([[1, 2], [3], [4], [4, 5]]),
    "r + float": lambda m: _r(m) + 1.5,
    "float r + int": lambda m: m.ragged.constant([[1.0]]) + 2,
    "map_flat_values": lambda m: m.ragged.map_flat_values(m.math.square, _r(m)),
    "map_flat_values two": lambda m: m.ragged.map_flat_values(m.add, _r(m), _r(m)),
    "map_flat_values keyword": lambda m: m.ragged.map_flat_values(m.multiply, _r(m), y=3),
    "map_flat_values mismatch": lambda m: m.ragged.map_flat_values(
        m.add, _r(m), m.ragged.constant([[1], [2, 3], [], [4, 5, 6]])),
    "with_flat_values": lambda m: _r(m).with_flat_values(_r(m).flat_values * 10),
    "from_row_lengths": lambda m: m.RaggedTensor.from_row_lengths([1, 2, 3, 4], [3, 0, 1]),
    "from_row_splits": lambda m: m.RaggedTensor.from_row_splits([1, 2, 3, 4], [0, 3, 3, 4]),
    "from_row_splits int32": lambda m: m.RaggedTensor.from_row_splits(
        [1, 2], m.constant([0, 1, 2])).row_lengths(),
    "from_value_rowids": lambda m: m.RaggedTensor.from_value_rowids([1, 2, 3, 4], [0, 0, 0, 2],
                                                                    nrows=4),
    "from_value_rowids gaps": lambda m: m.RaggedTensor.from_value_rowids([1, 2, 3, 4],
                                                                         [0, 0, 1, 3]),
    "from_tensor padding": lambda m: m.RaggedTensor.from_tensor([[1, 0], [2, 3]], padding=0),
    "from_tensor lengths": lambda m: m.RaggedTensor.from_tensor([[1, 0], [2, 3]], lengths=[1, 2]),
    "bad splits end": lambda m: m.RaggedTensor.from_row_splits([1, 2, 3, 4], [0, 3, 3, 5]),
    "bad splits start": lambda m: m.RaggedTensor.from_row_splits([1, 2, 3, 4], [1, 3, 4]),
    "bad splits order": lambda m: m.RaggedTensor.from_row_splits([1, 2, 3, 4], [0, 3, 2, 4]),
    "bad lengths sum": lambda m: m.RaggedTensor.from_row_lengths([1, 2, 3, 4], [3, 0]),
    "bad lengths sign": lambda m: m.RaggedTensor.from_row_lengths([1, 2, 3, 4], [5, -1]),
    "bad rowids": lambda m: m.RaggedTensor.from_value_rowids([1, 2, 3, 4], [1, 0, 0, 2]),
    "constant floats": lambda m: m.ragged.constant([[1.5], [2.0, 3.0]]),
    "constant strings": lambda m: m.ragged.constant([["a", "b"], ["c"]]),
    "constant bools": lambda m: m.ragged.constant([[True], [False, True]]),
    "constant dtype": lambda m: m.ragged.constant([[1, 2]], dtype=m.float64),
    "constant nested": lambda m: m.ragged.constant(NESTED),
    "constant inner": lambda m: m.ragged.constant(INNER, ragged_rank=1),
    "constant inner_shape": lambda m: m.ragged.constant([[1, 2], [3]], inner_shape=()),
    "constant empty": lambda m: m.ragged.constant([]),
    "constant empty rows": lambda m: m.ragged.constant([[], []]),
    "constant scalar": lambda m: m.ragged.constant(3),
    "constant depths differ": lambda m: m.ragged.constant([[1, [2]]]),
    "constant ragged_rank too big": lambda m: m.ragged.constant([[1, 2], [3]], ragged_rank=2),
    "constant inner inconsistent": lambda m: m.ragged.constant([[[1, 2], [3]], [[4, 5]]],
                                                               ragged_rank=1),
    "nested shape and lengths": lambda m: (m.ragged.constant(NESTED).shape,
                                           m.ragged.constant(NESTED).nested_row_lengths()),
    "nested row": lambda m: m.ragged.constant(NESTED)[0],
    "nested inner slice": lambda m: m.ragged.constant(NESTED)[:, :1],
    "nested to_tensor": lambda m: m.ragged.constant(NESTED).to_tensor(),
    "inner shape and to_tensor": lambda m: (m.ragged.constant(INNER, ragged_rank=1).shape,
                                            m.ragged.constant(INNER, ragged_rank=1).to_tensor()),
    "repr long rows": lambda m: m.ragged.constant([list(range(20))] * 3 + [[1]]),
    "repr floats": lambda m: m.ragged.constant([[0.1, 1 / 3], [2.5]]),
    "repr empty rows": lambda m: m.RaggedTensor.from_row_splits(m.zeros([0, 3]), [0, 0, 0]),
    "spec": lambda m: (m.RaggedTensorSpec([None, None], m.int32), _r(m)._type_spec),
    "strings.split": lambda m: m.strings.split(["a b c", "d e"]),
    "strings.split sep": lambda m: m.strings.split(["a,b", "c"], sep=","),
    "strings.split scalar": lambda m: m.strings.split("a b"),
    "strings.split empty": lambda m: m.strings.split(m.constant([], m.string)),
    "unicode_decode": lambda m: m.strings.unicode_decode(["hé", "", "x"], "UTF-8"),
    "unicode_split": lambda m: m.strings.unicode_split(["hé", "x"], "UTF-8"),
    "bytes_split": lambda m: m.strings.bytes_split(["hé", ""]),
}


def _shown(fn, m):
    try:
        return repr(fn(m))
    except Exception as e:  # noqa: BLE001 - compared with what TF raises
        return f"!{type(e).__name__}: {e}"


@pytest.mark.parametrize("case", CASES)
def test_ragged_matches_tf(realtf, case):
    assert _shown(CASES[case], tf) == _shown(CASES[case], realtf)


PRINTS = {
    "ragged": lambda m: (_r(m),),
    "in a structure": lambda m: ("r:", _r(m), [_r(m)]),
    "floats and strings": lambda m: (m.ragged.constant([[1.5], [2.0, 3.0]]),
                                     m.ragged.constant([["a", "b'"], ["c"]])),
    "nested": lambda m: (m.ragged.constant(NESTED),),
    "bools": lambda m: (m.ragged.constant([[True, False]]),),
    "long": lambda m: (m.ragged.constant([list(range(10))] * 7),),
}


@pytest.mark.parametrize("summarize", [3, 1])
@pytest.mark.parametrize("inputs", PRINTS)
def test_tf_print_of_ragged_matches_tf(realtf, capfd, inputs, summarize):
    realtf.print(*PRINTS[inputs](realtf), output_stream=sys.stdout, summarize=summarize)
    theirs = capfd.readouterr().out
    tf.print(*PRINTS[inputs](tf), output_stream=sys.stdout, summarize=summarize)
    assert capfd.readouterr().out == theirs


def test_gradients_reach_the_flat_values(realtf):
    def grads(m):
        values = m.constant([1.0, 2.0, 3.0, 4.0])
        with m.GradientTape() as tape:
            tape.watch(values)
            rt = m.RaggedTensor.from_row_lengths(values, [3, 0, 1])
            squared = m.ragged.map_flat_values(m.square, rt) * 2.0 + rt
            y = m.reduce_sum(squared.to_tensor(default_value=5.0) * m.constant([[1.0], [2.0],
                                                                               [3.0]]))
            y += m.reduce_sum(rt[0]) + m.reduce_sum(rt[:, 1:].flat_values)
        return tape.gradient(y, values).numpy()
    np.testing.assert_allclose(grads(tf), grads(realtf))
