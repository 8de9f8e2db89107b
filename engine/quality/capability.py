"""Process capability (Cp, Cpk, Cpm) and performance (Pp, Ppk) indices, and PPM.

    Cp  = (USL - LSL) / (6 sigma_within)      Cpu = (USL - mean) / (3 sigma_within)
    Cpl = (mean - LSL) / (3 sigma_within)     Cpk = min(Cpu, Cpl)
    Pp, Ppu, Ppl, Ppk: the same with sigma_overall (sample SD of all values, n - 1)
    Cpm = (USL - LSL) / (6 sqrt(sigma_within^2 + (mean - target)^2)), target default mid-spec

``data`` is either a list of individual values in time order (within sigma = MR-bar/d2(2))
or a list of subgroups (within sigma = R-bar/d2(n) by default; ``within="std_dev"`` for
s-bar/c4(n), ``"pooled"`` for the pooled SD). Every result records the sigma it used.

Undefined values are ``None``, never an exception: Cp/Pp/Cpm with a one-sided specification,
Cpu/Ppu without USL, Cpl/Ppl without LSL, and every index when the sigma is zero (all values
equal). Fewer than :data:`SMALL_SAMPLE` values set ``small_sample`` (a warning, not an error).
Expected PPM uses the normal model; observed PPM counts values strictly outside the limits
(a value on a limit is in specification).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from numbers import Real
from typing import Callable

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, shown
from engine.quality import sigma as sigmas
from engine.quality.sigma import Sigma, SigmaMethod

SMALL_SAMPLE = 30
__all__ = ["CapabilityResult", "IndexResult", "Sigma", "SigmaMethod", "SMALL_SAMPLE", "study",
           "cp", "cpu", "cpl", "cpk", "pp", "ppu", "ppl", "ppk", "cpm",
           "expected_ppm", "ppm_observed", "ppm"]


@dataclass(frozen=True)
class IndexResult:
    """One index with the sigma it was computed from; ``value`` is None when undefined."""

    name: str
    value: float | None
    sigma: Sigma
    mean: float
    n: int
    small_sample: bool


@dataclass(frozen=True)
class CapabilityResult:
    """A full capability study of one characteristic."""

    n: int
    subgroups: int                 # 0 for individual values
    mean: float
    lsl: float | None
    usl: float | None
    target: float | None
    within: Sigma
    overall: Sigma
    cp: float | None
    cpu: float | None
    cpl: float | None
    cpk: float | None
    cpm: float | None
    pp: float | None
    ppu: float | None
    ppl: float | None
    ppk: float | None
    ppm_within: float | None       # expected PPM out of spec, normal model, sigma_within
    ppm_overall: float | None      # expected PPM out of spec, normal model, sigma_overall
    ppm_observed: float
    small_sample: bool
    warnings: tuple[Msg, ...] = ()

    def index(self, name: str) -> IndexResult:
        """One index ("Cpk", "ppk" …) as an :class:`IndexResult`."""
        key = name.lower()
        if key not in _INDEX_NAMES:
            raise QualityInputError(msg("未知的能力指数 {name}；可用：{known}",
                                        "Unknown capability index {name}; known: {known}",
                                        name=name, known=", ".join(_INDEX_NAMES.values())))
        used = self.overall if key.startswith("pp") else self.within
        return IndexResult(_INDEX_NAMES[key], getattr(self, key), used, self.mean, self.n,
                           self.small_sample)


_INDEX_NAMES = {"cp": "Cp", "cpu": "Cpu", "cpl": "Cpl", "cpk": "Cpk", "cpm": "Cpm",
                "pp": "Pp", "ppu": "Ppu", "ppl": "Ppl", "ppk": "Ppk"}


def _limit(value: object, name: Msg) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise QualityInputError(msg("{n_zh}不是有效数值：{v}", "{n_en} is not a valid number: {v}",
                                    n_zh=name.zh, n_en=name.en, v=shown(value)))
    return float(value)


def spec_limits(lsl: object, usl: object, target: object = None) -> tuple:
    """Validated (lsl, usl, target); at least one limit, and LSL < USL when both are given."""
    low = _limit(lsl, Msg("规格下限 LSL", "The lower specification limit (LSL)"))
    high = _limit(usl, Msg("规格上限 USL", "The upper specification limit (USL)"))
    aim = _limit(target, Msg("目标值", "The target"))
    if low is None and high is None:
        raise QualityInputError(msg("至少需要规格下限或规格上限之一",
                                    "Give at least one specification limit (LSL or USL)"))
    if low is not None and high is not None and low >= high:
        raise QualityInputError(msg("规格下限 {l} 必须小于规格上限 {u}",
                                    "The lower specification limit {l} must be below the upper "
                                    "limit {u}", l=lsl, u=usl))
    if aim is None and low is not None and high is not None:
        aim = (low + high) / 2
    return low, high, aim


def _indices(mean: float, sd: float, low: float | None, high: float | None) -> tuple:
    """(C, Cu, Cl, Ck) for one sigma; None where undefined."""
    if sd <= 0:
        return None, None, None, None
    upper = (high - mean) / (3 * sd) if high is not None else None
    lower = (mean - low) / (3 * sd) if low is not None else None
    both = (high - low) / (6 * sd) if upper is not None and lower is not None else None
    worst = min(x for x in (upper, lower) if x is not None)
    return both, upper, lower, worst


def _cpm(mean: float, sd: float, low, high, aim) -> float | None:
    if low is None or high is None or aim is None:
        return None
    spread = math.sqrt(sd ** 2 + (mean - aim) ** 2)
    return (high - low) / (6 * spread) if spread > 0 else None


def expected_ppm(mean: float, sd: float, lsl: float | None, usl: float | None) -> float | None:
    """Expected parts per million outside the limits under a normal model (None if sd <= 0)."""
    if sd <= 0:
        return None
    below = 0.5 * math.erfc((mean - lsl) / (sd * math.sqrt(2))) if lsl is not None else 0.0
    above = 0.5 * math.erfc((usl - mean) / (sd * math.sqrt(2))) if usl is not None else 0.0
    return 1e6 * (below + above)


def _observed(values, low: float | None, high: float | None) -> float:
    outside = sum(1 for v in values
                  if (low is not None and v < low) or (high is not None and v > high))
    return 1e6 * outside / len(values)


def study(data: object, lsl: object = None, usl: object = None, target: object = None,
          within: object = "auto") -> CapabilityResult:
    """All indices, expected and observed PPM for ``data`` against the specification."""
    low, high, aim = spec_limits(lsl, usl, target)
    checked = sigmas.sample(data)
    values = checked.values
    mean = statistics.fmean(values)
    w = sigmas.within(checked, within)
    o = sigmas.overall(values)
    c, cu, cl, ck = _indices(mean, w.value, low, high)
    p, pu, pl, pk = _indices(mean, o.value, low, high)
    small = len(values) < SMALL_SAMPLE
    return CapabilityResult(
        n=len(values), subgroups=len(checked.subgroups), mean=mean, lsl=low, usl=high,
        target=aim, within=w, overall=o, cp=c, cpu=cu, cpl=cl, cpk=ck,
        cpm=_cpm(mean, w.value, low, high, aim) if w.value > 0 else None,
        pp=p, ppu=pu, ppl=pl, ppk=pk, ppm_within=expected_ppm(mean, w.value, low, high),
        ppm_overall=expected_ppm(mean, o.value, low, high),
        ppm_observed=_observed(values, low, high), small_sample=small,
        warnings=_warnings(len(values), w, o))


def _warnings(n: int, w: Sigma, o: Sigma) -> tuple[Msg, ...]:
    found = []
    if n < SMALL_SAMPLE:
        found.append(msg("只有 {n} 个数据（少于 {m} 个），能力指数的可信度低",
                         "Only {n} values (fewer than {m}); the indices are not reliable",
                         n=n, m=SMALL_SAMPLE))
    if w.value <= 0 or o.value <= 0:
        found.append(msg("数据没有波动（标准差为 0），无法计算能力指数",
                         "The data do not vary (sigma is 0); the indices are undefined"))
    return tuple(found)


def _index_function(key: str, summary: str) -> Callable[..., IndexResult]:
    def compute(data: object, lsl: object = None, usl: object = None, *,
                target: object = None, within: object = "auto") -> IndexResult:
        return study(data, lsl, usl, target, within).index(key)
    compute.__name__ = compute.__qualname__ = key
    compute.__doc__ = summary
    return compute


cp = _index_function("cp", "Cp = (USL - LSL) / (6 sigma_within); None for a one-sided spec.")
cpu = _index_function("cpu", "Cpu = (USL - mean) / (3 sigma_within); None without USL.")
cpl = _index_function("cpl", "Cpl = (mean - LSL) / (3 sigma_within); None without LSL.")
cpk = _index_function("cpk", "Cpk = min(Cpu, Cpl) with sigma_within.")
pp = _index_function("pp", "Pp = (USL - LSL) / (6 sigma_overall); None for a one-sided spec.")
ppu = _index_function("ppu", "Ppu = (USL - mean) / (3 sigma_overall); None without USL.")
ppl = _index_function("ppl", "Ppl = (mean - LSL) / (3 sigma_overall); None without LSL.")
ppk = _index_function("ppk", "Ppk = min(Ppu, Ppl) with sigma_overall.")
cpm = _index_function("cpm", "Cpm (Taguchi) with sigma_within; target defaults to mid-spec.")


def ppm_observed(values: object, lsl: object = None, usl: object = None) -> float:
    """Parts per million of ``values`` strictly outside the specification limits."""
    low, high, _ = spec_limits(lsl, usl)
    checked = sigmas.sample(values)
    return _observed(checked.values, low, high)


def ppm(defects: object, total: object) -> float:
    """Parts per million: 1,000,000 × defects / total (total > 0, defects >= 0)."""
    count = _limit(defects, Msg("不良数", "The number of defects"))
    size = _limit(total, Msg("总数", "The total quantity"))
    if count is None or count < 0:
        raise QualityInputError(msg("不良数必须是不小于 0 的数值，收到 {v}",
                                    "The number of defects must be 0 or more, got {v}",
                                    v=shown(defects)))
    if size is None or size <= 0:
        raise QualityInputError(msg("计算 PPM 的总数必须大于 0，收到 {v}",
                                    "The total quantity for PPM must be above 0, got {v}",
                                    v=shown(total)))
    return 1e6 * count / size
