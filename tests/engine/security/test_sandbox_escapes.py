"""Known escape and exhaustion payloads against every renderer of user-written templates (rule
subjects/bodies/payloads, print templates) and against the expression language: each one is a
clear refusal or a harmless text, never Python internals, secrets, files or code, and fast."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from engine.expressions import evaluate, scope_from_data
from engine.errors import ExpressionError
from engine.printing import sandbox as print_sandbox
from engine.rules import templates as rule_templates

ROOT = Path(__file__).resolve().parents[3]

JINJA_PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request.environ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ ''|attr('__class__') }}",
    "{{ ()|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ range(10**8)|list|length }}",
    "{{ 'a' * 10**9 }}",
    "{% include '/etc/passwd' %}",
    "{% extends 'base.html' %}",
    "{% import 'x' as y %}",
    "{{ url_for.__globals__ }}",
    "{{ get_flashed_messages.__globals__ }}",
    "{{ record.__class__.__init__.__globals__ }}",
    "{{ record.get.__self__ }}",
    "{{ '{0.__class__}'.format(record) }}",
    "{{ 2 ** 10**9 }}",
    # amplification: each builds a gigabyte or spins for hours without the bounds
    "{{ 'a'|center(10**9)|length }}",
    "{{ 'a'.ljust(10**9)|length }}",
    "{{ '%*s'|format(10**9, 'x') }}",
    "{{ '%1000000000s' % 'x' }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ [1]|batch(10**9, 'x')|list|length }}",
    "{{ 'a\na'|indent(10**9)|length }}",
    "{{ ('a'*100000)|replace('a', 'a'*100000)|length }}",
    "{{ ('a'*100000).replace('a', 'a'*100000)|length }}",
    "{{ ('a'*100000)|list|join('a'*100000)|length }}",
    "{% set L = [0]*100000 %}{% for a in L %}{% for b in L %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{% set s = 'aaaaaaaaaaaaaaaa' %}" + "{% set s = s ~ s %}" * 40 + "{{ s|length }}",
    "{% set s = 'aaaaaaaaaaaaaaaa' %}" + "{% set s = s + s %}" * 40 + "{{ s|length }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% for i in range(3) recursive %}{{ loop([1]*100000) }}{% endfor %}",
]
LEAKS = re.compile(r"class|module|function|built-?in|globals|subclasses|root:|environ|SECRET|uid=|PATH=|<object")
ERROR_LEAKS = re.compile(r"root:|uid=|<function|<class|<module|<built-in|<bound|PATH=|SECRET")
RENDERERS = {"rule": (rule_templates.render, rule_templates.TemplateProblem),
             "print": (print_sandbox.render, print_sandbox.PrintError)}


def _context() -> dict:
    return {"record": {"lot_no": "L-1", "qty": 3, "items": [{"code": "D1"}]}, "old": {}}


@pytest.mark.parametrize("kind", sorted(RENDERERS))
@pytest.mark.parametrize("source", JINJA_PAYLOADS)
def test_jinja_payloads_are_refused_or_harmless_and_fast(kind, source):
    render, problem = RENDERERS[kind]
    ctx = _context()
    before = repr(ctx)
    started = time.perf_counter()
    try:
        out = render(source, ctx)
    except problem as exc:
        assert exc.message.zh and exc.message.en
        assert not ERROR_LEAKS.search(exc.message.en), exc.message.en
    else:
        assert not LEAKS.search(out), out[:200]
        assert len(out) <= 4_000_000
    assert time.perf_counter() - started < 2.5           # ~1 s at worst on a slow CI machine
    assert repr(ctx) == before                            # the sandbox never changes what it is given


def test_no_secret_or_environment_reaches_a_template():
    os.environ["QMS_TEST_SECRET_MARKER"] = "s3cr3t-marker"
    try:
        for render, problem in RENDERERS.values():
            for source in ("{{ config }}{{ environ }}{{ os }}{{ settings }}{{ SECRET_KEY }}",
                           "{{ self }}{{ context }}{{ g }}{{ session }}"):
                try:
                    out = render(source, _context())
                except problem:
                    continue
                assert "s3cr3t" not in out and "0x" not in out, out
    finally:
        del os.environ["QMS_TEST_SECRET_MARKER"]


def test_legitimate_templates_still_work_in_both_sandboxes():
    source = ("{{ record.lot_no }} {% for i in range(3) %}{{ i }}{% endfor %} {{ '%05d'|format(3) }} "
              "{{ 'x'.center(5) }} {{ ['a', 'b']|join(', ') }} {{ record.qty * 2 }} {{ 'ab' ~ 'cd' }}")
    for render, _ in RENDERERS.values():
        assert render(source, _context()) == "L-1 012 00003   x   a, b 6 abcd"


def test_every_jinja_environment_in_the_code_is_sandboxed():
    """A new Environment/Template on user text would bypass the sandbox: only the two known ones exist."""
    offenders = []
    for folder in ("engine", "runtime", "designer"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if re.search(r"\bjinja2\.(Environment|Template)\(|\bfrom_string\(|\bTemplate\(", text) \
                    or re.search(r"from jinja2 import[^\n]*\b(Environment|Template)\b", text) \
                    or "render_template_string" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert sorted(offenders) == ["engine/printing/sandbox.py", "engine/rules/templates.py"], offenders


# ---------------------------------------------------------------------------- the expression language

DATA = {"x": 1, "name": "a" * 100_000, "d": "2024-01-01",
        "items": [{"qty": 1, "defect": "a" * 5_000}, {"qty": 2, "defect": "b"}]}
EXPRESSION_PAYLOADS = [
    "__import__('os')", "__import__(\"os\")", "x.__class__", '"".__class__.__mro__', "items.__dict__",
    'getattr(x, "__class__")', 'eval("1")', 'exec("1")', 'open("/etc/passwd")', "lambda: 1", "[c for c in ()]",
    'os.system("id")', 'IMPORT("os")', 'ｅｖａｌ("1")', "еval(1)", "x.ｃlass", "1; DROP TABLE x", "1\x00+1",
    "x\x00", "9^9^9^9", "POWER(10, 10^6)", 'REPT("a", 10^9)', 'LEN(REPT("a",10^9))', "(" * 10_000 + "1" + ")" * 10_000,
    "1+" * 500_000 + "1", 'CONCAT(items.defect, items.defect, REPT("c", 99999))', 'TEXTJOIN(REPT("a", 90000), TRUE, items.defect)',
    'COUNTIF(items.defect, "*a*a*a*a*a*a*a*a*a*a*a*a*b")', 'SUMIF(items.defect, "?*a*a*a*a*a*a*a*a*a*a*a*b", items.qty)',
    "DATE(99999, 1, 1)", "DATE(2024, 1, 1) + 10^9", 'DATEDIF(DATE(1,1,1), DATE(9999,12,31), "d") * 10^12',
    'TEXT(1, "' + "0" * 3_000 + '")', "10^308*10", 'VALUE("1e999999")', "MID(name, 1, 10^18)",
]


@pytest.mark.parametrize("source", EXPRESSION_PAYLOADS, ids=lambda s: repr(s[:40]))
def test_expression_payloads_fail_clearly_and_fast(source):
    started = time.perf_counter()
    try:
        value = evaluate(source, DATA, scope_from_data(DATA))
    except ExpressionError as exc:
        assert exc.line >= 1 and exc.column >= 1
        assert exc.message.zh and exc.message.en and exc.message.zh != exc.message.en
    else:
        # the few payloads that are valid formulas give plain, bounded values
        assert isinstance(value, (int, float, str, bool)) and len(str(value)) <= 100_000
    assert time.perf_counter() - started < 1.0


def test_wildcard_criteria_still_match_like_excel():
    rows = {"items": [{"c": v} for v in ("abc", "ABX", "a*c", "xyz", "", "a?c")]}
    scope = scope_from_data(rows)
    count = lambda crit: evaluate(f'COUNTIF(items.c, "{crit}")', rows, scope)  # noqa: E731
    assert count("a*") == 4 and count("*c") == 3 and count("a?c") == 3 and count("a~*c") == 1
    assert count("a~?c") == 1 and count("*") == 6 and count("?b?") == 2 and count("*y*") == 1
