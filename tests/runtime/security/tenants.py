"""Two tenants on one app for the security tests: A ("default") and B ("other").

Both install the same shipped apps (qms_base, iqc, ncr, eight_d, supplier_quality) with the portal
world of tests/runtime/portal/support.py (two suppliers, portal users, NCRs, 8Ds waiting in their
flow). B also holds B-ONLY things whose keys A lacks — the app ``zzb_app`` with a form, a print
template, a report, a dashboard, a rule and a flow — and one of every per-tenant row a route can
name by id: more suppliers than A (record ids collide across tenants, so B's highest id is one A
lacks), attachments, notifications, a robot channel, webhook/channel deliveries, mail, rule runs,
a delegation, API tokens, jobs, a designer draft, a kept import upload. Every text of B carries
:data:`MARKER`, so a response naming anything of B is caught by a substring test.

:func:`b_snapshot` fingerprints every B row (all tables) to prove that nothing of B changed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import MetaData, func, select

from engine.jobs import queue
from engine.services import accounts, apps, deliveries, designs, files, flow_directory, flows, jobs, logins, mail
from engine.services import notifications, notify_channels, portal as portal_service
from engine.services import records as record_service
from engine.storage.db import session_scope
from engine.storage.flow_tables import flow_instances, flow_tasks
from engine.storage.platform import users
from engine.types import Actor
from tests.runtime.api.support import add_tenant
from tests.runtime.portal.support import PASSWORD as PORTAL_PASSWORD
from tests.runtime.portal.support import World, build
from tests.runtime.web_support import ADMIN_PASSWORD, make_app

MARKER = "ZZB-SECRET"
L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731
B_APP, B_FORM, B_REPORT, B_BOARD, B_RULE, B_FLOW, B_PRINT, B_CHANNEL = (
    "zzb_app", "zzb_form", "zzb_report", "zzb_board", "zzb_rule", "zzb_flow", "zzb_print", "zzb_channel")
B_RECORDS = 7        # B's zzb_form records and B's suppliers (A keeps 2 suppliers): id 7 is B's alone
IMPORT_TOKEN = "zzbsecret0123456789abcdef0123456"   # 32 alphanumerics, like a kept import upload


def mark(text: str) -> str:
    return f"{MARKER}-{text}"


def b_package(approver_id: int) -> dict:
    """The B-only app: every label, choice and template names the marker."""
    form = {"format": 1, "key": B_FORM, "label": L(mark("表单"), mark("form")), "title_template": "{subject}", "fields": [
        {"key": "subject", "type": "text", "label": L(mark("标题"), mark("title")), "required": True},
        {"key": "qty", "type": "number", "label": L(mark("数量"), mark("qty"))},
        {"key": "supplier", "type": "reference", "label": L(mark("供应商"), mark("supplier")), "form": "supplier",
         "display": "name"},
        {"key": "docs", "type": "attachment", "label": L(mark("附件"), mark("docs")), "max_files": 5}],
        "prints": [{"key": B_PRINT, "label": L(mark("打印"), mark("print")),
                    "template": f"<h1>{mark('print')} {{{{ values.subject }}}}</h1>"}]}
    report = {"format": 1, "key": B_REPORT, "label": L(mark("报表"), mark("report")), "chart": {"type": "table"},
              "dataset": {"form": B_FORM, "dimensions": [{"field": "subject", "key": "subject"}],
                          "measures": [{"agg": "sum", "field": "qty", "key": "qty"}]}}
    board = {"format": 1, "key": B_BOARD, "label": L(mark("看板"), mark("board")),
             "items": [{"report": B_REPORT, "x": 0, "y": 0, "w": 6, "h": 4}]}
    rule = {"format": 1, "key": B_RULE, "label": L(mark("规则"), mark("rule")), "form": B_FORM,
            "trigger": {"type": "record_created"},
            "actions": [{"type": "notify", "to": {"submitter": True}, "channels": ["in_app"],
                         "subject": mark("rule notice")}]}
    flow = {"format": 1, "key": B_FLOW, "label": L(mark("流程"), mark("flow")), "form": B_FORM, "auto_start": False,
            "nodes": [{"id": "start", "type": "start", "next": "check", "fields": {"*": "editable"}},
                      {"id": "check", "type": "approval", "label": L(mark("审批"), mark("approve")),
                       "assignees": [{"kind": "user", "user": approver_id}], "mode": "any", "next": "done"},
                      {"id": "done", "type": "end"}]}
    return {"format": 1, "key": B_APP, "version": "1.0.0", "label": L(mark("应用"), mark("app")),
            "requires": ["qms_base"], "forms": [form], "reports": [report], "dashboards": [board], "rules": [rule],
            "flows": [flow]}


@dataclass
class Side:
    """One tenant: id, key, admin (Actor, e-mail, password, API token) and its portal world."""

    tenant_id: int
    key: str
    admin: Actor
    admin_email: str
    admin_token: str
    world: World


@dataclass
class Tenants:
    app: object
    a: Side
    b: Side
    jobs: queue.DeferredBackend
    ids: dict = field(default_factory=dict)       # B's row ids by route argument name
    data_dir: Path | None = None

    @property
    def engine(self):
        return self.app.extensions["qms_db"]

    def sign_in(self, client, side: Side | None = None, email: str | None = None, password: str = ADMIN_PASSWORD):
        """Sign ``client`` in (A's admin by default); the login response must be a redirect."""
        from tests.runtime.web_support import sign_in
        side = side or self.a
        res = sign_in(client, email or side.admin_email, password, company=side.key)
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        return client

    def portal_email(self, side: Side) -> str:
        return side.world.emails["A"]


def build_tenants(tmp_path) -> Tenants:
    """The app with tenants A and B as the module docstring says; jobs wait in a deferred queue."""
    app = make_app(tmp_path)
    deferred = queue.DeferredBackend()
    previous = queue.use(deferred)
    try:
        sides = {}
        for key in ("default", "other"):
            t = add_tenant(app, key)
            world = build(app.extensions["qms_db"], t.admin)
            email = "admin@example.com" if key == "default" else "admin@other.example.com"
            sides[key] = Side(t.tenant_id, key, t.admin, email, t.admin_token, world)
        deferred.run_all()
        tenants = Tenants(app, sides["default"], sides["other"], deferred, data_dir=Path(tmp_path))
        _fill_b(tenants)
        while deferred.run_all():
            pass
    finally:
        queue.use(previous)
    return tenants


def _fill_b(t: Tenants) -> None:
    b, ids = t.b, t.ids
    settings = t.app.config["QMS_SETTINGS"]
    with session_scope(t.engine) as s:
        tid = b.tenant_id
        ids["user_id"] = accounts.create_user(s, tid, "zzb-secret-user@other.example.com", mark("user"),
                                              PORTAL_PASSWORD, roles=["quality_manager"], lang="en")
        apps.import_app(s, b.admin, b_package(b.admin.user_id))
        suppliers = [record_service.create_record(s, b.admin, "supplier", {
            "code": mark(f"S{i}"), "name": mark(f"supplier {i}"), "supplier_status": "qualified",
            "approved_on": date.today()}).id
            for i in range(B_RECORDS - 2)]
        ids["supplier_id"] = suppliers[-1]
        portal_service.create_supplier_user(s, b.admin, suppliers[-1], "zzb-secret-portal@other.example.com",
                                            mark("portal user"), PORTAL_PASSWORD)
        stored = [files.save_file(s, b.admin, settings.uploads_dir, f"%PDF-1.4 {mark('file')} {i}".encode(),
                                  f"{mark('file')}-{i}.pdf", max_bytes=1 << 20) for i in range(3)]
        ids["file_id"] = stored[-1].id
        records = [record_service.create_record(s, b.admin, B_FORM, {
            "subject": mark(f"record {i}"), "qty": 1000 + i, "supplier": suppliers[0],
            "docs": [{"id": stored[i].id}] if i < len(stored) else []}).id for i in range(B_RECORDS)]
        ids["record_id"] = records[-1]
        ids["instance_id"] = flows.start_flow(s, b.admin, B_FORM, records[-1], B_FLOW)
        ids["task_id"] = s.execute(select(func.max(flow_tasks.c.id)).where(
            flow_tasks.c.instance_id == ids["instance_id"])).scalar_one()
        ids["notification_id"] = notifications.notify_users(
            s, tid, [b.admin.user_id, ids["user_id"]], mark("subject"), mark("body"), link=f"/f/{B_FORM}/1")[-1]
        notify_channels.save_channel(s, b.admin, B_CHANNEL, "dingtalk", mark("channel"),
                                     "https://oapi.dingtalk.com/robot/send?access_token=zzbsecret", None,
                                     secret_key=t.app.config["SECRET_KEY"])
        deliveries.queue_webhook(s, tid, "https://zzb-secret.example.com/hook", {"text": mark("webhook")})
        ids["delivery_id"] = deliveries.queue_channel(s, tid, B_CHANNEL, mark("subject"), mark("body"))
        ids["mail_id"] = mail.queue_mail(s, tid, ["zzb-secret-mail@other.example.com"], mark("mail"), mark("body"))[-1]
        ids["delegation_id"] = flow_directory.set_delegation(s, b.admin, ids["user_id"], date.today(),
                                                             date.today() + timedelta(days=9))
        logins.create_api_token(s, tid, ids["user_id"], mark("token"))
        ids["token_id"] = max(tok["id"] for tok in logins.list_api_tokens(s, tid))
        ids["job_id"] = jobs.create_job(s, b.admin, "import_records", {"form_key": B_FORM, "filename": mark("x.xlsx")})
        designs.new_definition(s, b.admin, B_APP, "form", "zzb_draft", L(mark("草稿"), mark("draft")))
        b.admin = accounts.actor_for_user(s, b.admin.user_id)
    t.jobs.run_all()
    with session_scope(t.engine) as s:
        from engine.storage.rule_tables import rule_outbox
        ids["run_id"] = s.execute(select(func.max(rule_outbox.c.id)).where(rule_outbox.c.tenant_id == b.tenant_id)
                                  ).scalar_one()
    folder = t.data_dir / "imports" / f"t{b.tenant_id}" / f"u{b.admin.user_id}" / IMPORT_TOKEN
    folder.mkdir(parents=True)
    (folder / f"{mark('upload')}.csv").write_text(f"subject,qty\n{mark('row')},1\n", encoding="utf-8")
    assert ids["run_id"], "B has no rule run"


def b_snapshot(engine, tenant_id: int) -> dict[str, tuple[int, str]]:
    """Every table's B rows as (count, sha256 of their sorted content): tables with ``tenant_id``
    filtered to B, B's record tables ``t<B>_*`` whole, rule action runs through B's outbox rows."""
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        outbox = meta.tables["rule_outbox"]
        b_outbox = select(outbox.c.id).where(outbox.c.tenant_id == tenant_id)
        for name, table in sorted(meta.tables.items()):
            if "tenant_id" in table.c:
                query = select(table).where(table.c.tenant_id == tenant_id)
            elif name.startswith(f"t{tenant_id}_"):
                query = select(table)
            elif name == "rule_action_runs":
                query = select(table).where(table.c.outbox_id.in_(b_outbox))
            elif name == "tenants":
                query = select(table).where(table.c.id == tenant_id)
            else:
                continue
            rows = sorted(repr(tuple(r)) for r in conn.execute(query))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def user_id_of(engine, tenant_id: int, email: str) -> int:
    with session_scope(engine) as s:
        return s.execute(select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)).scalar_one()


def open_task_ids(engine, tenant_id: int) -> list[int]:
    with session_scope(engine) as s:
        return list(s.execute(select(flow_tasks.c.id).join(flow_instances, flow_instances.c.id == flow_tasks.c.instance_id)
                              .where(flow_instances.c.tenant_id == tenant_id, flow_tasks.c.status == "open")).scalars())
