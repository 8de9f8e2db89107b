"""Shewhart control-chart constants for subgroup size n = 2..25.

Values are the *exact* column of ``spc_constants.json`` (6 decimals, computed by numerical
integration), not the 3-decimal published tables: the published D3/D4 differ in the last digit
at several places because they were derived from rounded d2/d3. Outside 2..25 there is no
tabulated value and every function raises :class:`QualityInputError`.

    d2  E[R]/sigma                     A2  3/(d2*sqrt(n))      D3/D4  R-chart limit factors
    d3  SD[R]/sigma                    A3  3/(c4*sqrt(n))      B3/B4  S-chart limit factors
    c4  E[s]/sigma                     E2  3/d2 (I-chart, moving range of span 2)
"""
from __future__ import annotations

import math
from functools import lru_cache
from numbers import Real

from engine.i18n import msg
from engine.quality import QualityInputError, shown
from engine.quality.reference import load

NAMES = ("d2", "d3", "c4", "A2", "A3", "D3", "D4", "B3", "B4", "E2")
MIN_N = 2
MAX_N = 25


@lru_cache(maxsize=1)
def _table() -> dict[int, dict[str, float]]:
    """{n: {name: exact value}} from the shipped JSON."""
    return {int(row["n"]): {k: float(v) for k, v in row["exact"].items()}
            for row in load("spc_constants.json")["rows"]}


def subgroup_size(n: object, what: str = "n") -> int:
    """``n`` as an int in 2..25 (an integral float such as 5.0 is accepted), else an error."""
    if isinstance(n, bool) or not isinstance(n, Real) or not math.isfinite(n) or n != int(n):
        raise QualityInputError(msg("{what} 必须是整数（子组大小），收到 {v}",
                                    "{what} must be a whole number (subgroup size), got {v}",
                                    what=what, v=shown(n)))
    size = int(n)
    if not MIN_N <= size <= MAX_N:
        raise QualityInputError(msg(
            "{what} = {n} 超出控制图系数表范围（2 至 25）；子组更大时请改用合并标准差",
            "{what} = {n} is outside the control-chart constant table (2 to 25); "
            "for larger subgroups use the pooled standard deviation",
            what=what, n=size))
    return size


def value(name: str, n: object) -> float:
    """The exact constant ``name`` (one of :data:`NAMES`) for subgroup size ``n``."""
    if name not in NAMES:
        raise QualityInputError(msg("未知的控制图系数 {name}；可用：{known}",
                                    "Unknown control-chart constant {name}; known: {known}",
                                    name=name, known=", ".join(NAMES)))
    return _table()[subgroup_size(n)][name]


def d2(n: object) -> float:
    """d2(n): mean relative range, sigma = R-bar / d2."""
    return value("d2", n)


def d3(n: object) -> float:
    """d3(n): standard deviation of the relative range."""
    return value("d3", n)


def c4(n: object) -> float:
    """c4(n): bias factor of the sample SD, sigma = s-bar / c4."""
    return value("c4", n)


def A2(n: object) -> float:  # noqa: N802  (the textbook symbol)
    """A2(n): X-bar chart limits from R-bar, x-double-bar +/- A2 * R-bar."""
    return value("A2", n)


def A3(n: object) -> float:  # noqa: N802
    """A3(n): X-bar chart limits from s-bar, x-double-bar +/- A3 * s-bar."""
    return value("A3", n)


def D3(n: object) -> float:  # noqa: N802
    """D3(n): R chart lower limit factor, LCL = D3 * R-bar."""
    return value("D3", n)


def D4(n: object) -> float:  # noqa: N802
    """D4(n): R chart upper limit factor, UCL = D4 * R-bar."""
    return value("D4", n)


def B3(n: object) -> float:  # noqa: N802
    """B3(n): S chart lower limit factor, LCL = B3 * s-bar."""
    return value("B3", n)


def B4(n: object) -> float:  # noqa: N802
    """B4(n): S chart upper limit factor, UCL = B4 * s-bar."""
    return value("B4", n)


def E2(n: object) -> float:  # noqa: N802
    """E2(n) = 3/d2(n): individuals chart limits from the moving range."""
    return value("E2", n)
