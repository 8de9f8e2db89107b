"""Identifier rules for app, form and field keys (they become table and column names)."""
from __future__ import annotations

import re

from engine.i18n import Msg, msg

IDENTIFIER_PATTERN = "^[a-z][a-z0-9_]{0,39}$"
IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
SYSTEM_COLUMNS = frozenset({
    "id", "tenant_id", "serial_no", "title", "created_by", "created_at", "updated_by", "updated_at",
    "version", "status", "flow_state", "def_version", "parent_id", "record_id", "row_order",
})
EXPRESSION_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
IDENTIFIER_RULE = Msg("键须以小写字母开头，只含小写字母、数字和下划线，最长 40 个字符",
                      "A key must start with a lowercase letter and contain only lowercase letters, "
                      "digits and '_' (at most 40 characters)")


def identifier_problem(key: str) -> Msg | None:
    """Why ``key`` cannot be used as a key, or None if it can."""
    if not isinstance(key, str) or not IDENTIFIER.match(key):
        return Msg(f"“{key}”不是有效的键。{IDENTIFIER_RULE.zh}", f"'{key}' is not a valid key. {IDENTIFIER_RULE.en}")
    if "__" in key:
        return msg("键“{k}”不能包含连续两个下划线“__”（保留作子表表名的分隔符）",
                   "The key '{k}' must not contain '__' (reserved to separate sub-table names)", k=key)
    if key in SYSTEM_COLUMNS:
        return msg("“{k}”是系统字段名，不能用作键，请换一个名字",
                   "'{k}' is a system column name and cannot be used as a key; choose another", k=key)
    if key in EXPRESSION_KEYWORDS:
        return msg("“{k}”是表达式关键字，不能用作键", "'{k}' is an expression keyword and cannot be used as a key", k=key)
    return None
