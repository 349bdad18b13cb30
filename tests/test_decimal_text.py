"""The array formatter behind metrics.csv: every float it writes reads back exactly."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from src.decimal_text import LIMIT, float_bytes, in_range, integer_bytes, join_rows, table_rows

formattable = st.floats(min_value=10.0 ** (-LIMIT + 1), max_value=10.0 ** (LIMIT - 1)) | st.just(0.0)


def texts(rows):
    return [row[row != 0].tobytes().decode() for row in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(formattable, st.booleans()).map(lambda t: -t[0] if t[1] else t[0]), min_size=1, max_size=50))
def test_every_float_reads_back_exactly(values):
    values = np.array(values)
    assert in_range(values).all()
    assert [float(text) for text in texts(float_bytes(values))] == list(values)


def test_many_magnitudes_and_awkward_values_read_back_exactly():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.random(20000),
            np.exp(rng.uniform(-640, 640, 20000)),
            10.0 ** np.arange(-279, 280),  # next to powers of ten, where log10 can be off by one
            np.nextafter(10.0 ** np.arange(-279, 280), 0),
            [0.1, 1 / 3, 2 / 3, 0.5, 1.0, 0.0, 123456789.0],
        ]
    )
    assert np.array_equal(np.array([float(t) for t in texts(float_bytes(values))]), values)


def test_short_values_are_written_short():
    assert texts(float_bytes(np.array([0.5, 1.0, 0.0, -0.25, 1e-100]))) == ["5e-01", "1e+00", "0", "-2.5e-01", "1e-100"]
    assert texts(integer_bytes(np.array([0, 7, 10, 9999]), 5)) == ["0", "7", "10", "9999"]


def test_out_of_range_values_are_written_by_python_and_their_text_depends_on_them_alone():
    extreme = np.array([1e300, -1e-300, 5e-324, 1.7976931348623157e308])
    assert not in_range(extreme).any()
    alone = [texts(float_bytes(np.array([v])))[0] for v in extreme]
    together = texts(float_bytes(np.concatenate([extreme, [0.5, 0.25]])))
    assert together[:4] == alone == [f"{v:.17g}" for v in extreme]
    assert [float(t) for t in alone] == list(extreme)
    assert together[4:] == texts(float_bytes(np.array([0.5, 0.25])))


def test_table_rows_are_csv_lines():
    text, ends = join_rows(table_rows(np.array([0, 10]), [np.array([0.5, 0.25]), np.array([1.0, 0.75])]))
    assert text.decode() == "0,5e-01,1e+00\n10,2.5e-01,7.5e-01\n"
    assert list(ends) == [len("0,5e-01,1e+00\n"), len(text)]
