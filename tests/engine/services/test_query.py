"""Querying records: expression filters translated to SQL, sorting, paging, totals."""
import time

import pytest
from sqlalchemy import inspect

from engine.errors import ExpressionError
from engine.services.records import QueryError
from tests.engine.services.support import IQC_KEY, create, lot, publish_iqc, query

ROWS = [  # lot_no, lot_size, first_article, inspection_date, received_at
    ("LOT-001", 100, True, "2026-04-01", "2026-03-30T08:00:00+00:00"),
    ("LOT-002", 500, False, "2026-04-10", None),
    ("LOT-003", 800, True, "2026-04-17", "2026-04-16T23:00:00+00:00"),
    ("ABC-004", 1200, False, "2026-04-20", None),
    ("ABC-005", 50, True, "2026-04-18", "2026-04-18T10:00:00+00:00"),
]


@pytest.fixture
def lots(db_engine, actor):
    supplier = publish_iqc(db_engine, actor)
    for lot_no, size, first, day, received in ROWS:
        create(db_engine, actor, IQC_KEY, lot(supplier.id, lot_no=lot_no, lot_size=size, sample_size=10,
                                              first_article=first, inspection_date=day, received_at=received))
    return lambda **kw: query(db_engine, actor, IQC_KEY, **kw)


def lot_nos(page):
    return sorted(r.data["lot_no"] for r in page.items)


FILTERS = [
    ("lot_size > 300", ["ABC-004", "LOT-002", "LOT-003"]),
    ("lot_size >= 100 AND first_article", ["LOT-001", "LOT-003"]),
    ('OR(lot_no = "lot-003", lot_size < 80)', ["ABC-005", "LOT-003"]),        # text compares case-insensitively
    ('CONTAINS(lot_no, "abc")', ["ABC-004", "ABC-005"]),                     # ignoring case, as in formulas
    ('NOT CONTAINS(lot_no, "LOT") && lot_size * 2 > 1000', ["ABC-004"]),
    ("ISBLANK(received_at)", ["ABC-004", "LOT-002"]),
    ("received_at < DATE(2026, 4, 1)", ["ABC-004", "LOT-001", "LOT-002"]),      # a blank date sorts first
    ("inspection_date >= DATE(2026, 4, 17) AND inspection_date <= TODAY()", ["LOT-003"]),
    ("inspection_date > TODAY()", ["ABC-004", "ABC-005"]),
    ("created_at <= NOW() AND version = 1", ["ABC-004", "ABC-005", "LOT-001", "LOT-002", "LOT-003"]),
    ('lot_no & "/" & part_no = "LOT-002/P-100"', ["LOT-002"]),
    ("lot_size / 0 > 1", []),                                                   # no SQL error
    ('serial_no = "IQC-2026-0002"', ["LOT-002"]),
    ("-lot_size < -1000 OR lot_size = 50%*100", ["ABC-004", "ABC-005"]),
    ('lot_no = "x\'; DROP TABLE tenants; --"', []),                            # only ever a bound parameter
]


def test_filters(lots, db_engine):
    wrong = {}
    for expression, expected in FILTERS:     # one data set for all cases (setting it up is the slow part)
        page = lots(filter=expression)
        if lot_nos(page) != expected or page.total != len(expected):
            wrong[expression] = (lot_nos(page), page.total)
    assert wrong == {}
    assert "tenants" in inspect(db_engine).get_table_names()


REFUSED = [  # expression, words in the message, column of the error
    ("COUNT(characteristics.mean) > 1", "cannot be used in a filter", 1),
    ("lot_size > 1 AND\n LEN(lot_no) > 3", "cannot be used in a filter", (2, 2)),
    ("defect_types = 1", "Cannot compare", None),
    ("lot_sise > 1", "lot_sise", 1),
    ("lot_size +", None, None),
    ("lot_size + 1", "true or false", None),
]


def test_filters_that_cannot_run_say_why_and_where(lots):
    for expression, words, where in REFUSED:
        with pytest.raises(ExpressionError) as err:
            lots(filter=expression)
        if words:
            assert words in err.value.message.en, expression
        if words == "cannot be used in a filter":
            assert "筛选" in err.value.message.zh
        if where:
            line, column = where if isinstance(where, tuple) else (1, where)
            assert (err.value.line, err.value.column) == (line, column), expression


def test_sort_and_paging(lots):
    assert [r.data["lot_size"] for r in lots(sort="lot_size").items] == [50, 100, 500, 800, 1200]
    assert [r.data["lot_no"] for r in lots(sort="-lot_no").items][:2] == ["LOT-003", "LOT-002"]
    assert [r.data["lot_no"] for r in lots(sort="-received_at").items][-2:] in (
        ["LOT-002", "ABC-004"], ["ABC-004", "LOT-002"])                         # blanks last
    pages = [lots(sort="lot_size", page=p, per_page=2) for p in (1, 2, 3)]
    assert [[r.data["lot_size"] for r in p.items] for p in pages] == [[50, 100], [500, 800], [1200]]
    assert {p.total for p in pages} == {5}
    assert lots(page=9, per_page=2).items == []
    bounded = lots(page=0, per_page=10**6)
    assert (bounded.page, bounded.per_page, len(bounded.items)) == (1, 500, 5)


def test_unknown_sort_keys_are_refused(lots):
    for sort in ("nope", "-defect_types", "characteristics", "tenant_id", "lot_no; DROP"):
        with pytest.raises(QueryError) as err:
            lots(sort=sort)
        assert "sort" in err.value.message.en and "排序" in err.value.message.zh


def test_choice_equality_matches_like_the_general_rule_and_uses_the_bare_column(db_engine, actor):
    """`inspection_level = "ii"` finds the "II" records (case-insensitive, as in formulas) through
    `col IN (codes)`, so the column's index can answer it; `!=` keeps blanks."""
    from datetime import datetime, timezone
    from engine.definitions import form_scope
    from engine.services import forms as form_service
    from engine.storage import filters
    from engine.storage.db import session_scope
    from engine.storage.form_store import load_published
    from sqlalchemy import MetaData, Table

    supplier = publish_iqc(db_engine, actor)
    for lot_no, level in (("LOT-101", "I"), ("LOT-102", "II"), ("LOT-103", "II"), ("LOT-104", "III")):
        create(db_engine, actor, IQC_KEY, lot(supplier.id, lot_no=lot_no, inspection_level=level))
    run = lambda expr: sorted(r.data["lot_no"] for r in query(db_engine, actor, IQC_KEY, filter=expr).items)
    assert run('inspection_level = "ii"') == ["LOT-102", "LOT-103"]
    assert run('"II" = inspection_level') == ["LOT-102", "LOT-103"]
    assert run('inspection_level != "II"') == ["LOT-101", "LOT-104"]
    assert run('inspection_level = "IV"') == []
    with session_scope(db_engine) as s:
        form = form_service.get_form(s, actor.tenant_id, IQC_KEY)
        table = Table(load_published(s, actor.tenant_id, IQC_KEY).spec.name, MetaData(), autoload_with=s.connection())
    clause = filters.compile_filter('inspection_level = "ii"', table, form_scope(form), db_engine.dialect.name,
                                    datetime.now(timezone.utc), choices={"inspection_level": ("I", "II", "III")})
    sql = str(clause.compile(dialect=db_engine.dialect))
    assert "lower" not in sql and "coalesce" not in sql and " IN " in sql


SLOW = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50000000) "
        "SELECT count(*) FROM n")


def test_a_count_over_its_budget_is_stopped_and_the_session_stays_usable(db_engine):
    from sqlalchemy import text
    from engine.storage.db import session_scope
    from engine.storage.records import _within
    with session_scope(db_engine) as s:
        started = time.perf_counter()
        assert _within(s, text(SLOW), 20) is None
        assert time.perf_counter() - started < 2                      # stopped, not run to the end
        assert _within(s, text("SELECT 41 + 1"), 1000) == 42           # the same transaction goes on
        assert s.execute(text("SELECT 7")).scalar() == 7


def test_a_page_with_a_count_budget_knows_its_total_when_it_is_cheap(lots):
    page = lots(per_page=2, count_budget_ms=500)
    assert page.total == 5 and page.has_next
    last = lots(per_page=2, page=3, count_budget_ms=500)           # a short last page: no count needed
    assert (last.total, last.has_next) == (5, False)


def test_a_page_whose_count_ran_out_of_budget_still_pages_forward(lots, monkeypatch):
    from engine.storage import records
    monkeypatch.setattr(records, "_within", lambda *_a: None)
    page = lots(per_page=2, count_budget_ms=1)
    assert page.total is None and page.has_next and len(page.items) == 2
    assert lots(per_page=2, count_budget_ms=None).total == 5       # no budget: always exact


def test_a_date_range_on_a_field_required_non_blank_is_a_plain_index_range(lots):
    from datetime import datetime, timezone
    from sqlalchemy import Column, Date, MetaData, Table
    from engine.expressions.types import DATE, Scope
    from engine.storage.filters import compile_filter
    table = Table("t", MetaData(), Column("tenant_id"), Column("d", Date))
    where = compile_filter("NOT(ISBLANK(d)) AND d >= DATE(2021, 1, 1) AND d <= DATE(2021, 12, 31)", table,
                           Scope.of({"d": DATE}), "sqlite", datetime.now(timezone.utc))
    sql = str(where.compile(compile_kwargs={"literal_binds": True}))
    assert sql == "t.d IS NOT NULL AND t.d >= '2021-01-01' AND t.d <= '2021-12-31'"
    # without the non-blank condition a blank date still counts as earlier than any date
    alone = compile_filter("d <= DATE(2021, 12, 31)", table, Scope.of({"d": DATE}), "sqlite", datetime.now(timezone.utc))
    assert "IS NULL" in str(alone.compile(compile_kwargs={"literal_binds": True}))
    # and the same range through the service returns the same rows as before
    page = lots(filter="NOT(ISBLANK(inspection_date)) AND inspection_date >= DATE(2026, 4, 10) "
                       "AND inspection_date <= DATE(2026, 4, 18)")
    assert lot_nos(page) == ["ABC-005", "LOT-002", "LOT-003"]
