"""Many floats to exact decimal text at once, in NumPy: the formatting behind ``metrics.csv``.

Python formats one float at a time (``"%.17g" % x``, about 0.3 us each); at 10,000 rows
a run and thousands of runs, that is most of a sweep's time. This module writes a whole
table in a few dozen array operations instead (about 60 ns a value here), looking digits up
four at a time in small tables, and drops the unused places of every row in one pass.

Every finite float ``x`` with ``1e-280 < |x| < 1e280`` is written in scientific notation
with at most 17 significant digits, ``d.ddddddddddddddde-XX`` (trailing zeros dropped), and
reads back as exactly ``x``. Values outside that range (rare: a run on its way to
diverging) are written by Python's ``%.17g``, one by one; either way the text of a value
depends on that value alone. The 17 digits are the integer ``D`` nearest to ``|x| * 10**s``
with ``s = 16 - floor(log10|x|)``. That product is computed exactly enough with Dekker's
error-free multiplication (``x * 10**s = p + err`` in double-double arithmetic, with ``10**s``
itself held as ``hi + lo``), so ``D`` is off from ``x`` by at most half a unit in the 17th
digit, which is less than half the spacing of floats near ``x``: reading ``D`` back rounds to
``x`` again.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

LIMIT = 280  # |x| within 10**-LIMIT .. 10**LIMIT is formatted by arrays
_LOWEST = -LIMIT - 4  # 10**s is needed for s = 16 - floor(log10|x|), give or take one


@cache
def _powers_of_ten() -> tuple[np.ndarray, np.ndarray]:
    """``10**s = hi[s - _LOWEST] + lo[s - _LOWEST]`` exactly enough, for every ``s`` needed; made on first use."""
    exponents = range(_LOWEST, LIMIT + 24)
    hi = np.array([float(Fraction(10) ** s) for s in exponents])
    lo = np.array([float(Fraction(10) ** s - Fraction(h)) for s, h in zip(exponents, hi)])
    return hi, lo


_SPLITTER = 2.0**27 + 1.0
PAD = 0  # a byte that is removed when rows are joined
ASCII_ZERO = ord("0")


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dekker's split: ``a = hi + lo`` with both halves 26 bits wide, so products of halves are exact."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _scaled(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The integer nearest to ``x * 10**s`` (``x > 0``), as int64, from a double-double product."""
    powers_hi, powers_lo = _powers_of_ten()
    hi, lo = powers_hi[s - _LOWEST], powers_lo[s - _LOWEST]
    p = x * hi
    x_hi, x_lo = _split(x)
    h_hi, h_lo = _split(hi)
    err = ((x_hi * h_hi - p) + x_hi * h_lo + x_lo * h_hi) + x_lo * h_lo + x * lo
    return p.astype(np.int64) + np.rint(err).astype(np.int64)  # p >= 2**53 here, so p is an integer


def significand_and_exponent(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``D`` (17 digits, ``10**16 <= D < 10**17``) and ``e`` with ``|x| ~ D * 10**(e - 16)``, for ``x != 0``."""
    magnitude = np.abs(x)
    exponent = np.floor(np.log10(magnitude)).astype(np.int64)
    for _ in range(3):  # log10 can be off by one next to a power of ten: correct and redo
        digits = _scaled(magnitude, 16 - exponent)
        too_big, too_small = digits >= 10**17, digits < 10**16
        if not (too_big.any() or too_small.any()):
            break
        exponent = exponent + too_big - too_small
    return digits, exponent


def in_range(values: np.ndarray) -> np.ndarray:
    """Which values the arrays format: zero, or ``10**-LIMIT < |x| < 10**LIMIT`` (so finite)."""
    magnitude = np.abs(values)
    return (magnitude == 0) | ((magnitude > 10.0**-LIMIT) & (magnitude < 10.0**LIMIT))


def _digit_groups() -> np.ndarray:
    """Four decimal digits as four ASCII bytes read as one ``uint32``: entry ``g`` for ``g < 10**4`` is
    ``g`` written out in full (``0400``), entry ``10**4 + g`` without its trailing zeros (``04``, and
    nothing at all for 0), for the last group of digits that is not all zeros."""
    numbers = np.arange(10**4)
    digits = np.stack([numbers // 1000, numbers // 100 % 10, numbers // 10 % 10, numbers % 10], axis=1)
    full = (ASCII_ZERO + digits).astype(np.uint8)
    trailing_zero = np.flip(np.cumprod(np.flip(digits == 0, axis=1), axis=1), axis=1).astype(bool)
    stripped = np.where(trailing_zero, PAD, full).astype(np.uint8)
    return np.ascontiguousarray(np.concatenate([full, stripped])).view(np.uint32).ravel()


def _exponents() -> np.ndarray:
    """``e-XX``/``e+XXX`` (at least two digits) for exponents ``-EXPONENT_SPAN`` to ``EXPONENT_SPAN``,
    as eight bytes (``uint64``), unused places ``PAD``."""
    table = np.full((2 * EXPONENT_SPAN + 1, 8), PAD, dtype=np.uint8)
    for row, exponent in enumerate(range(-EXPONENT_SPAN, EXPONENT_SPAN + 1)):
        text = f"e{'-' if exponent < 0 else '+'}{abs(exponent):02d}".encode()
        table[row, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    return table.view(np.uint64).ravel()


EXPONENT_SPAN = LIMIT + 20
DIGIT_GROUPS = _digit_groups()
EXPONENTS = _exponents()
FLOAT_WIDTH = 24  # bytes of one float's text: sign, digit, point, 16 digits, e, sign, 3 digits


def float_bytes(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Each float as 24 ASCII bytes ``-d.ddddddddddddddde-XXX``, unused places ``PAD`` (into ``out`` if given).

    The 16 digits after the point are four groups of four, each written by looking it up in
    ``DIGIT_GROUPS``: in full, or without its trailing zeros when every group after it is zero.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    n = len(values)
    out = np.empty((n, FLOAT_WIDTH), dtype=np.uint8) if out is None else out
    zero = values == 0
    by_python = ~in_range(values)
    significand, exponent = significand_and_exponent(np.where(zero | by_python, 1.0, values))
    leading, fraction = np.divmod(significand, 10**16)
    high, low = np.divmod(fraction, 10**8)
    groups = np.empty((4, n), dtype=np.int64)  # the fraction's digits, four at a time
    groups[0], groups[1] = np.divmod(high, 10**4)
    groups[2], groups[3] = np.divmod(low, 10**4)
    zeros_after = np.ones(n, dtype=bool)  # every group after this one is zero: drop this one's trailing zeros
    words = np.empty((n, 4), dtype=np.uint32)
    for place in range(3, -1, -1):
        words[:, place] = DIGIT_GROUPS[groups[place] + 10**4 * zeros_after]
        zeros_after &= groups[place] == 0
    out[:, 0] = np.where(values < 0, ord("-"), PAD)
    out[:, 1] = ASCII_ZERO + leading
    out[:, 2] = np.where(zeros_after, PAD, ord("."))  # no point before no digits
    out[:, 3:19] = words.view(np.uint8)
    out[:, 19:24] = EXPONENTS[exponent + EXPONENT_SPAN].view(np.uint8).reshape(n, 8)[:, :5]
    out[zero, 1] = ASCII_ZERO
    out[zero, 2:] = PAD
    for v in np.flatnonzero(by_python):
        text = f"{values[v]:.17g}".encode()
        out[v] = PAD
        out[v, : len(text)] = np.frombuffer(text, dtype=np.uint8)
    return out


def integer_bytes(values: np.ndarray, width: int) -> np.ndarray:
    """Each non-negative integer as ``width`` ASCII bytes, leading places ``PAD`` (zero is ``0``)."""
    remaining = np.asarray(values, dtype=np.int64).ravel()
    out = np.full((len(remaining), width), PAD, dtype=np.uint8)
    for place in range(width - 1, -1, -1):
        written = (remaining > 0) | (place == width - 1)
        remaining, digit = np.divmod(remaining, 10)
        out[:, place] = np.where(written, ASCII_ZERO + digit, PAD)
    return out


def table_rows(first: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """Rows ``first,c1,c2,...\n`` as a padded byte matrix: row ``r`` is ``rows[r][rows[r] != PAD]``."""
    n = len(first)
    width = max(1, len(str(int(first.max())))) if n else 1
    rows = np.empty((n, width + (1 + FLOAT_WIDTH) * len(columns) + 1), dtype=np.uint8)
    rows[:, :width] = integer_bytes(first, width)
    for c, column in enumerate(columns):
        start = width + (1 + FLOAT_WIDTH) * c
        rows[:, start] = ord(",")
        float_bytes(column, out=rows[:, start + 1 : start + 1 + FLOAT_WIDTH])
    rows[:, -1] = ord("\n")
    return rows


def join_rows(rows: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The rows of a padded byte matrix, pads removed, as one block of text; and where each row ends in it."""
    text = rows[rows != PAD]
    return text.tobytes(), np.flatnonzero(text == ord("\n")) + 1  # each row ends in its only newline
