"""Fuzzing check_definition: any JSON gives a list of Problems, never an exception."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.engine.definitions.defbuild import read_fixture
from engine.definitions import check_definition
from engine.errors import Problem
from engine.fields import FIELD_TYPES

SCALARS = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=12)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=25)
NAMES = st.sampled_from(["key", "type", "label", "fields", "formula", "choices", "min", "max", "default", "reference",
                         "field", "form", "pattern", "required", "visible", "validations", "precision", "multiple",
                         "expr", "code", "zh-CN", "en", "format", "forms", "version", "title_template", "numbering"])
PLAUSIBLE = (st.sampled_from(FIELD_TYPES.keys()) | st.sampled_from(["a", "b", "status", "qty", "a__b", "{0000}", "a + b",
                                                                    "SUM(items.qty)", "(", "NCR-{YYYY}-{00}", "supplier"])
             | JSON)
SHAPED = st.recursive(PLAUSIBLE, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=6),
                      max_leaves=40)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_problems(result):
    assert isinstance(result, list) and all(isinstance(p, Problem) for p in result)
    assert all(p.path.startswith("$") and p.message.zh and p.message.en for p in result)
    # the loader's last-resort guards turn a crashing check into a problem; none may fire
    assert not [p for p in result if "Internal check" in p.message.en or "Cannot check" in p.message.en], result


@SETTINGS
@given(data=JSON, kind=st.sampled_from(["form", "app"]))
def test_random_json_never_raises(data, kind):
    assert_problems(check_definition(data, kind=kind))


@SETTINGS
@given(data=SHAPED, kind=st.sampled_from(["form", "app"]))
def test_definition_shaped_json_never_raises(data, kind):
    assert_problems(check_definition(data, kind=kind, known_forms=["supplier"]))


def _field_dicts(fields):
    for field in fields:
        yield field
        yield from _field_dicts(field.get("fields", []))


@SETTINGS
@given(index=st.integers(0, 60), name=NAMES, value=SHAPED)
def test_mutated_fixture_never_raises(index, name, value):
    data = read_fixture("all_field_types.json")
    fields = list(_field_dicts(data["fields"]))
    target = fields[index % len(fields)]
    target[name] = value
    assert_problems(check_definition(data, known_forms={"supplier": read_fixture("supplier.json")}))


@SETTINGS
@given(index=st.integers(0, 60), name=NAMES, value=SHAPED, form_level=st.booleans())
def test_mutated_app_never_raises(index, name, value, form_level):
    forms = [read_fixture("supplier.json"), read_fixture("all_field_types.json")]
    package = {"key": "iqc", "version": "1.0.0", "label": {"zh-CN": "来料检验", "en": "IQC"}, "forms": forms}
    if form_level:
        forms[index % 2][name] = value
    else:
        fields = list(_field_dicts(forms[0]["fields"] + forms[1]["fields"]))
        fields[index % len(fields)][name] = value
    assert_problems(check_definition(package, kind="app"))
