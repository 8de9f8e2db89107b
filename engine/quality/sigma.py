"""Estimates of the process standard deviation used by capability indices and control charts.

* within-subgroup ("short-term") sigma, one of
  - ``moving_range``: MR-bar / d2(2) for individual values in time order (I-MR chart);
  - ``range``: R-bar / d2(n) for subgroups (X-bar-R chart; the AIAG default);
  - ``std_dev``: s-bar / c4(n) for subgroups (X-bar-S chart);
  - ``pooled``: sqrt(sum((n_i - 1) * s_i^2) / sum(n_i - 1)), no unbiasing constant;
* ``overall`` ("long-term") sigma: the sample standard deviation (n - 1) of all values.

With subgroups of different sizes, ``range`` and ``std_dev`` average R_i/d2(n_i) and
s_i/c4(n_i) over the subgroups (equal to R-bar/d2 and s-bar/c4 when the sizes are equal).
The constants are the exact ones from :mod:`engine.quality.constants`.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from enum import Enum
from numbers import Real
from typing import Sequence

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, shown
from engine.quality import constants


class SigmaMethod(str, Enum):
    """How a sigma was estimated (recorded on every capability result)."""

    MOVING_RANGE = "moving_range"
    RANGE = "range"
    STD_DEV = "std_dev"
    POOLED = "pooled"
    OVERALL = "overall"

    @property
    def label(self) -> Msg:
        """Bilingual description for reports (the choice changes Cp/Cpk, so it is shown)."""
        return _LABELS[self.value]


_LABELS = {
    "moving_range": Msg("组内标准差 = 平均移动极差 / d2(2)", "Within sigma = MR-bar / d2(2)"),
    "range": Msg("组内标准差 = 平均极差 / d2(n)", "Within sigma = R-bar / d2(n)"),
    "std_dev": Msg("组内标准差 = 平均标准差 / c4(n)", "Within sigma = s-bar / c4(n)"),
    "pooled": Msg("组内标准差 = 合并标准差", "Within sigma = pooled standard deviation"),
    "overall": Msg("整体标准差（样本标准差，n−1）", "Overall sigma = sample standard deviation (n−1)"),
}
SUBGROUP_METHODS = (SigmaMethod.RANGE, SigmaMethod.STD_DEV, SigmaMethod.POOLED)


@dataclass(frozen=True)
class Sigma:
    """A sigma estimate and the method that produced it."""

    value: float
    method: SigmaMethod


@dataclass(frozen=True)
class Sample:
    """Validated measurement data: ``subgroups`` is empty for individual values."""

    values: tuple[float, ...]
    subgroups: tuple[tuple[float, ...], ...] = ()

    @property
    def is_subgrouped(self) -> bool:
        return bool(self.subgroups)


def _number(value: object, where: Msg) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise QualityInputError(msg("{w_zh}不是有效数值：{v}", "{w_en} is not a valid number: {v}",
                                    w_zh=where.zh, w_en=where.en, v=shown(value)))
    return float(value)


def sample(data: object) -> Sample:
    """Check ``data``: a sequence of numbers (individuals) or of sequences (subgroups)."""
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or len(data) == 0:
        raise QualityInputError(msg("测量数据必须是非空的数值列表（或子组列表）",
                                    "Measurement data must be a non-empty list of numbers "
                                    "(or a list of subgroups)"))
    if all(isinstance(g, Sequence) and not isinstance(g, (str, bytes)) for g in data):
        groups = tuple(
            tuple(_number(v, msg("第 {g} 个子组的第 {i} 个值", "Value {i} of subgroup {g}",
                                 g=gi, i=vi)) for vi, v in enumerate(group, 1))
            for gi, group in enumerate(data, 1))
        return Sample(tuple(v for g in groups for v in g), groups)
    values = tuple(_number(v, msg("第 {i} 个值", "Value {i}", i=i)) for i, v in enumerate(data, 1))
    return Sample(values)


def overall(values: Sequence[float]) -> Sigma:
    """Sample standard deviation (n - 1) of all values."""
    if len(values) < 2:
        raise QualityInputError(msg("计算标准差至少需要 2 个数值，只有 {n} 个",
                                    "At least 2 values are needed for a standard deviation; "
                                    "got {n}",
                                    n=len(values)))
    return Sigma(statistics.stdev(values), SigmaMethod.OVERALL)


def moving_range(values: Sequence[float]) -> Sigma:
    """MR-bar / d2(2) with moving ranges of span 2 in the given order."""
    if len(values) < 2:
        raise QualityInputError(msg("计算移动极差至少需要 2 个数值，只有 {n} 个",
                                    "At least 2 values are needed for a moving range; got {n}",
                                    n=len(values)))
    ranges = [abs(b - a) for a, b in zip(values, values[1:])]
    return Sigma(statistics.fmean(ranges) / constants.d2(2), SigmaMethod.MOVING_RANGE)


def _check_sizes(groups: Sequence[Sequence[float]]) -> None:
    for index, group in enumerate(groups, 1):
        if not constants.MIN_N <= len(group) <= constants.MAX_N:
            raise QualityInputError(msg(
                "第 {g} 个子组有 {n} 个值；极差法和标准差法要求每个子组 2 至 25 个值，"
                "否则请改用合并标准差",
                "Subgroup {g} has {n} value(s); the range and s-bar methods need 2 to 25 values "
                "per subgroup (use the pooled standard deviation otherwise)",
                g=index, n=len(group)))


def range_method(groups: Sequence[Sequence[float]]) -> Sigma:
    """R-bar / d2(n) (average of R_i / d2(n_i) when subgroup sizes differ)."""
    _check_sizes(groups)
    if all(len(g) == len(groups[0]) for g in groups):  # one division, as in the textbooks
        r_bar = statistics.fmean(max(g) - min(g) for g in groups)
        return Sigma(r_bar / constants.d2(len(groups[0])), SigmaMethod.RANGE)
    return Sigma(statistics.fmean((max(g) - min(g)) / constants.d2(len(g)) for g in groups),
                 SigmaMethod.RANGE)


def std_dev_method(groups: Sequence[Sequence[float]]) -> Sigma:
    """s-bar / c4(n) (average of s_i / c4(n_i) when subgroup sizes differ)."""
    _check_sizes(groups)
    if all(len(g) == len(groups[0]) for g in groups):
        s_bar = statistics.fmean(statistics.stdev(g) for g in groups)
        return Sigma(s_bar / constants.c4(len(groups[0])), SigmaMethod.STD_DEV)
    return Sigma(statistics.fmean(statistics.stdev(g) / constants.c4(len(g)) for g in groups),
                 SigmaMethod.STD_DEV)


def pooled(groups: Sequence[Sequence[float]]) -> Sigma:
    """sqrt(sum((n_i - 1) s_i^2) / sum(n_i - 1)); subgroups of one value add nothing."""
    dof = sum(len(g) - 1 for g in groups)
    if dof < 1:
        raise QualityInputError(msg("合并标准差至少需要一个含 2 个以上数值的子组",
                                    "The pooled standard deviation needs at least one subgroup "
                                    "with 2 or more values"))
    squares = sum((len(g) - 1) * statistics.variance(g) for g in groups if len(g) > 1)
    return Sigma(math.sqrt(squares / dof), SigmaMethod.POOLED)


def within(data: Sample, method: object = "auto") -> Sigma:
    """Within-subgroup sigma of ``data`` by ``method`` ("auto": moving range or R-bar/d2)."""
    chosen = _method(data, method)
    if chosen is SigmaMethod.MOVING_RANGE:
        return moving_range(data.values)
    return {SigmaMethod.RANGE: range_method, SigmaMethod.STD_DEV: std_dev_method,
            SigmaMethod.POOLED: pooled}[chosen](data.subgroups)


def _method(data: Sample, method: object) -> SigmaMethod:
    if method == "auto":
        return SigmaMethod.RANGE if data.is_subgrouped else SigmaMethod.MOVING_RANGE
    try:
        chosen = SigmaMethod(method)
    except ValueError:
        chosen = None
    allowed = SUBGROUP_METHODS if data.is_subgrouped else (SigmaMethod.MOVING_RANGE,)
    if chosen not in allowed:
        raise QualityInputError(msg(
            "组内标准差估计方法 {m!r} 不适用于{kind_zh}；可用：auto, {known}",
            "Within-sigma method {m!r} does not apply to {kind_en}; use auto or {known}",
            m=method, kind_zh="子组数据" if data.is_subgrouped else "单值数据",
            kind_en="subgroups" if data.is_subgrouped else "individual values",
            known=", ".join(m.value for m in allowed)))
    return chosen
