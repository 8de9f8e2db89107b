"""Random JSON payloads never raise anything but RecordValidationError."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from engine.errors import RecordValidationError
from engine.forms import validate_record

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["", "2026-03-15", "2026-02-30", "OK", "NG",
                                                           "2026-03-15T08:00:00+08:00", "1e400", "12.5"]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=20)

KEYS = ["lot_no", "lot_size", "characteristics", "verdict", "ng_items", "other"]
ROW_KEYS = ["id", "name", "lsl", "usl", "readings", "mean", "zzz"]
READING_KEYS = ["id", "value", "ok"]


def _row(keys, inner=JSON):
    return st.dictionaries(st.sampled_from(keys), inner, max_size=len(keys))


READINGS = st.one_of(JSON, st.lists(st.one_of(_row(READING_KEYS), JSON), max_size=4))
CHAR_ROW = st.dictionaries(st.sampled_from(ROW_KEYS), st.one_of(JSON, READINGS), max_size=6)
PAYLOAD = st.one_of(
    JSON,
    st.dictionaries(st.sampled_from(KEYS), st.one_of(JSON, st.lists(st.one_of(CHAR_ROW, JSON), max_size=4)),
                    max_size=6),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=PAYLOAD, partial=st.booleans(), with_old=st.booleans())
def test_random_payloads_only_raise_record_validation_errors(iqc_form, ctx, data, partial, with_old):
    old = {"lot_no": "AB-0001", "lot_size": 5, "characteristics": [
        {"id": 1, "name": "D", "lsl": 1, "usl": 2, "readings": [{"id": 2, "value": 1.5}]}]} if with_old else None
    try:
        clean = validate_record(iqc_form, data, ctx=ctx, old=old, partial=partial)
    except RecordValidationError as exc:
        assert exc.errors and all(isinstance(p.field, str) for p in exc.errors)
    else:
        assert set(clean) == {"lot_no", "lot_size", "characteristics", "verdict", "ng_items"}


def _payload_for(fields, depth=0):
    """Random objects over a form's own keys (plus one stranger), recursing into sub-tables."""
    values = {}
    for f in fields:
        if f.get("fields") and depth < 2:
            values[f["key"]] = st.one_of(JSON, st.lists(st.one_of(_payload_for(f["fields"], depth + 1), JSON),
                                                       max_size=3))
        else:
            values[f["key"]] = JSON
    values["stranger"] = JSON
    if depth:
        values["id"] = st.one_of(st.integers(-2, 3), JSON)
    return st.fixed_dictionaries({}, optional=values)


def _fixture_form():
    import json
    from pathlib import Path
    from engine.definitions import load_form
    folder = Path(__file__).resolve().parents[2] / "fixtures" / "definitions"
    raw = json.loads((folder / "all_field_types.json").read_text(encoding="utf-8"))
    supplier = load_form(json.loads((folder / "supplier.json").read_text(encoding="utf-8")))
    return raw, load_form(raw, known_forms={"supplier": supplier})


RAW, FIXTURE_FORM = _fixture_form()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_payload_for(RAW["fields"]), partial=st.booleans())
def test_random_payloads_on_every_field_type(ctx, data, partial):
    old = {"supplier": 3, "characteristics": [{"id": 1, "name": "D", "readings": [{"id": 2, "value": 1}]}]}
    try:
        clean = validate_record(FIXTURE_FORM, data, ctx=ctx, old=old if partial else None, partial=partial,
                                lookups=lambda key, record_id: {"name": "Acme"} if record_id == 3 else None)
    except RecordValidationError as exc:
        assert exc.errors
    else:
        assert set(clean) == {f["key"] for f in RAW["fields"]}
