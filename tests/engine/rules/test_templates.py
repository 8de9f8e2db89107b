"""Templates of rule actions run in Jinja2's immutable sandbox: they show values, never reach
Python internals, never change what they are given, and their errors are messages, not tracebacks."""
from __future__ import annotations

import pytest

from engine.rules.templates import MAX_OUTPUT, TemplateProblem, json_problems, render, render_json, syntax_problem

CTX = {"record": {"lot_no": "L-1", "qty": 3, "items": [{"code": "D1"}, {"code": "D2"}]}, "old": {}}


def test_values_loops_and_filters():
    text = "{{ record.lot_no }}: {% for i in record['items'] %}{{ i.code | lower }} {% endfor %}{{ record.qty * 2 }}"
    assert render(text, CTX) == "L-1: d1 d2 6"


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ record.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ record.update({'lot_no': 'x'}) }}",
    "{{ record['items'].append(1) }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__ }}",
    "{% for x in range(10**7) %}{% endfor %}",
])
def test_templates_cannot_reach_python_internals_or_change_values(source):
    before = repr(CTX)
    try:
        out = render(source, CTX)
    except TemplateProblem as exc:
        assert exc.message.en and exc.message.zh
    else:
        assert "class" not in out and "module" not in out and "function" not in out
    assert repr(CTX) == before


def test_output_is_bounded():
    assert len(render("{% for i in range(99999) %}xxxxxxxxxx{% endfor %}", {})) == MAX_OUTPUT


def test_syntax_problems_name_the_line():
    problem = syntax_problem("ok\n{{ record.lot_no ")
    assert problem is not None and "2" in problem.en and "2" in problem.zh
    assert syntax_problem("{{ record.lot_no }}") is None
    assert syntax_problem(12) is not None


def test_json_payload_templates_render_every_string_and_keep_other_values():
    template = {"lot": "{{ record.lot_no }}", "n": 5, "ok": True, "tags": ["{{ record.qty }}", None]}
    assert render_json(template, CTX) == {"lot": "L-1", "n": 5, "ok": True, "tags": ["3", None]}
    assert [p for p, _ in json_problems({"a": ["{{ x", "fine"]}, "$.payload")] == ["$.payload.a[0]"]
