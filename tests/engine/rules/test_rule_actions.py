"""Each trigger and action on the database: what it matches, what it does, once."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine.services import flow_defs, records, rule_events
from engine.storage.notify_tables import deliveries, mail_outbox, notifications
from engine.storage.flow_tables import flow_instances
from tests.engine.rules.support import L

UPDATE_LOTS = {"format": 1, "key": "note_lots", "label": L("备注批次", "Note lots"), "form": "iqc",
               "trigger": {"type": "record_created"},
               "actions": [{"type": "update_records",
                            "target": {"form": "lot", "match": {"lot_no": "lot_no"}, "filter": 'remark <> "keep"'},
                            "values": {"remark": '"inspected: " & result'}}]}


def test_update_records_changes_only_the_matching_records(world):
    world.publish(UPDATE_LOTS)
    a = world.create("lot", "admin", lot_no="L-1")
    b = world.create("lot", "admin", lot_no="L-1", remark="keep")
    c = world.create("lot", "admin", lot_no="L-2")
    world.create("iqc", lot_no="L-1", qty=1, result="OK")
    world.run_jobs()
    assert world.get("lot", a).data["remark"] == "inspected: OK"
    assert world.get("lot", b).data["remark"] == "keep" and world.get("lot", c).data.get("remark") is None
    (run,) = world.runs()
    assert world.action_runs(run["id"])[0]["outcome"]["count"] == 1


def test_record_deleted_sees_the_last_values(world):
    rule = {"format": 1, "key": "on_delete", "label": L("删除时", "On delete"), "form": "lot",
            "trigger": {"type": "record_deleted"},
            "actions": [{"type": "create_record", "form": "ncr", "values": {"lot_no": 'lot_no & " deleted"'}}]}
    world.publish(rule)
    lot = world.create("lot", "admin", lot_no="L-9")
    with world.session() as s:
        records.delete_record(s, world.admin, "lot", lot, reason="wrong lot")
    world.run_jobs()
    assert [r.data["lot_no"] for r in world.records("ncr")] == ["L-9 deleted"]


NOTIFY = {"format": 1, "key": "tell", "label": L("通知", "Tell"), "form": "iqc", "trigger": {"type": "record_created"},
          "condition": 'result = "NG"',
          "actions": [{"type": "notify", "to": {"roles": ["purchasing"], "fields": ["inspector"], "users": [999999]},
                       "channels": ["in_app", "email"],
                       "subject": "NG {{ record.lot_no }}", "body": "qty {{ record.qty }} <b>{{ record.lot_no }}</b>"}]}


def test_notify_reaches_roles_and_user_fields_in_app_and_by_mail(world):
    world.publish(NOTIFY)
    world.create("iqc", lot_no="L-3", qty=4, result="NG", inspector=world["quinn"].user_id)
    world.run_jobs()
    with world.session() as s:
        got = s.execute(select(notifications.c.user_id, notifications.c.subject, notifications.c.body)
                        .where(notifications.c.tenant_id == world.admin.tenant_id)).all()
        mails = s.execute(select(mail_outbox.c.to_addr, mail_outbox.c.status)
                          .where(mail_outbox.c.tenant_id == world.admin.tenant_id)).all()
    people = {world[n].user_id for n in ("paula", "peter", "quinn")}
    assert {u for u, _, _ in got} == people                       # unknown user 999999 ignored
    assert {s for _, s, _ in got} == {"NG L-3"} and "<b>L-3</b>" in got[0][2]
    assert len(mails) == 3 and {status for _, status in mails} == {"held"}     # no SMTP here: kept, not lost


def test_call_webhook_queues_a_signed_delivery_with_the_rendered_payload(world):
    rule = {"format": 1, "key": "erp", "label": L("通知 ERP", "Tell ERP"), "form": "iqc",
            "trigger": {"type": "record_created"},
            "actions": [{"type": "call_webhook", "url": "https://erp.example.com/hook", "secret": "0123456789abcdef",
                         "payload": {"lot": "{{ record.lot_no }}", "qty": "{{ record.qty }}"}}]}
    world.publish(rule)
    world.create("iqc", lot_no="L-4", qty=7, result="OK")
    world.backend.calls[:] = [c for c in world.backend.calls if "rule_runs" in c[0]]
    world.run_jobs()
    with world.session() as s:
        row = s.execute(select(deliveries).where(deliveries.c.tenant_id == world.admin.tenant_id)).mappings().one()
    assert row["status"] == "pending" and row["url"] == "https://erp.example.com/hook"
    assert json.loads(row["request_body"]) == {"lot": "L-4", "qty": "7"}
    assert row["headers"]["X-QMS-Signature"].startswith("sha256=")


def test_start_flow_on_the_record_an_earlier_action_created(world):
    flow = {"format": 1, "key": "ncr_review", "label": L("评审", "Review"), "form": "ncr", "nodes": [
        {"id": "start", "type": "start", "next": "qe"},
        {"id": "qe", "type": "approval", "assignees": [{"kind": "role", "role": "quality"}], "next": "end"},
        {"id": "end", "type": "end"}]}
    with world.session() as s:
        flow_defs.publish_flow(s, world.admin, flow)
    rule = {"format": 1, "key": "ncr_and_review", "label": L("开 NCR 并评审", "NCR and review"), "form": "iqc",
            "trigger": {"type": "record_created"},
            "actions": [{"type": "create_record", "form": "ncr", "values": {"lot_no": "lot_no"}},
                        {"type": "start_flow", "flow": "ncr_review", "record": "created"}]}
    world.publish(rule)
    world.create("iqc", lot_no="L-5", qty=1, result="NG")
    world.run_jobs()
    (ncr,) = world.records("ncr")
    with world.session() as s:
        inst = s.execute(select(flow_instances).where(flow_instances.c.record_id == ncr.id,
                                                      flow_instances.c.form_key == "ncr")).mappings().one()
    assert inst["state"] == "running" and inst["submitter_id"] == world["ivan"].user_id


def test_the_spc_violation_slot_matches_field_and_rules(world):
    rule = {"format": 1, "key": "spc", "label": L("判异", "SPC alarm"), "form": "iqc",
            "trigger": {"type": "spc_violation", "field": "qty", "rules": [1, 2]},
            "condition": "COUNT(violated_rules) > 0",
            "actions": [{"type": "create_record", "form": "ncr", "values": {"lot_no": 'lot_no & " spc"'}}]}
    world.publish(rule)
    rid = world.create("iqc", lot_no="L-6", qty=1, result="OK")
    with world.session() as s:
        from engine.services.rule_defs import rules_of_form
        rules = rules_of_form(s, world.admin.tenant_id, "iqc")
        values = rule_events._json(records.get_record(s, world.admin, "iqc", rid))
        for rules_hit in ([5], [2, 5]):
            rule_events.fire(s, world.admin, rules, {"kind": "spc.violation", "form": "iqc", "record_id": rid,
                                                     "values": values, "violation": {"field": "qty", "rules": rules_hit}})
    world.run_jobs()
    assert [r.data["lot_no"] for r in world.records("ncr")] == ["L-6 spc"]
