"""Field-aware cell conversion: record JSON values → cells (export) and cells → input values (import).

Exports show what a person reads (choice labels in the user's language, dates as Excel dates,
lists joined with ", "), imports accept that back as well as the raw codes and ISO strings the
API uses. The values produced for import are plain input: the field types still validate them.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any

from engine.definitions.model import FieldDef
from engine.fields import field_type
from engine.i18n import label_text
from engine.tabular.reading import normalize
from engine.tabular.writing import unescape_text

LIST_SEPARATOR = ", "
_SPLIT = re.compile(r"\s*[,，;；、]\s*")
_LOOSE_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_LOOSE_DATETIME = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_TRUE = {"true", "yes", "y", "1", "是", "对", "√", "✓", "✔", "ok"}
_FALSE = {"false", "no", "n", "0", "否", "不", "×", "✗", "✘"}
FILE_TYPES = frozenset({"attachment", "image", "signature"})
ID_TYPES = frozenset({"user", "department", "reference"})


def importable(field: FieldDef) -> bool:
    """Whether a column of this field is taken from a file (computed and file fields are not)."""
    ftype = field_type(field.type)
    return not (ftype.is_computed or ftype.is_subtable or field.type in FILE_TYPES)


# ---------------------------------------------------------------------------- export

def to_cell(field: FieldDef, value: Any, lang: str, tz: tzinfo | None = None) -> Any:
    """The cell for a record's JSON ``value`` of ``field`` (None stays None)."""
    if value is None:
        return None
    kind = field.type
    if kind in ("lookup",) and field.option("target") is not None:
        return to_cell(field.option("target"), value, lang, tz)
    if kind in ("select", "radio", "multiselect"):
        labels = {c["code"]: label_text(c.get("label"), lang) or c["code"] for c in _choices(field)}
        if isinstance(value, list):
            return LIST_SEPARATOR.join(labels.get(v, str(v)) for v in value)
        return labels.get(value, str(value))
    if kind == "date" and isinstance(value, str):
        return _iso_date(value)
    if kind == "datetime" and isinstance(value, str):
        return _local_naive(value, tz)
    if kind in FILE_TYPES:
        return _file_names(value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value if not isinstance(v, (dict, list)))
    if isinstance(value, dict):
        return None
    return value


def _choices(field: FieldDef) -> list:
    return [c for c in field.option("choices", ()) or () if hasattr(c, "get") and isinstance(c.get("code"), str)]


def _iso_date(text: str) -> Any:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def _local_naive(text: str, tz: tzinfo | None) -> Any:
    """Excel has no time zones: a datetime is shown in ``tz`` (default UTC) without an offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(tz or timezone.utc).replace(tzinfo=None)
    return moment


def _file_names(value: Any) -> str | None:
    items = value if isinstance(value, list) else [value]
    names = [str(i.get("name") or i.get("signer") or "") for i in items if isinstance(i, dict)]
    return LIST_SEPARATOR.join(n for n in names if n) or None


# ---------------------------------------------------------------------------- import

def from_cell(field: FieldDef, value: Any, tz: tzinfo | None = None) -> Any:
    """The input value for ``field`` from a cell (str/int/float/bool/date/datetime/None)."""
    if isinstance(value, str):
        value = unescape_text(value.strip())
        if value == "":
            return None
    if value is None:
        return None
    convert = _IMPORTERS.get(field.type)
    return convert(field, value, tz) if convert else _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _number(field, value, tz):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else _plain(value)


def _date(field, value, tz):
    if isinstance(value, datetime) and value.time() == time(0) and value.tzinfo is None:
        return value.date()
    if isinstance(value, str):
        m = _LOOSE_DATE.match(value)
        if m:
            return "{}-{:0>2}-{:0>2}".format(*m.groups())
    return value


def _datetime(field, value, tz):
    zone = tz or timezone.utc
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), zone)
    if isinstance(value, str):
        m = _LOOSE_DATETIME.match(value)
        if m:
            y, mo, d, h, mi, s = (int(g or 0) for g in m.groups())
            try:
                return datetime(y, mo, d, h, mi, s, tzinfo=zone)
            except ValueError:
                return value
    return value


def _boolean(field, value, tz):
    if isinstance(value, bool):
        return value
    word = str(_plain(value)).strip().casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return value


def _choice_code(field: FieldDef, text: str) -> str:
    """A code from a code or a zh-CN / en label (case- and space-insensitive); else unchanged."""
    choices = _choices(field)
    if any(c["code"] == text for c in choices):
        return text
    wanted = normalize(text)
    for c in choices:
        label = c.get("label") or {}
        names = [c["code"], *(label.values() if hasattr(label, "values") else [label])]
        if any(normalize(str(n)) == wanted for n in names):
            return c["code"]
    return text


def _choice(field, value, tz):
    return _choice_code(field, str(_plain(value)))


def _multichoice(field, value, tz):
    text = str(_plain(value))
    whole = _choice_code(field, text)
    if whole != text or any(c["code"] == text for c in _choices(field)):
        return [whole]
    return [_choice_code(field, part) for part in _SPLIT.split(text) if part]


def _ids(field, value, tz):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] if field.option("multiple", False) else value
    text = str(_plain(value))
    if field.option("multiple", False):
        return [_id(part) for part in _SPLIT.split(text) if part]
    return _id(text)


def _id(text: str) -> Any:
    return int(text) if text.isdigit() else text


_IMPORTERS = {
    "number": _number, "date": _date, "datetime": _datetime, "boolean": _boolean,
    "select": _choice, "radio": _choice, "multiselect": _multichoice,
    "user": _ids, "department": _ids, "reference": _ids,
}
