"""Rules end to end on the database: events → outbox (same transaction) → job → actions, once."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import update

from engine.errors import DefinitionError
from engine.services import rule_runs
from engine.storage.rule_tables import rule_outbox
from tests.engine.rules.support import NG_OPENS_NCR


def test_a_failing_lot_creates_the_ncr_with_rows_and_freezes_the_lot(world):
    world.publish(NG_OPENS_NCR)
    lot = world.create("lot", "admin", lot_no="L-7")
    other = world.create("lot", "admin", lot_no="L-8")
    iqc = world.create("iqc", lot_no="L-7", qty=500, result="NG", defects=[{"code": "D1", "n": 3}, {"code": "D2", "n": 0}])
    assert [r["status"] for r in world.runs()] == ["pending"]         # written with the inspection
    assert world.run_jobs() == 1
    (run,) = world.runs()
    assert run["status"] == "done" and run["error"] is None
    (ncr,) = world.records("ncr")
    assert ncr.data["lot_no"] == "L-7" and ncr.data["qty"] == 500
    assert ncr.data["source"] == "IQC " + world.get("iqc", iqc).serial_no == "IQC IQC-0001"
    assert [(r["code"], r["n"]) for r in ncr.data["items"]] == [("D1", 3)]
    assert ncr.created_by == world["ivan"].user_id                   # on behalf of who fired it
    assert world.get("lot", lot).status == "frozen" and world.get("lot", other).status == "active"
    assert [a["action_type"] for a in world.action_runs(run["id"])] == ["create_record", "set_status"]


def test_a_passing_lot_writes_no_run(world):
    world.publish(NG_OPENS_NCR)
    world.create("iqc", lot_no="L-1", qty=5, result="OK")
    assert world.runs() == []


def test_the_same_outbox_row_processed_twice_acts_once(world):
    world.publish(NG_OPENS_NCR)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    (target, args), = world.backend.calls
    world.backend.calls.append((target, args))             # a duplicate job (e.g. re-enqueued by the sweep)
    world.run_jobs()
    assert len(world.records("ncr")) == 1
    run = world.runs()[0]
    with world.session() as s:      # even a row forced back to pending (a crash after the action) acts once
        s.execute(update(rule_outbox).where(rule_outbox.c.id == run["id"]).values(status="pending", attempts=1))
    assert rule_runs.run_outbox(*args) == "done"
    assert len(world.records("ncr")) == 1


def test_a_crash_between_actions_resumes_without_repeating_the_first(world, monkeypatch):
    world.publish(NG_OPENS_NCR)
    world.create("lot", "admin", lot_no="L-7")
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    from engine.rules import actions

    def boom(self, action, run):
        raise ConnectionError("database went away")
    monkeypatch.setattr(actions.SetStatus, "run", boom)
    world.run_jobs()
    run = world.runs()[0]
    assert run["status"] == "pending" and "database went away" in run["error"] and run["attempts"] == 1
    monkeypatch.undo()
    with world.session() as s:      # the backoff is over
        s.execute(update(rule_outbox).where(rule_outbox.c.id == run["id"]).values(next_attempt_at=run["created_at"]))
    from engine.jobs import tasks
    assert tasks.dispatch(world.url) == 1                  # the sweep finds it due again
    world.run_jobs()
    assert world.runs()[0]["status"] == "done" and world.runs()[0]["attempts"] == 2
    assert len(world.records("ncr")) == 1                    # the first action did not run again



def test_a_rule_that_fires_itself_stops_at_the_configured_depth(world, monkeypatch):
    monkeypatch.setenv("QMS_RULE_MAX_DEPTH", "3")
    loop = {"format": 1, "key": "loop", "label": {"zh-CN": "循环", "en": "Loop"}, "form": "lot",
            "trigger": {"type": "record_created"},
            "actions": [{"type": "create_record", "form": "lot", "values": {"lot_no": 'lot_no & "+"'}}]}
    world.publish(loop)
    world.create("lot", "admin", lot_no="L")
    for _ in range(10):
        if not world.run_jobs():
            break
    runs = world.runs("loop")
    assert [r["depth"] for r in runs] == [0, 1, 2, 3]
    assert [r["status"] for r in runs] == ["done", "done", "done", "failed"]
    assert "too deep" in runs[-1]["error"] or "过深" in runs[-1]["error"]
    assert len(world.records("lot")) == 4


def test_a_data_problem_fails_the_run_with_the_reason_and_an_admin_can_retry(world):
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule["actions"] = [{"type": "create_record", "form": "ncr", "values": {"qty": "qty / 0"}}]
    world.publish(rule)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    world.run_jobs()
    run = world.runs()[0]
    assert run["status"] == "failed" and run["error"].startswith("#1 create_record")
    with world.session() as s:
        rule_runs.retry(s, world.admin, run["id"])
    world.run_jobs()
    assert world.runs()[0]["status"] == "failed" and world.runs()[0]["attempts"] == 1


def test_a_condition_that_cannot_be_evaluated_is_recorded_as_failed(world):
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule["condition"] = "qty / 0 > 1"
    world.publish(rule)
    rid = world.create("iqc", lot_no="L-7", qty=5, result="NG")
    assert world.get("iqc", rid).data["lot_no"] == "L-7"          # the user's write is unharmed
    (run,) = world.runs()
    assert run["status"] == "failed" and "condition" in run["error"].lower() or "条件" in run["error"]


def test_field_changed_sees_old_and_new_values(world):
    rule = {"format": 1, "key": "became_ng", "label": {"zh-CN": "变为不合格", "en": "Became NG"}, "form": "iqc",
            "trigger": {"type": "field_changed", "fields": ["result"]},
            "condition": 'result = "NG" AND old.result = "OK"',
            "actions": [{"type": "create_record", "form": "ncr",
                         "values": {"lot_no": "lot_no", "source": '"was " & old.result'}}]}
    world.publish(rule)
    rid = world.create("iqc", lot_no="L-9", qty=5, result="OK")
    from engine.services import records
    with world.session() as s:
        records.update_record(s, world["ivan"], "iqc", rid, 1, {"qty": 6})                 # result unchanged
    with world.session() as s:
        records.update_record(s, world["ivan"], "iqc", rid, 2, {"result": "NG"})
    world.run_jobs()
    assert [r.data["source"] for r in world.records("ncr")] == ["was OK"]


def test_sub_table_rows_saved_with_the_parent_fire_field_changed(world):
    rule = {"format": 1, "key": "defects_changed", "label": {"zh-CN": "缺陷变化", "en": "Defects changed"},
            "form": "iqc", "trigger": {"type": "field_changed", "fields": ["defects"]},
            "actions": [{"type": "create_record", "form": "ncr", "values": {"lot_no": "lot_no"}}]}
    world.publish(rule)
    rid = world.create("iqc", lot_no="L-5", qty=5, result="OK")
    from engine.services import records
    with world.session() as s:
        records.update_record(s, world["ivan"], "iqc", rid, 1, {"defects": [{"code": "X", "n": 1}]})
    world.run_jobs()
    assert len(world.records("ncr")) == 1


def test_disabled_rules_do_not_fire(world):
    world.publish(NG_OPENS_NCR)
    from engine.services import rule_defs
    with world.session() as s:
        rule_defs.set_enabled(s, world.admin, "ng_opens_ncr", False)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    assert world.runs() == []


def test_publishing_a_broken_rule_lists_every_problem(world):
    rule = copy.deepcopy(NG_OPENS_NCR)
    rule["condition"] = "result = "
    rule["actions"][0]["values"]["nope"] = "1"
    with pytest.raises(DefinitionError) as err, world.session() as s:
        from engine.services import rule_defs
        rule_defs.publish_rule(s, world.admin, rule)
    paths = [p.path for p in err.value.problems]
    assert paths == ["$.actions[0].values.nope", "$.condition"]


def test_a_runs_version_is_the_one_current_when_it_fired(world):
    world.publish(NG_OPENS_NCR)
    world.create("iqc", lot_no="L-7", qty=5, result="NG")
    changed = copy.deepcopy(NG_OPENS_NCR)
    changed["actions"] = [{"type": "create_record", "form": "ncr", "values": {"lot_no": '"v2"'}}]
    world.publish(changed)
    world.run_jobs()
    assert [r.data["lot_no"] for r in world.records("ncr")] == ["L-7"]
