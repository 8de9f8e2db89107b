"""A small IQC-like scope and data shared by the expression tests."""
from datetime import date, datetime, timedelta, timezone

from engine.expressions import EvalContext
from engine.expressions.types import BOOLEAN, DATE, DATETIME, NUMBER, TEXT, Scope, id_of, list_of

READINGS = Scope.of({"value": NUMBER})
ITEMS = Scope.of({"qty": NUMBER, "result": TEXT, "measured": NUMBER, "readings": READINGS})
SCOPE = Scope.of({
    "lot_size": NUMBER, "defect_qty": NUMBER, "measured": NUMBER, "usl": NUMBER, "lsl": NUMBER,
    "sample_size": NUMBER, "supplier": TEXT, "remark": TEXT, "passed": BOOLEAN,
    "inspect_date": DATE, "due_date": DATE, "created_at": DATETIME, "inspector": id_of("user"),
    "tags": list_of(TEXT), "items": ITEMS,
})
ROW_SCOPE = Scope.of({"qty": NUMBER, "result": TEXT, "measured": NUMBER, "readings": READINGS}, parent=SCOPE)

TZ = timezone(timedelta(hours=8))
NOW = datetime(2024, 6, 15, 1, 30, tzinfo=timezone.utc)   # 09:30 in UTC+8
CTX = EvalContext(user_id=42, now=NOW, tz=TZ)


def data(**overrides):
    """A complete record; keyword arguments replace fields."""
    record = {
        "lot_size": 800, "defect_qty": 1, "measured": 10.02, "usl": 10.05, "lsl": 9.95,
        "sample_size": 125, "supplier": "SUP-01", "remark": None, "passed": True,
        "inspect_date": date(2024, 6, 12), "due_date": date(2024, 6, 14),
        "created_at": datetime(2024, 6, 10, 8, 0, tzinfo=timezone.utc), "inspector": 42,
        "tags": ["A", "B"],
        "items": [
            {"qty": 2, "result": "OK", "measured": 10.0, "readings": [{"value": 1}, {"value": 2}]},
            {"qty": None, "result": "ng", "measured": 10.1, "readings": [{"value": 3}]},
            {"qty": 3, "result": "OK", "measured": None, "readings": []},
        ],
    }
    record.update(overrides)
    return record
