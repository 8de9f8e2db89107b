"""Aggregations a report measure can use: one registered class each.

An aggregation says which options it takes, checks them against the resolved paths, returns the
SQL expressions it needs (its *parts*, computed in the dataset's single query) and combines the
parts into the value. Adding one is one class and one ``AGGREGATIONS.register`` line.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from sqlalchemy import Float, case, cast, func, literal, or_

from engine.errors import Problem
from engine.fields.base import StorageKind
from engine.i18n import Msg, msg
from engine.quality import constants
from engine.registry import Registry
from engine.reports.model import Measure
from engine.reports.paths import FieldRef

AGGREGATIONS: Registry["Aggregation"] = Registry("report aggregations")


class Aggregation:
    """Base class. ``field``: "required" | "optional" | "none"; ``options``: the measure
    properties it accepts besides ``agg``/``key``/``label``/``field``."""

    key = ""
    label = Msg("", "")
    field = "required"
    numeric = True              # the field must be a number
    options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    counts_rows = True          # the result depends on how often a row repeats (refuse ancestor fields)
    percent = False             # shown as a percentage (the value is a fraction)
    unit = ""

    def problems(self, m: Measure, refs: dict[str, FieldRef], path: str) -> list[Problem]:
        """Problems beyond the generic ones (field presence and type are checked by the caller)."""
        return []

    def parts(self, m: Measure, q) -> list:
        """SQL expressions (aggregates over the group) whose values ``finish`` combines."""
        raise NotImplementedError

    def finish(self, m: Measure, parts: Sequence[Any]) -> Any:
        return _num(parts[0])

    # Two-level plans (engine.reports.query): the parts are first aggregated per subgroup, then
    # rolled up per group. ``rollup`` = None: the aggregation cannot be split (count_distinct).
    rollup: tuple[Callable, ...] | None = None

    def subgroup_parts(self, m: Measure, q) -> list:
        """The per-subgroup aggregates a two-level plan rolls up (default: the parts themselves)."""
        return self.parts(m, q)

    def rolled_up(self, m: Measure, inner: Sequence) -> list:
        """The group's parts from the subgroup columns ``inner`` (same layout as :meth:`parts`)."""
        return [fn(col) for fn, col in zip(self.rollup, inner)]


class _NoWithin:
    """A query context whose ``within_sigma`` is not asked (subgroup parts compute it themselves)."""

    def __init__(self, q):
        self._q = q

    def __getattr__(self, name):
        if name == "within_sigma":
            return lambda m: cast(literal(None), Float)
        return getattr(self._q, name)


def _num(value: Any) -> float | int | None:
    """A database number as int/float (Decimal → float); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _register(cls):
    AGGREGATIONS.register(cls.key, cls())
    return cls


@_register
class Count(Aggregation):
    key, label, field = "count", Msg("计数", "Count"), "none"
    rollup = (func.sum,)

    def parts(self, m, q):
        return [func.count()]


@_register
class CountDistinct(Aggregation):
    key, label, numeric, counts_rows = "count_distinct", Msg("去重计数", "Distinct count"), False, False

    def parts(self, m, q):
        return [func.count(q.column(m.field).distinct())]


class _Simple(Aggregation):
    fn: Callable = func.sum

    def parts(self, m, q):
        return [type(self).fn(q.number(m.field))]


@_register
class Sum(_Simple):
    key, label, fn, rollup = "sum", Msg("求和", "Sum"), func.sum, (func.sum,)


@_register
class Avg(Aggregation):
    """Sum and count of the values (so the average also rolls up over subgroups)."""

    key, label, rollup = "avg", Msg("平均值", "Average"), (func.sum, func.sum)

    def parts(self, m, q):
        x = q.number(m.field)
        return [func.sum(x), func.count(x)]

    def finish(self, m, parts):
        total, n = _num(parts[0]), _num(parts[1]) or 0
        return total / n if n and total is not None else None


@_register
class Min(Aggregation):
    key, label, numeric, counts_rows = "min", Msg("最小值", "Minimum"), False, False
    rollup = (func.min,)

    def parts(self, m, q):
        return [func.min(q.column(m.field))]

    def finish(self, m, parts):
        return parts[0] if not isinstance(parts[0], (int, float)) or isinstance(parts[0], bool) else _num(parts[0])


@_register
class Max(Min):
    key, label, rollup = "max", Msg("最大值", "Maximum"), (func.max,)

    def parts(self, m, q):
        return [func.max(q.column(m.field))]


@_register
class Range(Aggregation):
    key, label, rollup = "range", Msg("极差", "Range"), (func.max, func.min)

    def parts(self, m, q):
        x = q.number(m.field)
        return [func.max(x), func.min(x)]

    def finish(self, m, parts):
        high, low = _num(parts[0]), _num(parts[1])
        return high - low if high is not None and low is not None else None


class _Moments(Aggregation):
    """Count, sum and sum of squares of a number (shifted by ``shift`` against cancellation)."""

    rollup = (func.sum, func.sum, func.sum)

    def moments(self, m, q, shift: float = 0.0) -> list:
        x = q.number(m.field)
        d = x - literal(shift) if shift else x
        return [func.count(x), func.sum(d), func.sum(d * d)]

    @staticmethod
    def mean_sd(parts, shift: float = 0.0) -> tuple[int, float | None, float | None]:
        n, s, ss = int(_num(parts[0]) or 0), _num(parts[1]), _num(parts[2])
        if n == 0 or s is None:
            return n, None, None
        mean = s / n
        if n < 2 or ss is None:
            return n, mean + shift, None
        var = max((ss - s * s / n) / (n - 1), 0.0)
        return n, mean + shift, math.sqrt(var)


@_register
class StdDev(_Moments):
    key, label = "stddev", Msg("标准差", "Standard deviation")

    def parts(self, m, q):
        return self.moments(m, q)

    def finish(self, m, parts):
        return self.mean_sd(parts)[2]


@_register
class Rate(Aggregation):
    """Share of the group's rows where ``where`` holds (a fraction; shown as %)."""

    key, label, field, options, required, percent = "rate", Msg("比率", "Rate"), "none", ("where",), ("where",), True
    rollup = (func.sum, func.sum)

    def parts(self, m, q):
        return [func.sum(case((q.condition(m.where), 1), else_=0)), func.count()]

    def finish(self, m, parts):
        hits, total = _num(parts[0]) or 0, _num(parts[1]) or 0
        return hits / total if total else None


@_register
class Ppm(Aggregation):
    """Parts per million: ``SUM(field) / SUM(per) × 10⁶`` (defective units / inspected units), or
    the share of rows where ``where`` holds × 10⁶."""

    key, label, field, options, unit = "ppm", Msg("PPM", "PPM"), "optional", ("where", "per"), "ppm"
    rollup = (func.sum, func.sum)

    def problems(self, m, refs, path):
        if m.where and (m.field or m.per):
            return [Problem(path, msg("PPM 用 where（按行计数），或用 field 与 per（求和之比），不能同时用",
                                      "PPM takes either 'where' (counting rows) or 'field' with 'per' (a ratio of sums), not both"))]
        if not m.where and not (m.field and m.per):
            return [Problem(path, msg("PPM 需要 where 条件，或 field（不良数）与 per（检验数）",
                                      "PPM needs a 'where' condition, or 'field' (defective units) and 'per' (inspected units)"))]
        return []

    def parts(self, m, q):
        if m.where:
            return [func.sum(case((q.condition(m.where), 1), else_=0)), func.count()]
        return [func.sum(q.number(m.field)), func.sum(q.number(m.per))]

    def finish(self, m, parts):
        top, bottom = _num(parts[0]) or 0, _num(parts[1]) or 0
        return top / bottom * 1_000_000 if bottom else None


class _Capability(_Moments):
    """Cpk / Ppk of a measured number against LSL/USL (numbers, or fields holding the limits:
    the group's smallest LSL and largest USL are used)."""

    options = ("lsl", "usl")
    within = False
    rollup = (func.sum, func.sum, func.sum, func.min, func.max)

    def problems(self, m, refs, path):
        if m.lsl is None and m.usl is None:
            return [Problem(path, msg("{a} 至少需要规格下限 lsl 或上限 usl", "{a} needs at least one of lsl and usl",
                                      a=self.label.en))]
        if isinstance(m.lsl, (int, float)) and isinstance(m.usl, (int, float)) and m.lsl >= m.usl:
            return [Problem(path + ".usl", msg("规格上限应大于下限", "usl must be greater than lsl"))]
        return []

    @staticmethod
    def shift(m: Measure) -> float:
        limits = [v for v in (m.lsl, m.usl) if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return sum(limits) / len(limits) if limits else 0.0

    def parts(self, m, q):
        out = self.moments(m, q, self.shift(m))
        if self.within:        # Cpk needs the mean, not the overall spread: no sum of squares to compute
            out[2] = cast(literal(None), Float)
        for limit, fn in ((m.lsl, func.min), (m.usl, func.max)):
            out.append(fn(q.number(limit)) if isinstance(limit, str) else literal(limit, Float) if limit is not None
                       else cast(literal(None), Float))
        if self.within:
            out.append(q.within_sigma(m))
        return out

    def subgroup_parts(self, m, q):
        """Per subgroup: the moments and limits, plus its range (with its size, the first part, for R̄/d2)."""
        x = q.number(m.field)
        out = self.parts(m, _NoWithin(q))[:5]          # moments and limits; σ within comes from n and r
        return out + [func.max(x) - func.min(x)] if self.within else out

    def rolled_up(self, m, inner):
        out = [fn(col) for fn, col in zip(self.rollup, inner[:5])]
        if self.within:
            n, r = inner[0], inner[5]
            d2 = case(*((n == size, constants.d2(size)) for size in range(2, 26)), else_=None)
            out.append(func.avg(r / d2))
        return out

    def finish(self, m, parts):
        n, mean, overall = self.mean_sd(parts[:3], self.shift(m))
        lsl, usl = _num(parts[3]), _num(parts[4])
        sd = _num(parts[5]) if self.within else overall
        if mean is None or not sd or (lsl is None and usl is None):
            return None
        sides = [v for v in ((usl - mean) / (3 * sd) if usl is not None else None,
                             (mean - lsl) / (3 * sd) if lsl is not None else None) if v is not None]
        return min(sides)


@_register
class Cpk(_Capability):
    """Within sigma: the average of R/d2(n) over subgroups when the field is a sub-table column
    (each parent row is a subgroup), else MR̄/d2(2) of the values in time order."""

    key, label, within = "cpk", Msg("Cpk", "Cpk"), True


@_register
class Ppk(_Capability):
    """Overall sigma: the sample standard deviation (n − 1) of every value."""

    key, label = "ppk", Msg("Ppk", "Ppk")


@_register
class CountValues(Aggregation):
    """Values that are not blank (a subgroup's size when some readings are missing)."""

    key, label, numeric, rollup = "count_values", Msg("非空值计数", "Count of values"), False, (func.sum,)

    def parts(self, m, q):
        col = q.column(m.field)
        if q.ref(m.field).kind is StorageKind.TEXT:        # an empty text is blank too
            return [func.sum(case(((col.is_not(None)) & (col != ""), 1), else_=0))]
        return [func.count(col)]

    def finish(self, m, parts):
        return int(_num(parts[0]) or 0)


@_register
class CountWhere(Aggregation):
    """Rows where ``where`` holds (the defectives of a p chart, the defects of a c chart)."""

    key, label, field = "count_where", Msg("满足条件的行数", "Rows where the condition holds"), "none"
    rollup = (func.sum,)
    options, required = ("where",), ("where",)

    def parts(self, m, q):
        return [func.sum(case((q.condition(m.where), 1), else_=0))]

    def finish(self, m, parts):
        return int(_num(parts[0]) or 0)


@_register
class CountOutside(Aggregation):
    """Values strictly outside the numeric limits ``lsl``/``usl`` (observed PPM's numerator;
    a value on a limit is in specification)."""

    key, label, options = "count_outside", Msg("超出规格的值数", "Values outside the limits"), ("lsl", "usl")
    rollup = (func.sum,)

    def problems(self, m, refs, path):
        limits = [v for v in (m.lsl, m.usl) if v is not None]
        if not limits or any(isinstance(v, str) or isinstance(v, bool) for v in limits):
            return [Problem(path, msg("{a} 需要数值形式的 lsl 或 usl", "{a} needs lsl or usl as numbers", a=self.key))]
        return []

    def parts(self, m, q):
        x = q.number(m.field)
        outside = []
        if m.lsl is not None:
            outside.append(x < literal(float(m.lsl), Float))
        if m.usl is not None:
            outside.append(x > literal(float(m.usl), Float))
        return [func.sum(case((or_(*outside), 1), else_=0))]

    def finish(self, m, parts):
        return int(_num(parts[0]) or 0)
