"""Run rules (tests for special causes): Nelson 1–8 and Western Electric 1–4.

Conventions (``nelson_rules.json`` "conventions" and the project decisions in
``shared/qms-reference/README.md``):

* Zones come from the chart's centre line and the sigma of the plotted statistic, per point
  (p/u charts with varying n use each point's own). A point is beyond kσ when
  ``x > cl + k·σ`` (or ``x < cl − k·σ``), i.e. compared with the limit the chart draws, so a
  point exactly *on* a limit is not beyond it. "Within 1σ" is strict too: ``cl − σ < x < cl + σ``.
* Same-side runs need every point strictly above (or below) the centre line: a point exactly on
  the CL breaks the run. In an m-of-n rule the flagged (last) point must be one of the m
  counted points (as in qcc); the other points of the window may be anywhere.
* Trend (Nelson 3) and alternation (Nelson 4) look at the plotted values; a tie breaks them.
* Nelson 8 is 8 consecutive points with |z| > 1 on *either* side (Minitab wording; qcc also
  demands both sides).
* The flagged point is the one completing the pattern; a long run flags every point from the
  K-th on (as qcc does), each as its own :class:`Violation`.
* A point that is None (no value, e.g. the first moving range) is skipped and breaks every
  run and window: patterns never span a missing point.
* A zero sigma (e.g. a p chart with no defectives) draws every limit on the CL: a point on it
  is in no zone, any other point is beyond 3σ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from typing import Callable, Iterable, Sequence

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, shown


@dataclass(frozen=True)
class _Point:
    """One non-missing point: its value, side of the CL and how far out it lies."""

    index: int
    value: float
    side: int          # +1 above the CL, -1 below, 0 on it
    beyond: int        # number of sigma lines (1, 2, 3) strictly passed on its side
    inside_one: bool   # strictly within cl ± 1 sigma


@dataclass(frozen=True)
class Rule:
    """A rule: its window length, bilingual name and the test applied to each full window."""

    number: int
    rule_set: str
    window: int
    name: Msg
    test: Callable[[Sequence[_Point]], bool]


@dataclass(frozen=True)
class Violation:
    """One occurrence of a rule: the flagged point and all points of its window (0-based)."""

    rule: int
    rule_set: str
    point: int
    points: tuple[int, ...]

    def name(self) -> Msg:
        """Bilingual name of the violated rule."""
        return RULES[(self.rule_set, self.rule)].name

    def to_json(self) -> dict:
        return {"rule": self.rule, "rule_set": self.rule_set, "point": self.point,
                "points": list(self.points), "name": self.name().to_dict()}


# --- window tests ----------------------------------------------------------------------------

def _beyond(k: int) -> Callable[[Sequence[_Point]], bool]:
    return lambda w: w[-1].beyond >= k


def _same_side_run(w: Sequence[_Point]) -> bool:
    return w[0].side != 0 and all(p.side == w[0].side for p in w)


def _m_of_n(m: int, k: int) -> Callable[[Sequence[_Point]], bool]:
    """At least m points beyond kσ on the last point's side, the last point among them."""
    def test(w: Sequence[_Point]) -> bool:
        last = w[-1]
        if last.beyond < k:
            return False
        return sum(1 for p in w if p.side == last.side and p.beyond >= k) >= m
    return test


def _trend(w: Sequence[_Point]) -> bool:
    steps = [b.value - a.value for a, b in zip(w, w[1:])]
    return all(s > 0 for s in steps) or all(s < 0 for s in steps)


def _alternating(w: Sequence[_Point]) -> bool:
    steps = [b.value - a.value for a, b in zip(w, w[1:])]
    return all(a * b < 0 for a, b in zip(steps, steps[1:]))


def _hugging(w: Sequence[_Point]) -> bool:
    return all(p.inside_one for p in w)


def _mixture(w: Sequence[_Point]) -> bool:
    return all(p.beyond >= 1 for p in w)


def _rules() -> dict[tuple[str, int], Rule]:
    beyond3 = Msg("1 点超出 3σ", "1 point beyond 3 sigma")
    two_of_three = Msg("3 点中有 2 点在同侧 2σ 以外", "2 of 3 points beyond 2 sigma on the same side")
    four_of_five = Msg("5 点中有 4 点在同侧 1σ 以外", "4 of 5 points beyond 1 sigma on the same side")
    table = [
        ("nelson", 1, 1, beyond3, _beyond(3)),
        ("nelson", 2, 9, Msg("连续 9 点在中心线同一侧",
                             "9 points in a row on the same side of the centre line"),
         _same_side_run),
        ("nelson", 3, 6, Msg("连续 6 点递增或递减", "6 points in a row increasing or decreasing"),
         _trend),
        ("nelson", 4, 14, Msg("连续 14 点上下交替", "14 points in a row alternating up and down"),
         _alternating),
        ("nelson", 5, 3, two_of_three, _m_of_n(2, 2)),
        ("nelson", 6, 5, four_of_five, _m_of_n(4, 1)),
        ("nelson", 7, 15, Msg("连续 15 点在中心线 1σ 以内", "15 points in a row within 1 sigma"),
         _hugging),
        ("nelson", 8, 8, Msg("连续 8 点在 1σ 以外（任一侧）",
                             "8 points in a row beyond 1 sigma (either side)"), _mixture),
        ("we", 1, 1, beyond3, _beyond(3)),
        ("we", 2, 3, two_of_three, _m_of_n(2, 2)),
        ("we", 3, 5, four_of_five, _m_of_n(4, 1)),
        ("we", 4, 8, Msg("连续 8 点在中心线同一侧",
                         "8 points in a row on the same side of the centre line"),
         _same_side_run),
    ]
    return {(s, n): Rule(n, s, w, name, test) for s, n, w, name, test in table}


RULES = _rules()
RULE_SETS = ("nelson", "we")


# --- evaluation ------------------------------------------------------------------------------

def _number(value: object, name: str, index: int) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (Real, Decimal))
    if not ok or not math.isfinite(float(value)):
        raise QualityInputError(msg("{name}[{i}]（第 {n} 个点）不是有效数值：{v}",
                                    "{name}[{i}] (point {n}) is not a valid number: {v}",
                                    name=name, i=index, n=index + 1, v=shown(value)))
    return float(value)


def _per_point(value: object, name: str, count: int) -> Sequence[object]:
    """A scalar repeated ``count`` times, or a sequence of exactly ``count`` items."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != count:
            raise QualityInputError(msg("{name} 有 {m} 个值，但有 {n} 个点；请给一个数或逐点给值",
                                        "{name} has {m} values for {n} points; give one number "
                                        "or one value per point", name=name, m=len(value),
                                        n=count))
        return value
    return [value] * count


def _point(index: int, x: float, cl: float, sigma: float) -> _Point:
    side = (x > cl) - (x < cl)
    beyond = sum(1 for k in (1, 2, 3) if (x > cl + k * sigma if side > 0 else x < cl - k * sigma))
    return _Point(index, x, side, beyond, cl - sigma < x < cl + sigma)


def _segments(points: object, cl: object, sigma: object) -> list[list[_Point]]:
    """Validated points split into runs of consecutive non-missing points."""
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence):
        raise QualityInputError(msg("points 必须是数值列表，收到 {v}",
                                    "points must be a list of numbers, got {v}", v=shown(points)))
    cls = _per_point(cl, "cl", len(points))
    sigmas = _per_point(sigma, "sigma", len(points))
    segments: list[list[_Point]] = [[]]
    for i, x in enumerate(points):
        if x is None:
            segments.append([])
            continue
        s = _number(sigmas[i], "sigma", i)
        if s < 0:
            raise QualityInputError(msg("sigma[{i}]（第 {n} 个点）不能为负：{v}",
                                        "sigma[{i}] (point {n}) cannot be negative: {v}",
                                        i=i, n=i + 1, v=s))
        segments[-1].append(_point(i, _number(x, "points", i), _number(cls[i], "cl", i), s))
    return [seg for seg in segments if seg]


def select(rules: object = "nelson") -> list[Rule]:
    """The rules named by ``rules``: "nelson", "we", or an iterable of Nelson rule numbers."""
    if isinstance(rules, str):
        key = rules.strip().lower().replace("-", "_")
        key = {"western_electric": "we", "westernelectric": "we"}.get(key, key)
        if key in RULE_SETS:
            return [r for (s, _), r in RULES.items() if s == key]
    elif isinstance(rules, Iterable):
        chosen = list(rules)
        if chosen and all(isinstance(n, int) and not isinstance(n, bool)
                          and ("nelson", n) in RULES for n in chosen):
            return [RULES[("nelson", n)] for n in sorted(set(chosen))]
    raise QualityInputError(msg("判异准则 {v} 无效；可用 \"nelson\"、\"we\" 或 Nelson 准则编号 1–8 的列表",
                                "Run rules {v} are not valid; use \"nelson\", \"we\" or a list "
                                "of Nelson rule numbers 1–8", v=shown(rules)))


def evaluate(points: object, cl: object, sigma: object,
             rules: object = "nelson") -> list[Violation]:
    """Every occurrence of the chosen rules, ordered by flagged point, then rule.

    ``cl`` and ``sigma`` are numbers or per-point sequences (same length as ``points``);
    ``sigma`` is the sigma of the plotted statistic (``Series.sigma`` of a control chart).
    """
    chosen = select(rules)
    found = []
    for segment in _segments(points, cl, sigma):
        for rule in chosen:
            for end in range(rule.window - 1, len(segment)):
                window = segment[end - rule.window + 1:end + 1]
                if rule.test(window):
                    found.append(Violation(rule.number, rule.rule_set, window[-1].index,
                                           tuple(p.index for p in window)))
    return sorted(found, key=lambda v: (v.point, v.rule))
