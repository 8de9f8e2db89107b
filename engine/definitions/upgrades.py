"""Definition format versions and the chain of upgrade functions between them.

Every definition carries ``format`` (missing = 1, the first format). ``UPGRADES[n]`` turns a
format-``n`` dict into format ``n + 1``; :func:`upgrade` applies the chain up to
:data:`CURRENT_FORMAT` before checking. Each upgrade must come with an old-format fixture in
``tests/fixtures/definitions/`` and a test. A format newer than this engine is a problem, not a
guess.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

from engine.errors import Problem
from engine.i18n import msg

CURRENT_FORMAT = 1
UPGRADES: dict[int, Callable[[dict], dict]] = {}


def _format_of(data: dict) -> Any:
    return data.get("format", 1)


def upgrade_one(data: Any, path: str = "$") -> tuple[Any, list[Problem]]:
    """``data`` (a form or app dict) brought to the current format, or problems saying why not.

    A format that is not a whole number is left for the schema to report.
    """
    if not isinstance(data, dict):
        return data, []
    version = _format_of(data)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return data, []
    if version > CURRENT_FORMAT:
        return data, [Problem(f"{path}.format", msg(
            "定义格式版本 {v} 比本系统支持的 {c} 更新，请先升级系统",
            "Definition format {v} is newer than this engine supports ({c}); upgrade the engine first",
            v=version, c=CURRENT_FORMAT))]
    if version == CURRENT_FORMAT:
        return data, []
    data = copy.deepcopy(data)
    while version < CURRENT_FORMAT:
        step = UPGRADES.get(version)
        if step is None:
            return data, [Problem(f"{path}.format", msg(
                "无法把格式版本 {v} 升级到 {c}", "No upgrade from format {v} to {c}", v=version, c=CURRENT_FORMAT))]
        data = step(data)
        version += 1
        data["format"] = version
    return data, []


def upgrade(data: Any, kind: str) -> tuple[Any, list[Problem]]:
    """Upgrade a form, or an app package and each of its forms."""
    data, problems = upgrade_one(data)
    if kind != "app" or problems or not isinstance(data, dict) or not isinstance(data.get("forms"), list):
        return data, problems
    forms = []
    for index, form in enumerate(data["forms"]):
        form, more = upgrade_one(form, f"$.forms[{index}]")
        forms.append(form)
        problems.extend(more)
    if any(f is not o for f, o in zip(forms, data["forms"])):
        data = {**data, "forms": forms}
    return data, problems
