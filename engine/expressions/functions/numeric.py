"""Math functions on single numbers. Blank counts as 0, as in Excel."""
from __future__ import annotations

import math

from engine.i18n import msg
from engine.expressions.functions.registry import Param, register
from engine.expressions.runtime import fail, num0, power
from engine.expressions.types import NUMBER

_NUMBER = Param("number", NUMBER)
_DIGITS = Param("digits", NUMBER, optional=True)


def _scaled(number, digits) -> tuple[float, float]:
    """|number| × 10^digits corrected to 15 significant digits (as Excel stores numbers)."""
    digits = int(num0(digits))
    if not -15 <= digits <= 15:
        raise fail("小数位数应在 -15 到 15 之间", "digits must be between -15 and 15")
    factor = 10.0 ** digits
    return float(format(abs(num0(number)) * factor, ".15g")), factor


def _finish(number, magnitude: float, factor: float, digits):
    result = math.copysign(magnitude / factor, num0(number)) if magnitude else 0
    return int(result) if num0(digits) <= 0 else result


@register("ROUND", [_NUMBER, _DIGITS], returns=NUMBER, category="math",
          doc=msg("四舍五入到指定小数位（.5 远离零方向进位，与 Excel 相同）；位数可为负数。",
                  "Rounds to the given number of decimals, halves away from zero like Excel; digits may be "
                  "negative."),
          example="ROUND(AVERAGE(items.measured), 3)")
def round_(number, digits=0):
    """ROUND(number, digits)."""
    scaled, factor = _scaled(number, digits)
    return _finish(number, math.floor(scaled + 0.5), factor, digits)


@register("ROUNDUP", [_NUMBER, _DIGITS], returns=NUMBER, category="math",
          doc=msg("远离零方向进位到指定小数位。", "Rounds away from zero to the given number of decimals."),
          example="ROUNDUP(lot_size * 0.08, 0)")
def roundup(number, digits=0):
    """ROUNDUP(number, digits)."""
    scaled, factor = _scaled(number, digits)
    return _finish(number, math.ceil(scaled), factor, digits)


@register("ROUNDDOWN", [_NUMBER, _DIGITS], returns=NUMBER, category="math",
          doc=msg("向零方向舍去到指定小数位。", "Rounds toward zero to the given number of decimals."),
          example="ROUNDDOWN(rate, 2)")
def rounddown(number, digits=0):
    """ROUNDDOWN(number, digits)."""
    scaled, factor = _scaled(number, digits)
    return _finish(number, math.floor(scaled), factor, digits)


@register("ABS", [_NUMBER], returns=NUMBER, category="math",
          doc=msg("绝对值。", "Absolute value."), example="ABS(measured - nominal)")
def abs_(number):
    """ABS(number)."""
    value = num0(number)
    return -value if value < 0 else value


@register("SQRT", [_NUMBER], returns=NUMBER, category="math",
          doc=msg("平方根；负数报 #NUM! 错误。", "Square root; a negative number is a #NUM! error."),
          example="SQRT(variance)")
def sqrt(number):
    """SQRT(number)."""
    value = num0(number)
    if value < 0:
        raise fail("#NUM! 负数不能开平方", "#NUM! square root of a negative number")
    return math.sqrt(value)


@register("POWER", [_NUMBER, Param("exponent", NUMBER)], returns=NUMBER, category="math",
          doc=msg("乘方，等同于 a ^ b；结果过大时报错。", "a to the power b, like a ^ b; an overflowing result is an error."),
          example="POWER(deviation, 2)")
def power_(number, exponent):
    """POWER(number, exponent)."""
    return power(number, exponent)


@register("MOD", [_NUMBER, Param("divisor", NUMBER)], returns=NUMBER, category="math",
          doc=msg("求余数，结果符号与除数相同（与 Excel 相同）；除数为 0 报 #DIV/0!。",
                  "Remainder with the sign of the divisor (as in Excel); a zero divisor is #DIV/0!."),
          example="MOD(row_no, 5)")
def mod(number, divisor):
    """MOD(number, divisor)."""
    divisor = num0(divisor)
    if divisor == 0:
        raise fail("#DIV/0! 除数为零", "#DIV/0! division by zero")
    return num0(number) % divisor


@register("INT", [_NUMBER], returns=NUMBER, category="math",
          doc=msg("向下取整（-2.5 → -3，与 Excel 相同）。", "Rounds down to an integer (-2.5 → -3, as in Excel)."),
          example="INT(lot_size / 500)")
def int_(number):
    """INT(number)."""
    return math.floor(num0(number))
