"""Form layout sections: schema shape, semantic checks with paths, and the sections() helper."""
from __future__ import annotations

import copy

from engine.definitions import check_definition, load_form
from engine.forms.fieldviews import Pickers, section_views
from engine.forms.layout import Section, sections

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
BASE = {"format": 1, "key": "visit", "label": L("巡检", "Visit"), "fields": [
    {"key": "a", "type": "text", "label": L("甲", "A")},
    {"key": "b", "type": "number", "label": L("乙", "B")},
    {"key": "c", "type": "date", "label": L("丙", "C")},
    {"key": "rows", "type": "subtable", "label": L("行", "Rows"), "fields": [
        {"key": "x", "type": "text", "label": L("X", "X")}]},
]}


def with_sections(*items) -> dict:
    d = copy.deepcopy(BASE)
    d["layout"] = {"sections": list(items)}
    return d


def section(key: str, fields: list, **more) -> dict:
    return {"key": key, "label": L(key.upper(), key.upper()), "fields": fields, **more}


def problems(d: dict) -> list[tuple[str, str]]:
    return [(p.path, p.message.en) for p in check_definition(d)]


def test_a_valid_layout_loads_and_columns_are_one_to_three():
    form = load_form(with_sections(section("one", ["b", "a"], columns=3, collapsed=True), section("two", ["rows"])))
    assert form.layout["sections"][0]["columns"] == 3
    bad = with_sections(section("one", ["a"], columns=4))
    assert [p for p, _ in problems(bad)] == ["$.layout.sections[0].columns"]
    extra = copy.deepcopy(BASE)
    extra["layout"] = {"grid": 2}
    assert problems(extra)[0][0] == "$.layout.grid"
    nolabel = with_sections({"key": "one", "fields": ["a"]})
    assert problems(nolabel) == [("$.layout.sections[0].label", "'label' is required")]


def test_unknown_field_field_in_two_sections_and_duplicate_key_are_problems_with_paths():
    d = with_sections(section("one", ["a", "b", "nope"]), section("one", ["b", "x", "c"]))
    assert problems(d) == [
        ("$.layout.sections[0].fields[2]", "Field 'nope' in the section is not a top-level field of the form"),
        ("$.layout.sections[1].fields[0]", "Field 'b' is already in section 1; a field belongs to one section only"),
        ("$.layout.sections[1].fields[1]", "Field 'x' in the section is not a top-level field of the form"),
        ("$.layout.sections[1].key", "The section key 'one' is used twice (also section 1)"),
    ]
    zh = [p.message.zh for p in check_definition(d)]
    assert "字段“nope”不是表单的顶层字段" in zh[0].replace("分组中的", "")


def test_sections_follow_the_layout_then_one_unnamed_section_of_the_rest():
    form = load_form(with_sections(section("one", ["c", "a"], columns=1), section("two", [], collapsed=True)))
    got = sections(form)
    assert [(s.key, s.columns, s.collapsed, [f.key for f in s.fields]) for s in got] == [
        ("one", 1, False, ["c", "a"]), ("two", 2, True, []), (None, 2, False, ["b", "rows"])]
    assert got[0].label.en == "ONE" and got[2].label is None
    hidden = sections(form, [f for f in form.fields if f.key != "a"])          # a role hides "a"
    assert [f.key for f in hidden[0].fields] == ["c"]


def test_no_layout_is_one_unnamed_section_and_all_placed_means_no_trailing_one():
    plain = sections(load_form(copy.deepcopy(BASE)))
    assert plain == [Section(None, None, 2, list(load_form(copy.deepcopy(BASE)).fields))]
    full = sections(load_form(with_sections(section("all", ["a", "b", "c", "rows"]))))
    assert [s.key for s in full] == ["all"]


def test_section_views_are_what_the_form_page_draws():
    form = load_form(with_sections(section("one", ["b"], columns=3)))
    views = section_views(form, "en", Pickers(), hidden_keys=frozenset({"c"}))
    assert [(v["key"], v["label"], v["columns"], [f["key"] for f in v["fields"]]) for v in views] == [
        ("one", "ONE", 3, ["b"]), (None, None, 2, ["a", "rows"])]
