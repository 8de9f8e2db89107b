"""The semantic checklist: each check finds its mistake, with a path and both languages."""
from __future__ import annotations

import pytest

from tests.engine.definitions.defbuild import CHOICES, app, fld, form
from engine.definitions import CHECKLIST, check_definition, load_form


def problems_of(data, **kwargs):
    return [(p.path, p.message.en, p.message.zh) for p in check_definition(data, **kwargs)]


def only(data, **kwargs):
    found = problems_of(data, **kwargs)
    assert len(found) == 1, found
    return found[0]


def test_checklist_is_numbered_in_docstrings():
    numbers = [int(check.__doc__.split(".")[0]) for check in CHECKLIST]
    assert numbers == list(range(1, len(CHECKLIST) + 1))


@pytest.mark.parametrize("key, en, zh", [
    ("created_at", "system column name", "系统字段名"),
    ("row_order", "system column name", "系统字段名"),
    ("lot__no", "must not contain '__'", "连续两个下划线"),
    ("and", "expression keyword", "表达式关键字"),
])
def test_reserved_identifiers(key, en, zh):
    path, got_en, got_zh = only(form(fld(key)))
    assert path == "$.fields[0].key" and en in got_en and zh in got_zh


def test_reserved_key_in_a_sub_table_and_for_the_form():
    data = form(fld("items", "subtable", fields=[fld("id", "number")]), key="true")
    assert [p for p, _, _ in problems_of(data)] == ["$.fields[0].fields[0].key", "$.key"]


def test_blank_labels_in_either_language():
    data = form(fld("a", label={"zh-CN": "", "en": "A"}),
                fld("b", "select", choices=[{"code": "X", "label": {"zh-CN": "叉", "en": " "}}]))
    assert problems_of(data) == [
        ('$.fields[0].label["zh-CN"]', "The Chinese text must not be empty", "中文文本不能为空"),
        ("$.fields[1].choices[0].label.en", "The English text must not be empty", "英文文本不能为空"),
    ]


def test_duplicate_field_keys_per_level():
    data = form(fld("qty", "number"), fld("qty"),
                fld("items", "subtable", fields=[fld("qty", "number"), fld("part"), fld("part")]))
    assert [(p, en) for p, en, _ in problems_of(data)] == [
        ("$.fields[1].key", "The field key 'qty' is used twice (also at $.fields[0])"),
        ("$.fields[2].fields[2].key", "The field key 'part' is used twice (also at $.fields[2].fields[1])"),
    ]


def test_duplicate_option_codes_and_default_not_among_codes():
    choices = CHOICES + [{"code": "OK", "label": {"zh-CN": "合格", "en": "OK"}}]
    data = form(fld("result", "select", choices=choices, default="WAIT"))
    assert problems_of(data) == [
        ("$.fields[0].choices[2].code", "The option code 'OK' is used twice", "选项编码“OK”重复"),
        ("$.fields[0].default", "Invalid default: 'WAIT' is not an option code of this field; choose one of: OK, NG, OK",
         "默认值无效：“WAIT”不是该字段的选项编码；可选：OK, NG, OK"),
    ]


def test_multiselect_default_is_checked_per_code():
    path, en, _ = only(form(fld("defects", "multiselect", choices=CHOICES, default=["OK", "BAD"])))
    assert path == "$.fields[0].default" and "'BAD'" in en


@pytest.mark.parametrize("props, path, en", [
    ({"min": 5, "max": 1}, "$.fields[0].min", "min (5) is greater than max (1)"),
    ({"min_length": 9, "max_length": 2}, "$.fields[0].min_length", "min_length (9) is greater than max_length (2)"),
    ({"pattern": "([A-Z"}, "$.fields[0].pattern", "Invalid pattern: Invalid regular expression"),
    ({"min": "abc"}, "$.fields[0].min", "Invalid min: 'abc' is not a valid number"),
    ({"default": "12abc"}, "$.fields[0].default", "Invalid default: '12abc' is not a valid number"),
])
def test_constant_constraints(props, path, en):
    type_ = "text" if "length" in str(props) or "pattern" in props else "number"
    got_path, got_en, got_zh = only(form(fld("x", type_, **props)))
    assert got_path == path and en in got_en and got_zh


def test_date_bounds_are_compared_as_dates():
    path, en, zh = only(form(fld("due", "date", min="2026-12-01", max="2026-02-01")))
    assert path == "$.fields[0].min" and "greater than" in en and "大于" in zh
    assert check_definition(form(fld("due", "date", min="2026-02-01", max="2026-12-01"))) == []


def test_constraints_that_do_not_fit_the_type():
    data = form(fld("ok", "boolean", min=1, max={"expr": "zzz"}), fld("total", "formula", formula="1", default=3),
                fld("rows", "subtable", fields=[fld("q", "number")], default={"expr": "1"}))
    assert problems_of(data) == [
        ("$.fields[0].max", "A Yes/No field cannot have max", "“是/否”类型的字段不能设置最大值"),
        ("$.fields[0].min", "A Yes/No field cannot have min", "“是/否”类型的字段不能设置最小值"),
        ("$.fields[1].default", "A Formula field cannot have a default", "“公式”类型的字段不能设置默认值"),
        ("$.fields[2].default", "A Sub-table field cannot have a default", "“子表”类型的字段不能设置默认值"),
    ]


def test_serial_and_numbering_patterns():
    data = form(fld("no", "serial", pattern="NCR-{YYYY}"), numbering="NCR-{X}-{000}")
    assert [(p, en) for p, en, _ in problems_of(data)] == [
        ("$.fields[0].pattern", "The numbering pattern needs exactly one counter such as {0000}; it has 0"),
        ("$.numbering", "Unknown token {X} in the numbering pattern; use {YYYY} {YY} {MM} {DD} and one counter such as {0000}"),
    ]


def test_reference_to_unknown_form_in_an_app_and_in_known_forms():
    ncr = form(fld("supplier", "reference", form="vendor"))
    path, en, zh = only(app(ncr, form(fld("name"), key="supplier")), kind="app")
    assert path == "$.forms[0].fields[0].form" and "'vendor' does not exist" in en and "“vendor”不存在" in zh
    assert only(ncr, known_forms=["supplier"])[0] == "$.fields[0].form"
    assert check_definition(ncr, known_forms=["vendor"]) == []
    assert check_definition(ncr) == []                # other forms unknown: not checked


def test_a_form_may_reference_itself():
    data = form(fld("parent", "reference", form="ncr"), fld("parent_title", "lookup", reference="parent", field="title_text"),
                fld("title_text"))
    assert check_definition(data, known_forms={}) == []


def test_lookup_needs_a_reference_field_and_a_target_field(supplier_def):
    data = form(fld("supplier", "reference", form="supplier"), fld("plain"),
                fld("a", "lookup", reference="plain", field="name"),
                fld("b", "lookup", reference="missing", field="name"),
                fld("c", "lookup", reference="supplier", field="nmae"))
    assert [(p, en) for p, en, _ in problems_of(data, known_forms={"supplier": supplier_def})] == [
        ("$.fields[2].reference", "'plain' is not a reference field of this form"),
        ("$.fields[3].reference", "'missing' is not a reference field of this form"),
        ("$.fields[4].field", "The form 'supplier' has no field 'nmae'"),
    ]


def test_lookup_cannot_show_a_sub_table():
    target = form(fld("lines", "subtable", fields=[fld("qty", "number")]), key="order")
    data = form(fld("order", "reference", form="order"), fld("l", "lookup", reference="order", field="lines"))
    path, en, zh = only(data, known_forms={"order": target})
    assert path == "$.fields[1].field" and "sub-table 'lines'" in en and "子表" in zh


def test_lookup_in_a_sub_table_row_may_use_the_row_reference(supplier_def):
    data = form(fld("lines", "subtable", fields=[
        fld("supplier", "reference", form="supplier"), fld("grade", "lookup", reference="supplier", field="grade")]))
    loaded = load_form(data, known_forms={"supplier": supplier_def})
    assert loaded.field("lines").field("grade").option("target").key == "grade"


def _nested(depth: int) -> dict:
    inner = fld("value", "number")
    for level in range(depth, 0, -1):
        inner = fld(f"level{level}", "subtable", fields=[inner])
    return inner


def test_sub_tables_nest_at_most_three_levels():
    assert check_definition(form(_nested(3))) == []
    path, en, zh = only(form(_nested(4)))
    assert path == "$.fields[0].fields[0].fields[0].fields[0]" and "at most 3 levels" in en and "最多嵌套 3 层" in zh


def test_formula_cycle_is_named():
    data = form(fld("a", "formula", formula="b + 1"), fld("b", "formula", formula="a * 2"), fld("c", "formula", formula="c"))
    assert [(p, en) for p, en, _ in problems_of(data)] == [
        ("$.fields[0].formula", "Formulas depend on each other in a cycle: a → b → a"),
        ("$.fields[2].formula", "Formulas depend on each other in a cycle: c → c"),
    ]


def test_formula_cycle_across_sub_table_levels():
    data = form(fld("items", "subtable", fields=[fld("share", "formula", formula="1 / total")]),
                fld("total", "formula", formula="SUM(items.share)"))
    path, en, zh = only(data)
    assert path == "$.fields[0].fields[0].formula"
    assert "items.share → total → items.share" in en and "公式循环引用" in zh


@pytest.mark.parametrize("field, path, en", [
    (fld("a", "formula", formula="1 +"), "$.fields[0].formula", "Expression line 1, column"),
    (fld("a", "number", visible={"expr": "missing > 1"}), "$.fields[0].visible.expr", "Unknown field 'missing'"),
    (fld("a", "number", required={"expr": "\"yes\""}), "$.fields[0].required.expr",
     "The expression should give true/false"),
    (fld("a", "number", default={"expr": "\"ten\""}), "$.fields[0].default.expr", "The expression should give number, it gives text"),
    (fld("a", "number", validations=[{"expr": "a >", "message": {"zh-CN": "错", "en": "Wrong"}}]),
     "$.fields[0].validations[0].expr", "Expression line 1"),
])
def test_expressions_parse_and_type_check(field, path, en):
    got_path, got_en, got_zh = only(form(field))
    assert got_path == path and en in got_en and "表达式" in got_zh


def test_row_expressions_use_the_row_scope():
    good = form(fld("limit", "number"), fld("items", "subtable", fields=[
        fld("qty", "number", max={"expr": "limit"}), fld("ok", "formula", formula="qty <= limit")]))
    assert check_definition(good) == []
    bad = form(fld("items", "subtable", fields=[fld("qty", "number")]), fld("x", "formula", formula="qty + 1"))
    path, en, _ = only(bad)
    assert path == "$.fields[1].formula" and "qty" in en


def test_error_position_is_line_and_column():
    path, en, zh = only(form(fld("a", "number"), fld("b", "formula", formula="a +\n  nope")))
    assert "line 2, column 3" in en and "第 2 行第 3 列" in zh


def test_title_template_placeholders_must_be_fields():
    data = form(fld("part_no"), title_template="{part_no} {serial_no} {supplier}")
    assert only(data) == ("$.title_template", "{supplier} in the title template is not a field of this form",
                          "标题模板中的 {supplier} 不是本表单的字段")


def test_all_problems_are_collected_not_only_the_first():
    data = form(fld("status"), fld("a", "number", min=3, max=1), fld("b", "formula", formula="zzz"),
                fld("c", "select", choices=CHOICES, default="X"), title_template="{nope}")
    assert len(check_definition(data)) == 5
