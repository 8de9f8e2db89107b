"""JSON paths for problems (``$.forms[0].fields[3].key``) and their natural sort order."""
from __future__ import annotations

import re
from typing import Callable, Iterable

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def join(path: str, part: str | int) -> str:
    """``path`` extended by a property name or a list index."""
    if isinstance(part, int):
        return f"{path}[{part}]"
    if _PLAIN.match(part):
        return f"{path}.{part}"
    escaped = part.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


def json_path(parts: Iterable[str | int]) -> str:
    """``$``-rooted path of a sequence of keys and indexes."""
    path = "$"
    for part in parts:
        path = join(path, part)
    return path


def sort_key(path: str) -> tuple:
    """Order paths as a person reads them: ``fields[2]`` before ``fields[10]``."""
    key: list[tuple] = []
    for name, index, quoted in _TOKEN.findall(path):
        if index:
            key.append((0, int(index), ""))
        else:
            key.append((1, 0, name or quoted))
    return tuple(key)


def all_problems(produce: Callable[[], Iterable], what_zh: str, what_en: str) -> list:
    """Every Problem ``produce()`` yields, once each (same path and message), sorted by path — and
    never an exception: a definition that trips a checker gets one problem naming the error
    ("Cannot check this <what> definition"), not a traceback."""
    from engine.errors import Problem
    from engine.i18n import Msg
    try:
        problems = list(produce())
    except Exception as exc:  # noqa: BLE001 - never a traceback for a user's definition
        name = type(exc).__name__
        problems = [Problem("$", Msg(f"无法检查此{what_zh}定义（{name}）", f"Cannot check this {what_en} definition ({name})"))]
    unique = {(p.path, p.message.en): p for p in problems}
    return sorted(unique.values(), key=lambda p: sort_key(p.path))
