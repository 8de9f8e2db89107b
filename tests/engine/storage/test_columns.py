"""Column specs: StorageKind → SQL types and the safe widening rules."""
import pytest
from sqlalchemy import BigInteger, Numeric, String, Text

from engine.fields.base import Column, StorageKind
from engine.storage.columns import ColumnSpec, reflected_spec, sa_type, same_type, widen

T, I, D = StorageKind.TEXT, StorageKind.INTEGER, StorageKind.DECIMAL


def spec(kind, **kw):
    return ColumnSpec("x", kind, **kw)


@pytest.mark.parametrize("old, new, expected", [
    (spec(T, length=40), spec(T, length=80), spec(T, length=80)),
    (spec(T, length=80), spec(T, length=40), spec(T, length=80)),       # narrower definition keeps the column
    (spec(T, length=80), spec(T), spec(T)),
    (spec(T), spec(T, length=10), spec(T)),
    (spec(I), spec(D, precision=20, scale=2), spec(D, precision=21, scale=2)),  # keeps 19 integer digits
    (spec(D, precision=10, scale=2), spec(D, precision=12, scale=4), spec(D, precision=12, scale=4)),
    (spec(D, precision=20, scale=2), spec(D, precision=12, scale=4), spec(D, precision=22, scale=4)),
    (spec(D, precision=10, scale=2), spec(I), spec(D, precision=21, scale=2)),
    (spec(I), spec(I), spec(I)),
])
def test_safe_widening(old, new, expected):
    assert same_type(widen(old, new), expected)


@pytest.mark.parametrize("old, new", [
    (spec(T, length=40), spec(I)), (spec(I), spec(T)), (spec(StorageKind.DATE), spec(StorageKind.DATETIME)),
    (spec(StorageKind.BOOLEAN), spec(I)), (spec(T), spec(StorageKind.JSON)),
])
def test_unsafe_changes_have_no_widening(old, new):
    assert widen(old, new) is None


def test_sql_types_and_reflection_round_trip():
    assert isinstance(sa_type(spec(T, length=40)), String) and sa_type(spec(T, length=40)).length == 40
    assert isinstance(sa_type(spec(T)), Text)
    assert isinstance(sa_type(spec(I)), BigInteger)
    dec = sa_type(spec(D, precision=18, scale=4))
    assert isinstance(dec, Numeric) and (dec.precision, dec.scale, dec.asdecimal) == (18, 4, False)
    for s in (spec(T, length=40), spec(T), spec(I), spec(D, precision=18, scale=4), spec(StorageKind.BOOLEAN),
              spec(StorageKind.DATE), spec(StorageKind.DATETIME)):
        assert same_type(reflected_spec("x", sa_type(s)), s)


def test_of_field_defaults_and_json_round_trip():
    dec = ColumnSpec.of_field("m", Column(D, scale=3))
    assert (dec.precision, dec.scale) == (22, 3)
    text = ColumnSpec.of_field("t", Column(T, length=255), indexed=True)
    assert ColumnSpec.from_json(text.to_json()) == text
    assert text.describe() == "text(255)" and dec.describe() == "decimal(22,3)"
