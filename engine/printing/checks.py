"""The definition check for print templates: keys unique per form, every template compiles.

Meant for the checklist in :mod:`engine.definitions.loader`; it reads only the raw form dicts of
the :class:`~engine.definitions.sites.Checking` (shape errors are the JSON Schema's to report).
"""
from __future__ import annotations

from typing import Any, Iterator

from jinja2 import TemplateSyntaxError

from engine.errors import Problem
from engine.i18n import msg
from engine.printing.sandbox import ENV, syntax_message


def check_prints(checking: Any) -> Iterator[Problem]:
    """11. Print templates: unique keys within a form; each template compiles (syntax error → its line)."""
    for form in checking.forms:
        prints = form.raw.get("prints")
        if not isinstance(prints, list):
            continue
        seen: dict[str, str] = {}
        for index, item in enumerate(prints):
            if not isinstance(item, dict):
                continue
            path = f"{form.path}.prints[{index}]"
            key = item.get("key")
            if isinstance(key, str):
                if key in seen:
                    yield Problem(f"{path}.key", msg("打印模板键“{k}”重复（与 {p} 相同）",
                                                     "The print template key '{k}' is used twice (also at {p})",
                                                     k=key, p=seen[key]))
                seen.setdefault(key, path)
            problem = template_problem(item.get("template"))
            if problem is not None:
                yield Problem(f"{path}.template", problem)


def template_problem(source: Any):
    """The syntax problem of one template source (a Msg with the line), or None when it compiles."""
    if not isinstance(source, str):
        return None
    try:
        ENV.compile(source)      # parse and generate code: some errors only show then
    except TemplateSyntaxError as exc:
        return syntax_message(exc)
    except RecursionError:
        return msg("模板嵌套过深", "The template is nested too deeply")
    return None
