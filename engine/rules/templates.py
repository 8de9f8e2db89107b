"""Subject, body and payload templates of rule actions: Jinja2 in its immutable sandbox.

Templates are written by users, so they run in ``ImmutableSandboxedEnvironment``: no access to
underscore attributes or Python internals, no mutation of the values handed in; loops, calls and
built values are bounded by :mod:`engine.jinja_bounds`. A template over ``MAX_TEMPLATE`` characters
is refused when the rule is checked, and a rendered text is cut at ``MAX_OUTPUT``. A template error becomes a
:class:`TemplateProblem` with the line, never a traceback.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError, TemplateError

from engine.errors import QMSError
from engine.i18n import Msg, msg
from engine.jinja_bounds import BoundedSandbox, bounded_steps

MAX_TEMPLATE = 20_000
MAX_OUTPUT = 100_000


class TemplateProblem(QMSError):
    """A template that does not parse or fails while rendering."""

    code = "template_error"


class _Env(BoundedSandbox):
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # values handed to templates are dicts, lists and scalars: nothing callable besides
        # the sandbox's own safe methods (dict.get, str.upper, …)
        return super().is_safe_attribute(obj, attr, value) and not attr.startswith("_")


@lru_cache(maxsize=2)
def _environment(strict: bool) -> _Env:
    env = _Env(autoescape=False, undefined=StrictUndefined if strict else Undefined,
               trim_blocks=True, lstrip_blocks=True)
    env.globals.clear()           # no range/dict/lipsum/cycler… beyond what filters give
    env.globals["range"] = env.bounded_range
    return env


def syntax_problem(source: object) -> Msg | None:
    """Why ``source`` is not a usable template (None when it is)."""
    if not isinstance(source, str):
        return msg("模板应为文本", "A template must be text")
    if len(source) > MAX_TEMPLATE:
        return msg("模板过长（最多 {n} 个字符）", "The template is too long (at most {n} characters)", n=MAX_TEMPLATE)
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:
        return msg("模板第 {l} 行有误：{e}", "Template error on line {l}: {e}", l=exc.lineno, e=exc.message or "")
    return None


@lru_cache(maxsize=512)
def _compiled(source: str):
    return _environment(False).from_string(source)


def render(source: str, context: Mapping[str, Any]) -> str:
    """``source`` rendered with ``context`` (unknown names render as empty text)."""
    try:
        with bounded_steps():
            text, size = [], 0
            for chunk in _compiled(source).generate(**context):
                text.append(chunk)
                size += len(chunk)
                if size > MAX_OUTPUT:
                    break
            text = "".join(text)
    except SecurityError as exc:
        raise TemplateProblem(msg("模板访问了不允许的内容：{e}", "The template tried something not allowed: {e}",
                                  e=str(exc)[:200])) from None
    except TemplateError as exc:
        raise TemplateProblem(msg("模板出错：{e}", "Template error: {e}", e=str(exc)[:200])) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a division by zero inside the template
        raise TemplateProblem(msg("模板出错：{e}", "Template error: {e}", e=f"{type(exc).__name__}: {exc}"[:200])) from None
    return text[:MAX_OUTPUT]


def render_json(value: Any, context: Mapping[str, Any]) -> Any:
    """A JSON payload template: every string inside is rendered; numbers, booleans, null stay."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_json(v, context) for v in value]
    if isinstance(value, Mapping):
        return {str(k): render_json(v, context) for k, v in value.items()}
    return value


def json_problems(value: Any, path: str) -> list[tuple[str, Msg]]:
    """(path, problem) for every string of a JSON payload template that does not parse."""
    if isinstance(value, str):
        problem = syntax_problem(value)
        return [(path, problem)] if problem else []
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in json_problems(v, f"{path}[{i}]")]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in json_problems(v, f"{path}.{k}")]
    return []
