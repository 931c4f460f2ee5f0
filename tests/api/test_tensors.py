"""The compact tensor form's encoder: pieces that join into the whole array's base64."""

from __future__ import annotations

import base64

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.api.tensors import BASE64_PIECE_BYTES, base64_pieces

PIECE_FLOATS = BASE64_PIECE_BYTES // 4


@settings(max_examples=40, deadline=None)
@given(
    count=st.one_of(
        st.integers(0, 50),
        st.integers(PIECE_FLOATS - 3, PIECE_FLOATS + 3),
        st.integers(2 * PIECE_FLOATS - 2, 2 * PIECE_FLOATS + 2),
    )
)
def test_pieces_join_into_the_whole_arrays_base64(count: int) -> None:
    array = np.arange(count, dtype=np.float32) * 0.5 - 7
    shape, pieces = base64_pieces(array)
    assert shape == [count]
    assert b"".join(pieces) == base64.b64encode(array.astype("<f4").tobytes())
    assert all(len(p) <= BASE64_PIECE_BYTES * 4 // 3 for p in pieces)


def test_pieces_of_a_non_contiguous_or_other_dtype_array() -> None:
    array = np.arange(24, dtype=np.float64).reshape(2, 3, 4).transpose(2, 0, 1)
    shape, pieces = base64_pieces(array)
    assert shape == [4, 2, 3]
    decoded = np.frombuffer(base64.b64decode(b"".join(pieces)), "<f4").reshape(shape)
    np.testing.assert_array_equal(decoded, array.astype(np.float32))
