"""Serial counters: gap-free per tenant, scope and period, in the caller's transaction."""
import threading

import pytest

from engine.storage.db import session_scope
from engine.storage.serials import current_serial, next_serial, reserve_serials


def take(engine, tenant, scope="form:ncr", period=""):
    with session_scope(engine) as s:
        return next_serial(s, tenant, scope, period)


def test_numbers_count_up_per_scope_period_and_tenant(db_engine, make_tenant):
    t1, t2 = make_tenant(), make_tenant()
    assert [take(db_engine, t1) for _ in range(3)] == [1, 2, 3]
    assert take(db_engine, t1, period="2026") == 1            # a new period starts again
    assert take(db_engine, t1, scope="form:capa") == 1         # another form has its own counter
    assert take(db_engine, t2) == 1                            # another tenant too
    assert take(db_engine, t1) == 4
    with session_scope(db_engine) as s:
        assert current_serial(s, t1, "form:ncr") == 4 and current_serial(s, t1, "form:none") == 0


def test_a_rolled_back_number_is_handed_out_again(db_engine, make_tenant):
    tenant = make_tenant()
    assert take(db_engine, tenant) == 1
    with pytest.raises(RuntimeError):
        with session_scope(db_engine) as s:
            assert next_serial(s, tenant, "form:ncr") == 2
            raise RuntimeError("the record insert failed")
    assert take(db_engine, tenant) == 2                        # no gap


@pytest.mark.parametrize("period", ["", "new-period"])
def test_concurrent_allocation_is_unique_and_gap_free(db_engine, make_tenant, period):
    tenant, threads, per_thread = make_tenant(), 8, 10
    if period == "":
        take(db_engine, tenant)                                # existing counter row: UPDATE path
    start, results, errors = threading.Barrier(threads), [], []

    def worker():
        try:
            start.wait()
            for _ in range(per_thread):
                results.append(take(db_engine, tenant, period=period))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    first = 2 if period == "" else 1
    assert sorted(results) == list(range(first, first + threads * per_thread))


def test_a_reserved_block_is_consecutive_and_continues_the_counter(db_engine, make_tenant):
    tenant = make_tenant()
    with session_scope(db_engine) as s:
        assert reserve_serials(s, tenant, "form:iqc", "2026", 5) == 1           # a new period: 1..5
        assert reserve_serials(s, tenant, "form:iqc", "2026", 3) == 6           # then 6..8
        assert current_serial(s, tenant, "form:iqc", "2026") == 8
    assert take(db_engine, tenant, "form:iqc", "2026") == 9                   # single numbers go on after it
    with pytest.raises(RuntimeError):
        with session_scope(db_engine) as s:
            reserve_serials(s, tenant, "form:iqc", "2026", 100)
            raise RuntimeError("the bulk insert failed")
    assert take(db_engine, tenant, "form:iqc", "2026") == 10                  # the block was rolled back: no gap
    with session_scope(db_engine) as s, pytest.raises(ValueError):
        reserve_serials(s, tenant, "form:iqc", "2026", 0)
