"""Functions that read the evaluation context: the clock and the current user."""
from __future__ import annotations

from engine.i18n import msg
from engine.expressions.functions.registry import register
from engine.expressions.types import DATE, DATETIME, id_of


@register("TODAY", [], returns=DATE, category="date", context=True,
          doc=msg("今天的日期（按上下文时区，默认 UTC）。", "Today's date in the context's time zone (UTC by default)."),
          example="TODAY()")
def today(ctx):
    """TODAY()."""
    return ctx.today()


@register("NOW", [], returns=DATETIME, category="date", context=True,
          doc=msg("当前日期时间（带时区）。", "The current date and time (time-zone aware)."),
          example="NOW()")
def now(ctx):
    """NOW()."""
    return ctx.current_time()


@register("CURRENT_USER", [], returns=id_of("user"), category="context", context=True,
          doc=msg("当前操作用户的编号（系统自动处理时为空值）。",
                  "The id of the user acting now (blank when the system itself acts)."),
          example="CURRENT_USER() = inspector")
def current_user(ctx):
    """CURRENT_USER()."""
    return ctx.user_id
