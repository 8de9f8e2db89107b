"""Print templates without a database: the sandbox, escaping, bounds, the definition check and
the ``prints`` slot of a form definition."""
import copy

import pytest

from engine.definitions import check_definition, load_form
from engine.definitions.sites import build_checking
from engine.printing import sandbox, templates
from engine.printing.checks import check_prints
from engine.printing.sandbox import PrintError
from tests.engine.printing.support import IQC_FORM, print_of, with_prints

SIMPLE = {"key": "simple", "label": {"zh-CN": "简单", "en": "Simple"}, "template": "<p>{{ record.lot_no }}</p>"}


@pytest.mark.parametrize("payload", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ t.__globals__ }}",
    "{{ record.items.__self__ }}",
    "{{ t.__code__ }}",
    "{% set x = record.update({'a': 1}) %}",
    "{{ cycler.__init__.__globals__.os }}",
])
def test_templates_cannot_reach_python_internals_or_change_data(payload):
    with pytest.raises(PrintError) as err:
        sandbox.render(payload, {"record": {"lot_no": "L1"}, "t": lambda zh, en: zh})
    assert "not allowed" in err.value.message.en or "failed" in err.value.message.en
    assert err.value.message.zh          # bilingual


def test_user_values_are_escaped_but_the_qr_markup_is_not():
    from markupsafe import Markup
    html = sandbox.render("<p>{{ record.remarks }}</p>{{ qr }}",
                          {"record": {"remarks": "<script>alert(1)</script> & \"x\""}, "qr": Markup("<svg></svg>")})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;x&#34;" in html
    assert "<script>" not in html and "<svg></svg>" in html


def test_missing_fields_print_blank_and_none_is_not_the_word_none():
    html = sandbox.render("[{{ record.nope }}|{{ record.get('nope') }}|{{ record.a.b.c }}|{{ n }}]",
                          {"record": {}, "n": None})
    assert html == "[|||]"


def test_loops_repetition_and_output_are_bounded():
    with pytest.raises(PrintError):
        sandbox.render("{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}", {})
    with pytest.raises(PrintError):
        sandbox.render("{{ 'x' * 10000000 }}", {})
    with pytest.raises(PrintError):
        sandbox.render("{{ 10 ** 100000000 }}", {})
    with pytest.raises(PrintError) as err:
        sandbox.render("{% for i in range(99000) %}{{ 'x' * 90000 }}{% endfor %}", {})
    assert "too much output" in err.value.message.en


def test_a_syntax_error_names_its_line():
    with pytest.raises(PrintError) as err:
        sandbox.compile_template("<h1>IQC</h1>\n{% for c in rows.characteristics %}\n{{ c.name }\n")
    assert "line 3" in err.value.message.en and "第 3 行" in err.value.message.zh


def test_the_definition_check_reports_path_and_line_of_a_broken_template():
    broken = dict(SIMPLE, key="broken", template="<p>ok</p>\n{% if record.result %}\n<b>x</b>\n")
    form = with_prints(IQC_FORM, SIMPLE, broken, dict(SIMPLE))
    problems = list(check_prints(build_checking(form, "form", None)))
    assert [(p.path, "line" in p.message.en) for p in problems] == [
        ("$.prints[1].template", True), ("$.prints[2].key", False)]
    assert "used twice" in problems[1].message.en


def test_schema_checks_the_prints_slot():
    bad = with_prints(IQC_FORM, dict(SIMPLE, paper="A3"), {"key": "x", "label": {"zh-CN": "x", "en": "x"}})
    paths = [p.path for p in check_definition(bad)]
    assert "$.prints[0].paper" in paths and any(p.startswith("$.prints[1]") for p in paths)


def test_prints_survive_load_and_to_dict_and_shipped_templates_compile():
    iqc = print_of("iqc_inspection", "report")
    defn = with_prints(IQC_FORM, iqc, dict(SIMPLE, paper="A4-landscape"))
    assert check_definition(copy.deepcopy(defn)) == []
    form = load_form(defn)
    assert [(p.key, p.paper) for p in form.prints] == [("report", "A4"), ("simple", "A4-landscape")]
    assert form.prints[0].label.zh == "来料检验报告"
    again = load_form(form.to_dict())
    assert again.prints == form.prints
    sandbox.compile_template(print_of("eight_d", "report")["template"])


def test_choosing_a_template():
    form = load_form(with_prints(IQC_FORM, SIMPLE))
    assert templates.choose(form).key == "simple" and templates.choose(form, "default").key == "default"
    assert templates.choose(load_form(IQC_FORM)).key == "default"
    assert [p.key for p in templates.available(form)] == ["simple", "default"]
    from engine.errors import NotFound
    with pytest.raises(NotFound) as err:
        templates.choose(form, "nope")
    assert "simple, default" in err.value.message.en


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:6379/", "https://example.com/logo.png"])
def test_the_pdf_step_fetches_nothing_but_data_urls(url):
    from engine.printing import pdf
    with pytest.raises(ValueError):
        pdf._fetcher().fetch(url)
    html = pdf.as_document(f'<img src="{url}"><link rel="stylesheet" href="{url}"><p>ok</p>', "t", "en")
    content, pages = pdf.write_pdf([(html, "A4-landscape")])
    assert content.startswith(b"%PDF-") and pages == 1
