"""Shewhart control charts from subgroup summaries: X̄-R, X̄-S, I-MR, p, np, c and u.

The entry points take *summaries* (subgroup means, ranges, SDs, counts, sizes) so a report can
compute them in SQL and never load raw rows; :func:`from_groups` builds the same charts from
raw subgroup lists for small data and tests. Every chart is 3-sigma and is built the same way:
a centre and a process sigma (the *basis*, a :class:`FrozenLimits`) give, per point,
``CL``, the sigma of the plotted statistic, ``UCL = CL + 3 sigma`` and ``LCL = CL - 3 sigma``
(clipped at 0 for R, S, MR, p, np, c, u). Drawing the limits from the same per-point sigma the
run rules use keeps a point "on the limit" on the limit for both.

Basis per kind (``FrozenLimits.cl`` / ``.sigma``):

* X̄-R: x̿ / mean(R_i/d2(n_i)) (= R̄/d2 for constant n). X̄ panel: x̿ ± 3σ/√n_i (= x̿ ± A2·R̄);
  R panel: CL d2(n_i)σ, sigma d3(n_i)σ, so UCL = D4·R̄ and LCL = D3·R̄ for constant n.
* X̄-S: x̿ / mean(s_i/c4(n_i)). X̄ panel x̿ ± 3σ/√n_i (= A3·s̄); S panel CL c4σ,
  sigma σ√(1−c4²) (= B3·s̄, B4·s̄).
* I-MR: mean of the values / MR̄/d2(2). MR panel as the R panel with n = 2 (first point None).
* p and np: p̄ = Σd/Σn / √(p̄(1−p̄)) per item; p panel sigma √(p̄(1−p̄)/n_i), np panel
  CL n·p̄ and sigma √(n·p̄(1−p̄)). np needs one constant n.
* c: c̄ / √c̄.   u: ū = Σc/Σn / √ū per unit; u panel sigma √(ū/n_i).

x̿ with variable subgroup sizes is weighted by size (Σn_i·x̄_i / Σn_i, the grand mean of all
values), which is what a SQL ``avg`` over the raw rows gives; with constant n it is the plain
mean of the means. Constants are the exact ones of :mod:`engine.quality.constants`.

Phase II: pass ``frozen=`` a stored :class:`FrozenLimits` (from :meth:`ControlChart.limits` of
a Phase I chart) and the points are judged against it instead of recomputed limits. For
attribute charts the sigma follows from the centre, so ``FrozenLimits.sigma`` may be omitted
(and must agree when given). ``sigma_within`` is always the estimate from the data at hand.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from decimal import Decimal
from numbers import Real
from typing import Callable, Sequence

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, constants, shown
from engine.quality.sigma import Sigma, SigmaMethod

KINDS = ("xbar_r", "xbar_s", "imr", "p", "np", "c", "u")
VARIABLE_KINDS = ("xbar_r", "xbar_s", "imr")


@dataclass(frozen=True)
class Series:
    """One plotted panel: the statistic per subgroup and its per-point limits.

    ``points`` may hold None (no value, e.g. the first moving range). ``lcl`` is typed
    ``float | None`` for charts without a lower limit; the charts here all have one (clipped
    at 0 where the statistic cannot be negative). ``sigma`` is the sigma of the plotted
    statistic, from which the run rules build their zones.
    """

    name: str
    points: tuple[float | None, ...]
    cl: tuple[float, ...]
    ucl: tuple[float, ...]
    lcl: tuple[float | None, ...]
    sigma: tuple[float, ...]

    def to_json(self) -> dict:
        """Plain JSON-ready dict (lists, None as null)."""
        return {"name": self.name, "points": list(self.points), "cl": list(self.cl),
                "ucl": list(self.ucl), "lcl": list(self.lcl), "sigma": list(self.sigma)}


@dataclass(frozen=True)
class FrozenLimits:
    """Centre and process sigma a chart's limits come from (stored for Phase II).

    See the module docstring for what ``cl`` and ``sigma`` mean per chart kind. ``kind``,
    when set, must match the chart the limits are applied to.
    """

    cl: float
    sigma: float | None = None
    kind: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "cl": self.cl, "sigma": self.sigma}

    @classmethod
    def from_json(cls, data: object) -> "FrozenLimits":
        """Rebuild stored limits; a malformed dict is a :class:`QualityInputError`."""
        if not isinstance(data, dict) or "cl" not in data:
            raise QualityInputError(msg("冻结控制限必须是含 cl 的对象，收到 {v}",
                                        "Frozen limits must be an object with 'cl', got {v}",
                                        v=shown(data)))
        kind = data.get("kind")
        if kind is not None and kind not in KINDS:
            raise _unknown_kind(kind)
        sigma = data.get("sigma")
        return cls(cl=_number(data["cl"], "frozen.cl"), kind=kind,
                   sigma=None if sigma is None else _number(sigma, "frozen.sigma"))


@dataclass(frozen=True)
class ControlChart:
    """A computed control chart: primary panel, optional R/S/MR panel and its basis.

    ``sizes`` are the subgroup sizes (1 per point for I-MR and c charts). ``phase`` is "I"
    when the limits were computed from these data and "II" when judged against frozen ones.
    """

    kind: str
    primary: Series
    secondary: Series | None
    sigma_within: Sigma | None
    sizes: tuple[int, ...]
    basis: FrozenLimits
    phase: str = "I"

    def limits(self) -> FrozenLimits:
        """The centre and sigma these limits came from, to store and pass back as ``frozen``."""
        return self.basis

    def to_json(self) -> dict:
        """Plain JSON-ready dict of the whole chart."""
        within = None if self.sigma_within is None else {
            "value": self.sigma_within.value, "method": self.sigma_within.method.value}
        return {"kind": self.kind, "phase": self.phase, "primary": self.primary.to_json(),
                "secondary": None if self.secondary is None else self.secondary.to_json(),
                "sigma_within": within, "sizes": list(self.sizes),
                "limits": self.basis.to_json()}


# --- input checks ----------------------------------------------------------------------------

def _where(name: str, index: int | None) -> Msg:
    if index is None:
        return Msg(name, name)
    return msg("{name}[{i}]（第 {n} 个）", "{name}[{i}] (no. {n})", name=name, i=index, n=index + 1)


def _number(value: object, name: str, index: int | None = None) -> float:
    """A finite float (Decimal from SQL accepted), else an error naming argument and index."""
    ok = not isinstance(value, bool) and isinstance(value, (Real, Decimal))
    if not ok or not math.isfinite(float(value)):
        where = _where(name, index)
        raise QualityInputError(msg("{w_zh} 不是有效数值：{v}", "{w_en} is not a valid number: {v}",
                                    w_zh=where.zh, w_en=where.en, v=shown(value)))
    return float(value)


def _sequence(values: object, name: str) -> Sequence:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise QualityInputError(msg("{name} 必须是非空列表，收到 {v}",
                                    "{name} must be a non-empty list, got {v}",
                                    name=name, v=shown(values)))
    return values


def _numbers(values: object, name: str, minimum: float | None = None) -> tuple[float, ...]:
    out = tuple(_number(v, name, i) for i, v in enumerate(_sequence(values, name)))
    below = [i for i, v in enumerate(out) if minimum is not None and v < minimum]
    if below:
        where = _where(name, below[0])
        raise QualityInputError(msg("{w_zh} 不能小于 {m}，收到 {v}",
                                    "{w_en} cannot be less than {m}, got {v}",
                                    w_zh=where.zh, w_en=where.en, m=minimum, v=out[below[0]]))
    return out


def _whole(values: object, name: str, minimum: int) -> tuple[int, ...]:
    out = _numbers(values, name)
    for i, v in enumerate(out):
        if v != int(v) or v < minimum:
            where = _where(name, i)
            raise QualityInputError(msg("{w_zh} 必须是不小于 {m} 的整数，收到 {v}",
                                        "{w_en} must be a whole number of at least {m}, got {v}",
                                        w_zh=where.zh, w_en=where.en, m=minimum, v=shown(v)))
    return tuple(int(v) for v in out)


def _subgroup_sizes(sizes: object, name: str = "sizes") -> tuple[int, ...]:
    """Sizes in 2..25, the range of the X̄-chart constant table."""
    return tuple(constants.subgroup_size(v, what=f"{name}[{i}]")
                 for i, v in enumerate(_whole(sizes, name, 1)))


def _same_length(first: str, a: Sequence, second: str, b: Sequence) -> None:
    if len(a) != len(b):
        raise QualityInputError(msg("{a} 有 {na} 个值而 {b} 有 {nb} 个；两者必须一一对应",
                                    "{a} has {na} values but {b} has {nb}; they must pair up",
                                    a=first, na=len(a), b=second, nb=len(b)))


def _not_above(counts: Sequence[int], name: str, sizes: Sequence[int]) -> None:
    for i, (c, n) in enumerate(zip(counts, sizes)):
        if c > n:
            where = _where(name, i)
            raise QualityInputError(msg("{w_zh} = {c} 大于样本量 sizes[{i}] = {n}",
                                        "{w_en} = {c} is larger than the sample size "
                                        "sizes[{i}] = {n}",
                                        w_zh=where.zh, w_en=where.en, c=c, i=i, n=n))


def _unknown_kind(kind: object) -> QualityInputError:
    return QualityInputError(msg("未知的控制图类型 {v}；可用：{known}",
                                 "Unknown control chart kind {v}; known: {known}",
                                 v=shown(kind), known=", ".join(KINDS)))


def _checked_frozen(kind: str, frozen: object) -> tuple[float, float | None]:
    """``frozen``'s centre and sigma as floats, once it is known to fit a ``kind`` chart."""
    if not isinstance(frozen, FrozenLimits):
        raise QualityInputError(msg("frozen 必须是 FrozenLimits，收到 {v}",
                                    "frozen must be a FrozenLimits, got {v}", v=shown(frozen)))
    if frozen.kind is not None and frozen.kind != kind:
        raise QualityInputError(msg("冻结的控制限属于 {a} 图，不能用于 {b} 图",
                                    "The frozen limits belong to a {a} chart, not a {b} chart",
                                    a=frozen.kind, b=kind))
    sigma = None if frozen.sigma is None else _number(frozen.sigma, "frozen.sigma")
    return _number(frozen.cl, "frozen.cl"), sigma


def _basis(kind: str, frozen: object, computed: FrozenLimits | None,
           unit_sigma: Callable[[float], float] | None = None) -> tuple[FrozenLimits, str]:
    """The limits to judge against: ``computed`` (Phase I) or the checked ``frozen`` ones.

    ``unit_sigma`` derives an attribute chart's sigma from its centre; variables charts
    (None) need the sigma stored with the limits.
    """
    if frozen is None:
        return computed, "I"
    cl, sigma = _checked_frozen(kind, frozen)
    if unit_sigma is None:
        if sigma is None or sigma <= 0:
            raise QualityInputError(msg("{k} 图的冻结控制限需要大于 0 的 sigma，收到 {v}",
                                        "Frozen limits of a {k} chart need a sigma above 0, "
                                        "got {v}", k=kind, v=shown(sigma)))
        return FrozenLimits(cl, sigma, kind), "II"
    if cl < 0 or (kind in ("p", "np") and cl > 1):
        raise QualityInputError(msg("{k} 图冻结的中心线 {v} 超出有效范围",
                                    "The frozen centre line {v} is out of range for a {k} chart",
                                    k=kind, v=cl))
    derived = unit_sigma(cl)
    if sigma is not None and not math.isclose(sigma, derived, rel_tol=1e-9, abs_tol=1e-12):
        raise QualityInputError(msg("{k} 图的 sigma 由中心线决定（{s}），冻结值 {v} 与之不符",
                                    "The sigma of a {k} chart follows from its centre line "
                                    "({s}); the frozen value {v} disagrees",
                                    k=kind, s=derived, v=sigma))
    return FrozenLimits(cl, derived, kind), "II"


# --- building panels -------------------------------------------------------------------------

def _series(name: str, points: Sequence[float | None], cl: Sequence[float],
            sigma: Sequence[float], clip: bool) -> Series:
    """A panel with 3-sigma limits per point; ``clip`` floors the LCL at 0."""
    lcl = tuple(c - 3 * s for c, s in zip(cl, sigma))
    return Series(name=name, points=tuple(points), cl=tuple(cl),
                  ucl=tuple(c + 3 * s for c, s in zip(cl, sigma)),
                  lcl=tuple(max(0.0, v) for v in lcl) if clip else lcl, sigma=tuple(sigma))


def _grand_mean(means: Sequence[float], sizes: Sequence[int]) -> float:
    if len(set(sizes)) == 1:
        return statistics.fmean(means)
    return sum(m * n for m, n in zip(means, sizes)) / sum(sizes)


def _per_subgroup(spread: Sequence[float], sizes: Sequence[int],
                  factor: Callable[[int], float]) -> float:
    """mean(spread_i / factor(n_i)); one division for constant n, as in the textbooks."""
    if len(set(sizes)) == 1:
        return statistics.fmean(spread) / factor(sizes[0])
    return statistics.fmean(v / factor(n) for v, n in zip(spread, sizes))


def _xbar_chart(kind: str, means: object, spreads: object, sizes: object, frozen: object,
                spread_name: str) -> ControlChart:
    m = _numbers(means, "means")
    spread = _numbers(spreads, spread_name, minimum=0)
    n = _subgroup_sizes(sizes)
    _same_length("means", m, spread_name, spread)
    _same_length("means", m, "sizes", n)
    by_range = kind == "xbar_r"
    factor = constants.d2 if by_range else constants.c4
    estimate = Sigma(_per_subgroup(spread, n, factor),
                     SigmaMethod.RANGE if by_range else SigmaMethod.STD_DEV)
    basis, phase = _basis(kind, frozen, FrozenLimits(_grand_mean(m, n), estimate.value, kind))
    sd = basis.sigma
    primary = _series("xbar", m, [basis.cl] * len(m), [sd / math.sqrt(k) for k in n], clip=False)
    if by_range:
        secondary = _series("r", spread, [constants.d2(k) * sd for k in n],
                            [constants.d3(k) * sd for k in n], clip=True)
    else:
        secondary = _series("s", spread, [constants.c4(k) * sd for k in n],
                            [sd * math.sqrt(1 - constants.c4(k) ** 2) for k in n], clip=True)
    return ControlChart(kind, primary, secondary, estimate, n, basis, phase)


def xbar_r(means: object, ranges: object, sizes: object, frozen: object = None) -> ControlChart:
    """X̄-R chart from subgroup means, ranges and sizes (2..25; may vary by subgroup)."""
    return _xbar_chart("xbar_r", means, ranges, sizes, frozen, "ranges")


def xbar_s(means: object, sds: object, sizes: object, frozen: object = None) -> ControlChart:
    """X̄-S chart from subgroup means, sample SDs (n−1) and sizes (2..25; may vary)."""
    return _xbar_chart("xbar_s", means, sds, sizes, frozen, "sds")


def imr(values: object, frozen: object = None) -> ControlChart:
    """Individuals and moving-range chart of values in time order (≥ 2 unless frozen)."""
    x = _numbers(values, "values")
    if len(x) < 2 and frozen is None:
        raise QualityInputError(msg("单值-移动极差图至少需要 2 个值才能计算控制限，只有 {n} 个",
                                    "An I-MR chart needs at least 2 values to compute limits; "
                                    "got {n}", n=len(x)))
    ranges = [abs(b - a) for a, b in zip(x, x[1:])]
    estimate = (Sigma(statistics.fmean(ranges) / constants.d2(2), SigmaMethod.MOVING_RANGE)
                if ranges else None)
    computed = (FrozenLimits(statistics.fmean(x), estimate.value, "imr")
                if estimate is not None else None)
    basis, phase = _basis("imr", frozen, computed)
    k, sd = len(x), basis.sigma
    primary = _series("i", x, [basis.cl] * k, [sd] * k, clip=False)
    secondary = _series("mr", [None, *ranges], [constants.d2(2) * sd] * k,
                        [constants.d3(2) * sd] * k, clip=True)
    return ControlChart("imr", primary, secondary, estimate, (1,) * k, basis, phase)


def _binomial_sigma(p: float) -> float:
    return math.sqrt(p * (1 - p))


def _attribute_counts(counts: object, name: str, sizes: object) -> tuple[tuple[int, ...],
                                                                         tuple[int, ...]]:
    d = _whole(counts, name, 0)
    n = _whole(sizes, "sizes", 1)
    _same_length(name, d, "sizes", n)
    return d, n


def p_chart(defectives: object, sizes: object, frozen: object = None) -> ControlChart:
    """p chart (fraction nonconforming) with stepped limits when the sample sizes vary."""
    d, n = _attribute_counts(defectives, "defectives", sizes)
    _not_above(d, "defectives", n)
    basis, phase = _basis("p", frozen, FrozenLimits(sum(d) / sum(n), None, "p"), _binomial_sigma)
    basis = replace(basis, sigma=_binomial_sigma(basis.cl))
    primary = _series("p", [di / ni for di, ni in zip(d, n)], [basis.cl] * len(d),
                      [basis.sigma / math.sqrt(ni) for ni in n], clip=True)
    return ControlChart("p", primary, None, None, n, basis, phase)


def np_chart(defectives: object, sizes: object, frozen: object = None) -> ControlChart:
    """np chart (number nonconforming); every sample must have the same size."""
    d, n = _attribute_counts(defectives, "defectives", sizes)
    if len(set(n)) != 1:
        raise QualityInputError(msg("np 图要求样本量恒定，但 sizes 含 {v}；样本量变化时请用 p 图",
                                    "An np chart needs one constant sample size but sizes holds "
                                    "{v}; use a p chart when the size varies",
                                    v=", ".join(str(v) for v in sorted(set(n)))))
    _not_above(d, "defectives", n)
    basis, phase = _basis("np", frozen, FrozenLimits(sum(d) / sum(n), None, "np"),
                          _binomial_sigma)
    basis = replace(basis, sigma=_binomial_sigma(basis.cl))
    size = n[0]
    primary = _series("np", [float(v) for v in d], [size * basis.cl] * len(d),
                      [basis.sigma * math.sqrt(size)] * len(d), clip=True)
    return ControlChart("np", primary, None, None, n, basis, phase)


def c_chart(counts: object, frozen: object = None) -> ControlChart:
    """c chart (nonconformities per constant inspection unit)."""
    c = _whole(counts, "counts", 0)
    basis, phase = _basis("c", frozen, FrozenLimits(statistics.fmean(c), None, "c"), math.sqrt)
    basis = replace(basis, sigma=math.sqrt(basis.cl))
    primary = _series("c", [float(v) for v in c], [basis.cl] * len(c), [basis.sigma] * len(c),
                      clip=True)
    return ControlChart("c", primary, None, None, (1,) * len(c), basis, phase)


def u_chart(counts: object, sizes: object, frozen: object = None) -> ControlChart:
    """u chart (nonconformities per unit) with stepped limits when the sizes vary."""
    c, n = _attribute_counts(counts, "counts", sizes)
    basis, phase = _basis("u", frozen, FrozenLimits(sum(c) / sum(n), None, "u"), math.sqrt)
    basis = replace(basis, sigma=math.sqrt(basis.cl))
    primary = _series("u", [ci / ni for ci, ni in zip(c, n)], [basis.cl] * len(c),
                      [basis.sigma / math.sqrt(ni) for ni in n], clip=True)
    return ControlChart("u", primary, None, None, n, basis, phase)


# --- raw subgroups ---------------------------------------------------------------------------

def _groups(groups: object) -> list[Sequence]:
    items = _sequence(groups, "groups")
    for i, group in enumerate(items):
        if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or not group:
            raise QualityInputError(msg("groups[{i}]（第 {n} 组）必须是非空的数值列表，收到 {v}",
                                        "groups[{i}] (subgroup {n}) must be a non-empty list "
                                        "of values, got {v}", i=i, n=i + 1, v=shown(group)))
    return list(items)


def _measurements(groups: object) -> list[tuple[float, ...]]:
    out = []
    for i, group in enumerate(_groups(groups)):
        constants.subgroup_size(len(group), what=f"len(groups[{i}])")
        out.append(_numbers(group, f"groups[{i}]"))
    return out


def _from_xbar(kind: str, groups: object, frozen: object) -> ControlChart:
    data = _measurements(groups)
    spread = ([max(g) - min(g) for g in data] if kind == "xbar_r"
              else [statistics.stdev(g) for g in data])
    builder = xbar_r if kind == "xbar_r" else xbar_s
    return builder([statistics.fmean(g) for g in data], spread, [len(g) for g in data], frozen)


def _from_individuals(groups: object, frozen: object) -> ControlChart:
    values = []
    for i, item in enumerate(_sequence(groups, "groups")):
        if isinstance(item, Sequence) and not isinstance(item, (str, bytes)):
            if len(item) != 1:
                raise QualityInputError(msg(
                    "单值图的 groups[{i}] 必须只含 1 个值，收到 {n} 个",
                    "groups[{i}] of an individuals chart must hold exactly 1 value, got {n}",
                    i=i, n=len(item)))
            item = item[0]
        values.append(_number(item, "groups", i))
    return imr(values, frozen)


def _from_attributes(kind: str, groups: object, frozen: object) -> ControlChart:
    items = _groups(groups)
    sizes = [len(g) for g in items]
    if kind in ("c", "u"):
        counts = [sum(_whole(g, f"groups[{i}]", 0)) for i, g in enumerate(items)]
        return c_chart(counts, frozen) if kind == "c" else u_chart(counts, sizes, frozen)
    for i, g in enumerate(items):  # bools are welcome here: True = nonconforming
        bad = [v for v in g if isinstance(v, (str, bytes)) or v not in (0, 1)]
        if bad:
            raise QualityInputError(msg(
                "{k} 图的 groups[{i}] 每项必须是 0/1（1 = 不合格品），收到 {v}",
                "Each item of groups[{i}] of a {k} chart must be 0/1 (1 = nonconforming), "
                "got {v}", k=kind, i=i, v=shown(bad[0])))
    counts = [sum(1 for v in g if v) for g in items]
    return (p_chart if kind == "p" else np_chart)(counts, sizes, frozen)


def from_groups(kind: str, groups: object, frozen: object = None) -> ControlChart:
    """Chart ``kind`` from raw subgroups instead of summaries.

    * ``xbar_r`` / ``xbar_s``: each group lists the measurements of one subgroup (2..25).
    * ``imr``: the values in time order, plain or as one-value groups.
    * ``p`` / ``np``: each group lists the inspected items as 0/1 or bool (1 = nonconforming);
      the group length is the sample size.
    * ``c`` / ``u``: each group lists the nonconformity count of every inspection unit; the
      chart uses the group total (and, for u, the group length as the number of units).
    """
    if kind in ("xbar_r", "xbar_s"):
        return _from_xbar(kind, groups, frozen)
    if kind == "imr":
        return _from_individuals(groups, frozen)
    if kind in ("p", "np", "c", "u"):
        return _from_attributes(kind, groups, frozen)
    raise _unknown_kind(kind)
