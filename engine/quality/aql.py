"""AQL single sampling by attributes: ISO 2859-1 / GB/T 2828.1 / ANSI/ASQ Z1.4 (MIL-STD-105E).

1. :func:`code_letter` looks up the sample-size code letter (Table 1) from the lot size and the
   inspection level (special S-1..S-4, general I, II, III).
2. :func:`plan` finds the plan for the letter and the AQL in the master table of the current
   severity. Arrows are already followed in the shipped ``resolved`` tables, and the sample size
   is that of the row where the plan was found (not the original row's). When that sample size
   is at least the lot size, the whole lot is inspected: ``full_inspection`` is set, ``n`` is
   the lot size and Ac/Re stay those of the plan.
3. :func:`judge` compares the number of nonconforming items (or nonconformities) with Ac/Re.

Decisions (see ``shared/qms-reference/README.md``, "Decisions for this project"):

* **Reduced inspection** uses the Z1.4/105E Table II-C, which has a gap between Ac and Re.
  A count inside the gap accepts the lot but inspection returns to normal
  (:attr:`Decision.ACCEPT_RETURN_TO_NORMAL`). This is *not* ISO 2859-1:1999 Table 2-C.
  The 32 reduced cells (and normal A/10) that public sources dispute carry
  ``verified=False`` on the plan, so a form can warn and a tenant can override them.
* **Lot size 1**: Table 1 starts at 2. A one-piece lot cannot be sampled, so it uses the
  2..8 row and, since every plan then has n >= 1, always comes back as full inspection with
  n = 1. Refusing it would break an incoming-inspection form for a single expensive part.
  Lot sizes below 1 or not whole numbers are errors.
* Levels are accepted as "S-1".."S-4", "S1", "I", "II", "III", the Roman-numeral characters
  "Ⅰ Ⅱ Ⅲ", and 1/2/3 for I/II/III (case and spaces ignored). AQL values are accepted as text or
  numbers ("1.0", 1, "1", 0.65, "0.65%") but must be one of the 26 table columns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from numbers import Real

from engine.i18n import Msg, msg
from engine.quality import QualityInputError, shown
from engine.quality.reference import load

LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
_ROMAN = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "1": "I", "2": "II", "3": "III"}


class Severity(str, Enum):
    """Inspection severity (转移规则中的检验严格度)."""

    NORMAL = "normal"
    TIGHTENED = "tightened"
    REDUCED = "reduced"

    @property
    def label(self) -> Msg:
        """Bilingual name for screens and reports."""
        return {"normal": Msg("正常检验", "Normal inspection"),
                "tightened": Msg("加严检验", "Tightened inspection"),
                "reduced": Msg("放宽检验", "Reduced inspection")}[self.value]


_SEVERITY_WORDS = {"normal": Severity.NORMAL, "正常": Severity.NORMAL, "正常检验": Severity.NORMAL,
                   "tightened": Severity.TIGHTENED, "tight": Severity.TIGHTENED,
                   "加严": Severity.TIGHTENED, "加严检验": Severity.TIGHTENED,
                   "reduced": Severity.REDUCED, "放宽": Severity.REDUCED,
                   "放宽检验": Severity.REDUCED}


class Decision(str, Enum):
    """Outcome of judging a lot against a sampling plan."""

    ACCEPT = "accept"
    REJECT = "reject"
    ACCEPT_RETURN_TO_NORMAL = "accept_return_to_normal"  # Z1.4 reduced: Ac < d < Re

    @property
    def accepted(self) -> bool:
        """True when the lot is accepted (also inside the reduced-inspection gap)."""
        return self is not Decision.REJECT

    @property
    def label(self) -> Msg:
        """Bilingual wording of the decision."""
        return {"accept": Msg("接收", "Accept"), "reject": Msg("拒收", "Reject"),
                "accept_return_to_normal": Msg("接收，恢复正常检验",
                                               "Accept, return to normal inspection")}[self.value]


@dataclass(frozen=True)
class SamplingPlan:
    """A resolved single-sampling plan for one lot.

    ``letter`` is the code letter whose plan applies after following the arrows (its sample
    size is ``table_n``); ``code_letter`` is the Table 1 letter of the lot size and level.
    ``n`` is what to inspect: ``table_n``, or the lot size when ``full_inspection``.
    """

    letter: str
    n: int
    ac: int
    re: int
    full_inspection: bool
    code_letter: str = ""
    table_n: int = 0
    lot_size: int = 0
    level: str = "II"
    aql: str = ""
    severity: Severity = Severity.NORMAL
    verified: bool = True


def _whole_number(value: object, what: Msg, minimum: int) -> int:
    """``value`` as an int >= ``minimum`` (integral floats accepted), else an error naming it."""
    ok = (not isinstance(value, bool) and isinstance(value, Real)
          and math.isfinite(value) and value == int(value))
    if not ok or int(value) < minimum:
        raise QualityInputError(msg("{what_zh}必须是不小于 {m} 的整数，收到 {v}",
                                    "{what_en} must be a whole number of at least {m}, got {v}",
                                    what_zh=what.zh, what_en=what.en, m=minimum, v=shown(value)))
    return int(value)


def lot_size_value(lot_size: object) -> int:
    """The lot size as an int >= 1."""
    return _whole_number(lot_size, Msg("批量", "The lot size"), 1)


def normalise_level(level: object) -> str:
    """One of :data:`LEVELS` for a level written in any accepted way, else an error."""
    if isinstance(level, Real) and not isinstance(level, bool) and level in (1, 2, 3):
        return ("I", "II", "III")[int(level) - 1]
    if isinstance(level, str):
        text = "".join(level.split()).upper()
        text = _ROMAN.get(text, text)
        if len(text) == 2 and text[0] == "S" and text[1] in "1234":
            text = f"S-{text[1]}"
        if text in LEVELS:
            return text
    raise QualityInputError(msg("检验水平 {v} 无效；可用：{known}",
                                "Inspection level {v} is not valid; use one of: {known}",
                                v=shown(level), known=", ".join(LEVELS)))


def normalise_severity(severity: object) -> Severity:
    """The :class:`Severity` for "normal"/"tightened"/"reduced" (or 正常/加严/放宽)."""
    if isinstance(severity, Severity):
        return severity
    if isinstance(severity, str):
        found = _SEVERITY_WORDS.get(severity.strip().lower())
        if found is not None:
            return found
    raise QualityInputError(msg(
        "检验严格度 {v} 无效；可用：normal（正常）、tightened（加严）、reduced（放宽）",
        "Inspection severity {v} is not valid; use normal, tightened or reduced",
        v=shown(severity)))


@lru_cache(maxsize=1)
def aql_values() -> tuple[str, ...]:
    """The 26 AQL columns of the master tables, as written there ("0.010" … "1000")."""
    return tuple(load("aql_single_normal.json")["aql_columns"])


@lru_cache(maxsize=1)
def _aql_by_number() -> dict[Decimal, str]:
    return {Decimal(col): col for col in aql_values()}


def normalise_aql(aql: object) -> str:
    """The table column for an AQL given as text or number ("1" → "1.0", 0.1 → "0.10")."""
    number = None
    if isinstance(aql, Real) and not isinstance(aql, bool) and math.isfinite(aql):
        number = Decimal(str(aql))
    elif isinstance(aql, str):
        text = aql.strip().rstrip("%").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
    column = _aql_by_number().get(number) if number is not None and number.is_finite() else None
    if column is None:
        raise QualityInputError(msg("AQL 值 {v} 不在抽样表中；可用：{known}",
                                    "AQL {v} is not in the sampling tables; use one of: {known}",
                                    v=shown(aql), known=", ".join(aql_values())))
    return column


@lru_cache(maxsize=1)
def _code_rows() -> tuple[tuple[int, int | None, dict[str, str]], ...]:
    rows = load("aql_code_letters.json")["rows"]
    return tuple((int(r["lot_min"]), None if r["lot_max"] is None else int(r["lot_max"]),
                  dict(r["letters"])) for r in rows)


def code_letter(lot_size: object, level: object = "II") -> str:
    """Sample-size code letter (Table 1) for a lot size and an inspection level."""
    size = max(lot_size_value(lot_size), 2)  # a one-piece lot uses the first row (see above)
    lvl = normalise_level(level)
    for low, high, letters in _code_rows():
        if low <= size and (high is None or size <= high):
            return letters[lvl]
    raise AssertionError(f"code-letter table has no row for lot size {size}")  # pragma: no cover


def table_plan(letter: object, aql: object, severity: object = "normal") -> SamplingPlan:
    """The master-table plan for a code letter and AQL (arrows followed), not tied to a lot."""
    sev = normalise_severity(severity)
    column = normalise_aql(aql)
    table = load(f"aql_single_{sev.value}.json")["resolved"]
    key = letter.strip().upper() if isinstance(letter, str) else None
    if key not in table:
        raise QualityInputError(msg("样本量字码 {v} 无效；可用：{known}",
                                    "Sample size code letter {v} is not valid; use one of: {known}",
                                    v=shown(letter), known=", ".join(table)))
    cell = table[key][column]
    return SamplingPlan(letter=cell["letter"], n=int(cell["n"]), ac=int(cell["ac"]),
                        re=int(cell["re"]), full_inspection=False, code_letter=key,
                        table_n=int(cell["n"]), aql=column, severity=sev,
                        verified=bool(cell.get("verified", True)))


def plan(lot_size: object, level: object = "II", aql: object = "1.0",
         severity: object = "normal") -> SamplingPlan:
    """The single-sampling plan for a lot (see the module docstring for the rules)."""
    size = lot_size_value(lot_size)
    lvl = normalise_level(level)
    found = table_plan(code_letter(size, lvl), aql, severity)
    full = found.table_n >= size
    return replace(found, n=size if full else found.table_n, full_inspection=full,
                   lot_size=size, level=lvl)


def judge(sampling_plan: SamplingPlan, defects: object) -> Decision:
    """Accept if defects <= Ac, reject if defects >= Re, else accept and return to normal."""
    count = _whole_number(defects, Msg("不合格数", "The number of nonconformities"), 0)
    if count <= sampling_plan.ac:
        return Decision.ACCEPT
    if count >= sampling_plan.re:
        return Decision.REJECT
    return Decision.ACCEPT_RETURN_TO_NORMAL
