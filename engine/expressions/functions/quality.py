"""Quality functions of the expression language: PPM, CP/CPK/PP/PPK, AQL plans.

Thin wrappers over :mod:`engine.quality`; the statistics and tables live there.

Blank rules (documented for the designer's help):

* CP, CPK, PP, PPK take a list of individual values (e.g. a sub-table column). Blank values in
  the list are skipped. With fewer than 2 values the result is blank, not an error (an
  inspection form is filled in gradually). A blank LSL or USL means "no limit on that side":
  CPK/PPK then use the one-sided index, CP/PP are blank. Both limits blank → blank.
  A result that is undefined (all values equal) is blank.
* CP/CPK use the within sigma of individual values (average moving range / d2(2), in row
  order); PP/PPK use the overall sample standard deviation (n − 1).
* PPM and the AQL functions return blank when a required argument is blank.
* Unusable values (LSL ≥ USL, an AQL not in the tables, a lot size of 0 …) raise
  EvaluationError with a message in both languages.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from engine.errors import EvaluationError
from engine.expressions.functions.registry import Param, register
from engine.expressions.types import NUMBER, TEXT, list_of
from engine.i18n import msg
from engine.quality import QualityInputError, capability
from engine.quality import aql as sampling

NUMBERS = list_of(NUMBER)


def _as_evaluation_error(name: str) -> Callable:
    """Decorator: turn a QualityInputError into the language's EvaluationError (bilingual)."""
    def wrap(func: Callable) -> Callable:
        @wraps(func)
        def call(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except QualityInputError as exc:
                raise EvaluationError(msg("{f}：{m_zh}", "{f}: {m_en}", f=name,
                                          m_zh=exc.message.zh, m_en=exc.message.en)) from None
        return call
    return wrap


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _index(key: str, values, lsl, usl) -> float | None:
    numbers = [v for v in (values or []) if not _blank(v)]
    if len(numbers) < 2 or (_blank(lsl) and _blank(usl)):
        return None
    result = capability.study(numbers, None if _blank(lsl) else lsl, None if _blank(usl) else usl)
    return getattr(result, key)


_SPEC_PARAMS = [Param("values", NUMBERS), Param("lsl", NUMBER), Param("usl", NUMBER)]


@register("PPM", params=[Param("defects", NUMBER), Param("total", NUMBER)], returns=NUMBER,
          category="quality",
          doc=msg("百万分之不良率：不良数 / 总数 × 1,000,000。任一参数为空时结果为空；总数必须大于 0。",
                  "Parts per million: defects / total × 1,000,000. Blank if either argument is "
                  "blank; the total must be above 0."),
          example="PPM(rejected_qty, received_qty)")
@_as_evaluation_error("PPM")
def ppm(defects, total):
    """PPM(defects, total)."""
    if _blank(defects) or _blank(total):
        return None
    return capability.ppm(defects, total)


@register("CP", params=_SPEC_PARAMS, returns=NUMBER, category="quality",
          doc=msg("过程能力指数 Cp =（USL − LSL）/ 6σ，σ 为组内标准差（平均移动极差 / 1.128，按行顺序）。"
                  "空值跳过；少于 2 个数值或只有单侧规格时结果为空。",
                  "Process capability index Cp = (USL − LSL) / 6σ with the within sigma "
                  "(average moving range / 1.128, in row order). Blanks are skipped; blank with "
                  "fewer than 2 values or a one-sided specification."),
          example="CP(items.measured, lsl, usl)")
@_as_evaluation_error("CP")
def cp(values, lsl, usl):
    """CP(values, lsl, usl) on individual values."""
    return _index("cp", values, lsl, usl)


@register("CPK", params=_SPEC_PARAMS, returns=NUMBER, category="quality",
          doc=msg("过程能力指数 Cpk = min(USL − 均值, 均值 − LSL) / 3σ，σ 为组内标准差"
                  "（平均移动极差 / 1.128）。LSL 或 USL 为空时按单侧计算；少于 2 个数值时结果为空。",
                  "Process capability index Cpk = min(USL − mean, mean − LSL) / 3σ with the "
                  "within sigma (average moving range / 1.128). A blank LSL or USL gives the "
                  "one-sided index; blank with fewer than 2 values."),
          example="CPK(items.measured, lsl, usl)")
@_as_evaluation_error("CPK")
def cpk(values, lsl, usl):
    """CPK(values, lsl, usl) on individual values."""
    return _index("cpk", values, lsl, usl)


@register("PP", params=_SPEC_PARAMS, returns=NUMBER, category="quality",
          doc=msg("过程性能指数 Pp =（USL − LSL）/ 6s，s 为全部数值的样本标准差（n−1）。"
                  "空值跳过；少于 2 个数值或只有单侧规格时结果为空。",
                  "Process performance index Pp = (USL − LSL) / 6s with the overall sample "
                  "standard deviation (n−1). Blanks are skipped; blank with fewer than 2 values "
                  "or a one-sided specification."),
          example="PP(items.measured, lsl, usl)")
@_as_evaluation_error("PP")
def pp(values, lsl, usl):
    """PP(values, lsl, usl) on individual values."""
    return _index("pp", values, lsl, usl)


@register("PPK", params=_SPEC_PARAMS, returns=NUMBER, category="quality",
          doc=msg("过程性能指数 Ppk = min(USL − 均值, 均值 − LSL) / 3s，s 为样本标准差（n−1）。"
                  "LSL 或 USL 为空时按单侧计算；少于 2 个数值时结果为空。",
                  "Process performance index Ppk = min(USL − mean, mean − LSL) / 3s with the "
                  "overall sample standard deviation (n−1). A blank LSL or USL gives the "
                  "one-sided index; blank with fewer than 2 values."),
          example="PPK(items.measured, lsl, usl)")
@_as_evaluation_error("PPK")
def ppk(values, lsl, usl):
    """PPK(values, lsl, usl) on individual values."""
    return _index("ppk", values, lsl, usl)


_LEVEL_HELP = msg("检验水平：S-1、S-2、S-3、S-4、I、II、III（一般用 II）",
                  "Inspection level: S-1, S-2, S-3, S-4, I, II, III (II is usual)")
_PLAN_PARAMS = [Param("lot_size", NUMBER), Param("level", TEXT), Param("aql", TEXT),
                Param("severity", TEXT, optional=True)]


def _plan(lot_size, level, aql, severity) -> sampling.SamplingPlan | None:
    if _blank(lot_size) or _blank(level) or _blank(aql):
        return None
    return sampling.plan(lot_size, level, aql, "normal" if _blank(severity) else severity)


def _plan_doc(zh: str, en: str):
    return msg("{what_zh}（GB/T 2828.1 / ISO 2859-1 一次抽样）。{level_zh}；AQL 如 \"1.0\"、\"0.65\"、2.5；"
               "严格度可选 normal（正常，默认）、tightened（加严）、reduced（放宽）。"
               "样本量不小于批量时为全检。",
               "{what_en} (single sampling, ISO 2859-1 / ANSI Z1.4). {level_en}; AQL such as "
               "\"1.0\", \"0.65\", 2.5; optional severity normal (default), tightened or "
               "reduced. When the sample size reaches the lot size, the whole lot is inspected.",
               what_zh=zh, what_en=en, level_zh=_LEVEL_HELP.zh, level_en=_LEVEL_HELP.en)


@register("AQL_CODE", params=[Param("lot_size", NUMBER), Param("level", TEXT)], returns=TEXT,
          category="quality",
          doc=msg("样本量字码（GB/T 2828.1 表 1）：由批量和检验水平查得，如 \"J\"。{l_zh}",
                  "Sample size code letter (ISO 2859-1 Table 1) from the lot size and the "
                  "inspection level, e.g. \"J\". {l_en}", l_zh=_LEVEL_HELP.zh, l_en=_LEVEL_HELP.en),
          example='AQL_CODE(lot_size, "II")')
@_as_evaluation_error("AQL_CODE")
def aql_code(lot_size, level):
    """AQL_CODE(lot_size, level): Table 1 code letter."""
    if _blank(lot_size) or _blank(level):
        return None
    return sampling.code_letter(lot_size, level)


@register("AQL_SAMPLE_SIZE", params=_PLAN_PARAMS, returns=NUMBER, category="quality",
          doc=_plan_doc("抽样样本量 n", "Sample size n"),
          example='AQL_SAMPLE_SIZE(lot_size, "II", "1.0")')
@_as_evaluation_error("AQL_SAMPLE_SIZE")
def aql_sample_size(lot_size, level, aql, severity=None):
    """AQL_SAMPLE_SIZE(lot_size, level, aql, severity?)."""
    found = _plan(lot_size, level, aql, severity)
    return None if found is None else found.n


@register("AQL_AC", params=_PLAN_PARAMS, returns=NUMBER, category="quality",
          doc=_plan_doc("接收数 Ac：不合格数 ≤ Ac 时接收", "Acceptance number Ac: accept when "
                        "defects ≤ Ac"),
          example='AQL_AC(lot_size, "II", "1.0")')
@_as_evaluation_error("AQL_AC")
def aql_ac(lot_size, level, aql, severity=None):
    """AQL_AC(lot_size, level, aql, severity?)."""
    found = _plan(lot_size, level, aql, severity)
    return None if found is None else found.ac


@register("AQL_RE", params=_PLAN_PARAMS, returns=NUMBER, category="quality",
          doc=_plan_doc("拒收数 Re：不合格数 ≥ Re 时拒收（放宽检验时 Ac 与 Re 之间为接收但恢复正常检验）",
                        "Rejection number Re: reject when defects ≥ Re (reduced inspection: "
                        "between Ac and Re accept but return to normal)"),
          example='AQL_RE(lot_size, "II", "1.0", "tightened")')
@_as_evaluation_error("AQL_RE")
def aql_re(lot_size, level, aql, severity=None):
    """AQL_RE(lot_size, level, aql, severity?)."""
    found = _plan(lot_size, level, aql, severity)
    return None if found is None else found.re
