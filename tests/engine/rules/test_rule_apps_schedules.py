"""Rules shipped in app packages, schedules, and the once-per-batch option of imports."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from engine.jobs import tasks
from engine.rules.schedule import next_run
from engine.services import apps, imports, rule_defs
from engine.storage.rule_tables import rule_definitions
from tests.engine.rules.support import IQC_FORM, LOT_FORM, NCR_FORM, NG_OPENS_NCR

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731



def test_an_app_package_brings_its_rules_and_exports_them_back(world):
    package = {"format": 1, "key": "iqc_app", "version": "1.0.0", "label": L("来料", "IQC"),
               "forms": [copy.deepcopy(f) for f in (LOT_FORM, IQC_FORM, NCR_FORM)], "rules": [copy.deepcopy(NG_OPENS_NCR)]}
    with world.session() as s:
        result = apps.import_app(s, world.admin, package)
    assert ("rule:ng_opens_ncr", 1) in result.published
    with world.session() as s:
        rule_defs.set_enabled(s, world.admin, "ng_opens_ncr", False)
    with world.session() as s:      # re-import of a changed rule: new version, the tenant's "off" kept
        package["rules"][0]["condition"] = 'result = "NG" AND qty > 0'
        apps.import_app(s, world.admin, package)
    with world.session() as s:
        got = rule_defs.get_rule(s, world.admin, "ng_opens_ncr")
        exported = apps.export_app(s, world.admin.tenant_id, "iqc_app")
    assert got["version"] == 2 and got["enabled"] is False
    assert [r["key"] for r in exported["rules"]] == ["ng_opens_ncr"]


def test_a_broken_rule_in_a_package_names_its_place(world):
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule["actions"][0]["form"] = "nope"
    package = {"format": 1, "key": "iqc_app", "version": "1.0.0", "label": L("来料", "IQC"),
               "forms": [copy.deepcopy(f) for f in (LOT_FORM, IQC_FORM, NCR_FORM)], "rules": [rule]}
    import pytest
    from engine.errors import DefinitionError
    with pytest.raises(DefinitionError) as err, world.session() as s:
        apps.import_app(s, world.admin, package)
    assert [p.path for p in err.value.problems] == ["$.rules[0].actions[0].form"]


DAILY = {"format": 1, "key": "daily_check", "label": L("每日检查", "Daily check"),
         "trigger": {"type": "schedule", "cron": "0 8 * * *", "timezone": "Asia/Shanghai"},
         "actions": [{"type": "create_record", "form": "lot", "values": {"lot_no": '"daily"'}}]}


def test_a_schedule_fires_once_per_due_time_in_its_time_zone(world):
    world.publish(DAILY)
    with world.session() as s:
        first = s.execute(select(rule_definitions.c.next_run_at)).scalar_one()
    first = first.replace(tzinfo=timezone.utc) if first.tzinfo is None else first
    assert first.astimezone(timezone(timedelta(hours=8))).hour == 8
    assert tasks.run_schedules(world.url, first - timedelta(seconds=1)) == 0
    assert tasks.run_schedules(world.url, first + timedelta(seconds=5)) == 1
    assert tasks.run_schedules(world.url, first + timedelta(seconds=6)) == 0        # already moved on
    world.run_jobs()
    assert [r.data["lot_no"] for r in world.records("lot")] == ["daily"], world.runs()
    with world.session() as s:
        after = s.execute(select(rule_definitions.c.next_run_at)).scalar_one()
    after = after.replace(tzinfo=timezone.utc) if after.tzinfo is None else after
    assert after - first == timedelta(days=1)


def test_cron_times_follow_the_zone():
    at = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)          # 07:30 on the 2nd in Shanghai
    assert next_run("0 8 * * *", at, "Asia/Shanghai") == datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)


def test_an_import_fires_per_row_and_once_per_file_for_rules_that_ask(world):
    each = copy.deepcopy(NG_OPENS_NCR)
    each["actions"] = [each["actions"][0]]
    once = {"format": 1, "key": "import_summary", "label": L("导入汇总", "Import summary"), "form": "iqc",
            "trigger": {"type": "record_created"}, "batch": "once",
            "actions": [{"type": "create_record", "form": "lot", "values": {"lot_no": '"batch"'}}]}
    world.publish(each)
    world.publish(once)
    csv = "批号,数量,结果\nA1,5,NG\nA2,5,OK\nA3,7,NG\n".encode("utf-8")
    with world.session() as s:
        report = imports.import_records(s, world.admin, "iqc", csv, "lots.csv")
    assert report.created == 3
    runs = world.runs()
    assert sorted(r["rule_key"] for r in runs) == ["import_summary", "ng_opens_ncr", "ng_opens_ncr"]
    summary = next(r for r in runs if r["rule_key"] == "import_summary")
    assert summary["event"]["batch"]["count"] == 3 and summary["event"]["batch"]["source"] == "import"
    world.run_jobs()
    assert len(world.records("ncr")) == 2 and [r.data["lot_no"] for r in world.records("lot")] == ["batch"]


def test_a_lost_job_is_found_again_by_the_sweep(world):
    world.publish(NG_OPENS_NCR)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.backend.calls.clear()                      # Redis lost the job
    assert tasks.dispatch(world.url) == 0          # a new row is left to its own job for a while
    from engine.storage.rule_tables import rule_outbox
    with world.session() as s:
        s.execute(update(rule_outbox).values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert tasks.dispatch(world.url) == 1          # then the sweep enqueues it again
    world.backend.calls.clear()                      # lost again, while marked queued
    with world.session() as s:
        s.execute(update(rule_outbox).values(next_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    assert tasks.dispatch(world.url) == 1
    world.run_jobs()
    assert world.runs()[0]["status"] == "done"
