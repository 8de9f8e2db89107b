"""Text functions. Arguments that are numbers or dates are turned into text as ``&`` does;
blank is the empty text. Every text result is bounded (limits.MAX_TEXT_LENGTH)."""
from __future__ import annotations

import re

from engine.i18n import msg
from engine.expressions.functions.registry import Param, register
from engine.expressions.limits import MAX_TEXT_LENGTH
from engine.expressions.runtime import capped, fail, num0, text_limit_error, text_of
from engine.expressions.text_format import format_value
from engine.expressions.types import ANY, BOOLEAN, NUMBER, TEXT, list_of

_TEXT = Param("text", TEXT)


def _count(value, name: str) -> int:
    n = num0(value)
    if n < 0:
        raise fail("#VALUE! {f} 的字符数不能为负数", "#VALUE! {f}: the number of characters cannot be negative", f=name)
    return int(min(n, MAX_TEXT_LENGTH + 1))


@register("LEN", [_TEXT], returns=NUMBER, category="text",
          doc=msg("字符数（一个汉字算 1 个）。", "Number of characters (a Chinese character counts as 1)."),
          example="LEN(lot_no)")
def len_(text):
    """LEN(text)."""
    return len(text)


@register("CONCAT", [Param("values", list_of(ANY), variadic=True)], returns=TEXT, category="text",
          doc=msg("把所有参数（也可以是子表列）连接成一个文本。", "Joins all arguments (sub-table columns too) into one text."),
          example='CONCAT(supplier, "-", part_no)')
def concat(*lists):
    """CONCAT(value, …)."""
    return capped("".join(text_of(v) for values in lists for v in values))


@register("TEXTJOIN", [Param("separator", TEXT), Param("ignore_empty", BOOLEAN),
                       Param("values", list_of(ANY), variadic=True)], returns=TEXT, category="text",
          doc=msg("用分隔符把所有参数（也可以是子表列）连接成一个文本；ignore_empty 为 TRUE 时跳过空值。",
                  "Joins all arguments (sub-table columns too) with a separator; with ignore_empty TRUE, "
                  "blank values are left out."),
          example='TEXTJOIN("、", TRUE, defects.code)')
def textjoin(separator, ignore_empty, *lists):
    """TEXTJOIN(separator, ignore_empty, value, …)."""
    parts = [text_of(v) for values in lists for v in values]
    if ignore_empty:
        parts = [p for p in parts if p != ""]
    return capped(text_of(separator).join(parts))


@register("LEFT", [_TEXT, Param("count", NUMBER, optional=True)], returns=TEXT, category="text",
          doc=msg("从左边取若干个字符（默认 1 个）。", "The first characters (1 by default)."),
          example="LEFT(part_no, 3)")
def left(text, count=1):
    """LEFT(text, count)."""
    return text[:_count(count, "LEFT")]


@register("RIGHT", [_TEXT, Param("count", NUMBER, optional=True)], returns=TEXT, category="text",
          doc=msg("从右边取若干个字符（默认 1 个）。", "The last characters (1 by default)."),
          example="RIGHT(lot_no, 4)")
def right(text, count=1):
    """RIGHT(text, count)."""
    n = _count(count, "RIGHT")
    return text[len(text) - n:] if n else ""


@register("MID", [_TEXT, Param("start", NUMBER), Param("count", NUMBER)], returns=TEXT, category="text",
          doc=msg("从第 start 个字符（从 1 开始）起取 count 个字符。", "count characters from position start (1-based)."),
          example="MID(lot_no, 5, 4)")
def mid(text, start, count):
    """MID(text, start, count)."""
    begin = int(num0(start))
    if begin < 1:
        raise fail("#VALUE! MID 的起始位置应从 1 开始", "#VALUE! MID: start must be 1 or more")
    return text[begin - 1:begin - 1 + _count(count, "MID")]


@register("UPPER", [_TEXT], returns=TEXT, category="text",
          doc=msg("转为大写字母。", "Upper case."), example="UPPER(result)")
def upper(text):
    """UPPER(text)."""
    return text.upper()


@register("LOWER", [_TEXT], returns=TEXT, category="text",
          doc=msg("转为小写字母。", "Lower case."), example="LOWER(email)")
def lower(text):
    """LOWER(text)."""
    return text.lower()


@register("TRIM", [_TEXT], returns=TEXT, category="text",
          doc=msg("去掉首尾空格，并把中间连续的空白合并为一个空格。",
                  "Removes leading and trailing spaces and collapses inner runs of white space to one space."),
          example="TRIM(remark)")
def trim(text):
    """TRIM(text)."""
    return " ".join(text.split())


@register("CONTAINS", [_TEXT, Param("part", TEXT)], returns=BOOLEAN, category="text",
          doc=msg("文本中包含指定内容时为 TRUE（不区分大小写）。", "TRUE when the text contains the part (ignoring case)."),
          example='CONTAINS(description, "划伤")')
def contains(text, part):
    """CONTAINS(text, part)."""
    return part.casefold() in text.casefold()


@register("TEXT", [Param("value", ANY), Param("format", TEXT, optional=True)], returns=TEXT, category="text",
          doc=msg("按格式把数值或日期转为文本，如 \"0.00\"、\"#,##0\"、\"0.0%\"、\"yyyy-mm-dd\"、\"hh:mm\"。",
                  "Formats a number or date as text, e.g. \"0.00\", \"#,##0\", \"0.0%\", \"yyyy-mm-dd\", \"hh:mm\"."),
          example='TEXT(inspect_date, "yyyy-mm-dd")')
def text(value, fmt=""):
    """TEXT(value, format)."""
    return capped(format_value(value, fmt))


_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@register("VALUE", [_TEXT], returns=NUMBER, category="text",
          doc=msg("把文本转为数值（可带千分位逗号或 %）；空文本为空值，无法转换时报 #VALUE!。",
                  "Turns text into a number (thousands commas and % allowed); empty text is blank, anything "
                  "else is #VALUE!."),
          example='VALUE("1,250")')
def value(text):
    """VALUE(text)."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    scale = 1
    if cleaned.endswith("%"):
        cleaned, scale = cleaned[:-1], 100
    if len(cleaned) > 400 or not _NUMBER_TEXT.match(cleaned):
        raise fail("#VALUE! '{t}' 不是数字", "#VALUE! '{t}' is not a number", t=text[:40])
    number = float(cleaned) if any(c in cleaned for c in ".eE") else int(cleaned)
    return number / scale if scale != 1 else number


@register("REPT", [_TEXT, Param("times", NUMBER)], returns=TEXT, category="text",
          doc=msg("把文本重复若干次（结果不超过 {n} 个字符）。".format(n=MAX_TEXT_LENGTH),
                  "Repeats the text (the result is at most {n} characters).".format(n=MAX_TEXT_LENGTH)),
          example='REPT("★", rating)')
def rept(text, times):
    """REPT(text, times)."""
    n = num0(times)
    if n < 0:
        raise fail("#VALUE! REPT 的次数不能为负数", "#VALUE! REPT: times cannot be negative")
    if text and n * len(text) > MAX_TEXT_LENGTH:
        raise text_limit_error()   # checked before the text is built
    return text * int(n)
