"""COO matrices from arrays we built valid, without scipy re-checking them.

`coo_matrix((data, (row, col)), shape)` converts and range-checks its arrays
(index dtype, native byte order, max and min of every index array): about
25 µs, and a message builds a dozen such matrices, about 6 % of a turn. Where
our own code has just built the arrays in range and of the index dtype scipy
would pick, we set the same attributes directly. That relies on scipy's
internal layout, so it is done only for the scipy version we checked (the tests
compare every attribute with the constructor's); any other version, or arrays
not in that exact form, go through the constructor.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import scipy
import scipy.sparse
from scipy.sparse._data import _data_matrix

SUPPORTED_SCIPY = ("1.10.1",)
_INT32_MAX = np.iinfo(np.int32).max


def _index_dtype(shape: Tuple[int, int]) -> np.dtype:
    return np.dtype(np.int32) if max(shape) <= _INT32_MAX else np.dtype(np.int64)


def _in_constructor_form(data: np.ndarray, row: np.ndarray, col: np.ndarray, shape: Tuple[int, int]) -> bool:
    index_dtype = _index_dtype(shape)
    return (
        scipy.__version__ in SUPPORTED_SCIPY
        and type(shape) is tuple
        and len(shape) == 2
        and all(type(n) is int and n >= 0 for n in shape)
        and all(type(a) is np.ndarray and a.ndim == 1 for a in (data, row, col))
        and row.dtype == index_dtype
        and col.dtype == index_dtype
        and data.dtype.isnative
        and len(data) == len(row) == len(col)
    )


def trusted_coo(
    data: np.ndarray, row: np.ndarray, col: np.ndarray, shape: Tuple[int, int]
) -> scipy.sparse.coo_matrix:
    """`coo_matrix((data, (row, col)), shape=shape)`; the caller guarantees
    0 <= row < shape[0] and 0 <= col < shape[1]."""
    if not _in_constructor_form(data, row, col, shape):
        return scipy.sparse.coo_matrix((data, (row, col)), shape=shape)
    matrix = scipy.sparse.coo_matrix.__new__(scipy.sparse.coo_matrix)
    _data_matrix.__init__(matrix)  # what the constructor starts with: maxprint, _shape
    matrix._shape = shape
    matrix.row = row
    matrix.col = col
    matrix.data = data
    matrix.has_canonical_format = False
    return matrix
