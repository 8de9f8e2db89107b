"""The shipped fixtures: a form with every field type loads cleanly; ten mistakes give ten problems."""
from __future__ import annotations

import pytest

from tests.engine.definitions.defbuild import read_fixture
from engine.definitions import check_definition, form_scope, load_form, row_scope
from engine.expressions import compile_expression
from engine.expressions.types import BOOLEAN, NUMBER, TEXT, Scope
from engine.fields import FIELD_TYPES, field_type
from engine.fields.base import Column, StorageKind


@pytest.fixture
def supplier(supplier_def):
    return load_form(supplier_def)


@pytest.fixture
def iqc(iqc_def, supplier):
    return load_form(iqc_def, known_forms={"supplier": supplier})


def _all_types(fields):
    for f in fields:
        yield f.type
        yield from _all_types(f.fields)


def test_all_field_types_fixture_has_no_problems(iqc_def, supplier):
    assert check_definition(iqc_def, known_forms={"supplier": supplier}) == []


def test_all_field_types_fixture_uses_every_registered_type(iqc):
    assert set(_all_types(iqc.fields)) == set(FIELD_TYPES.keys())


def test_subtables_nest_two_levels_with_formulas_at_each_level(iqc):
    characteristics = iqc.field("characteristics")
    readings = characteristics.field("readings")
    assert readings.field("value").type == "number"
    assert characteristics.field("mean").option("result_type") == NUMBER
    assert characteristics.field("result").option("result_type") == TEXT
    assert readings.field("out_of_spec").option("result_type") == BOOLEAN
    assert iqc.field("ng_count").option("result_type") == NUMBER
    assert iqc.field("lot_result").option("result_type") == TEXT


def test_scopes_see_outward_and_into_sub_tables(iqc):
    top = form_scope(iqc)
    assert isinstance(top.lookup("characteristics"), Scope)
    readings = row_scope(iqc, ("characteristics", "readings"))
    assert readings.lookup("value") == NUMBER and readings.lookup("usl") == NUMBER   # the enclosing row
    assert readings.lookup("lot_size") == NUMBER                                       # the form
    assert ("lot_no", "批号", "Lot number") in top.labels
    assert compile_expression("COUNTIF(characteristics.result, \"NG\")", top).type == NUMBER


def test_formulas_evaluate_at_every_level(iqc):
    row = {"nominal": 10, "lsl": 9.9, "usl": 10.1, "readings": [{"value": 10.0}, {"value": 10.3}]}
    mean = compile_expression("AVERAGE(readings.value)", row_scope(iqc, "characteristics")).evaluate(row)
    assert mean == pytest.approx(10.15)


def test_lookup_is_typed_and_stored_like_its_target(iqc):
    grade = iqc.field("supplier_grade")
    assert grade.option("target").key == "grade"
    assert form_scope(iqc).lookup("supplier_grade") == TEXT
    assert field_type("lookup").storage(grade) == Column(StorageKind.TEXT, length=64)
    assert field_type("lookup").coerce(grade, "A") == "A"


def test_every_stored_field_has_a_column(iqc):
    for f in iqc.fields:
        column = field_type(f.type).storage(f)
        assert (column is None) == (f.type == "subtable"), f.key


TEN = [
    ("$.forms[0].fields[0].key", "A key must start with a lowercase letter", "键须以小写字母开头"),
    ("$.forms[0].fields[1].key", "'status' is a system column name", "“status”是系统字段名"),
    ("$.forms[0].fields[2].type", "Unknown field type", "未知的字段类型"),
    ("$.forms[0].fields[3].label.en", "The English text must not be empty", "英文文本不能为空"),
    ("$.forms[0].fields[4].default", "'MAYBE' is not an option code", "“MAYBE”不是该字段的选项编码"),
    ("$.forms[0].fields[5].min", "min (10) is greater than max (5)", "最小值（10）大于最大值（5）"),
    ("$.forms[0].fields[6].formula", "line 1, column 11: Unknown field 'lot_sise'", "第 1 行第 11 列：未知字段 'lot_sise'"),
    ("$.forms[0].fields[7].form", "The referenced form 'vendor' does not exist", "关联的表单“vendor”不存在"),
    ("$.forms[1].key", "The form key 'iqc_lot' is used twice", "表单键“iqc_lot”重复"),
    ("$.version", "semantic version such as 1.0.0", "语义化版本"),
]


def test_ten_mistakes_give_exactly_ten_problems_in_both_languages():
    problems = check_definition(read_fixture("ten_mistakes.json"), kind="app")
    assert [p.path for p in problems] == [path for path, _, _ in TEN]
    for problem, (path, en, zh) in zip(problems, TEN):
        assert en in problem.message.en, path
        assert zh in problem.message.zh, path
