"""Documents, training and internal audits on the engine path.

Controlled documents are released in two revisions each: the owner uploads the file (a text copy
of the procedure) and submits the approval flow, the reviewers and the approver sign, the
doc_control rule makes the revision effective (revision B makes A obsolete), and the training
rule opens a training record for each effective revision, which the trainer delivers and the
department head verifies. Two internal audits report findings; the internal_audit rule opens a
CAPA for each nonconformity, and the older audit's findings are corrected and verified.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from engine.services import accounts
from engine.services import files as file_service
from engine.storage import form_store

from templates_qms.demo import plan as p
from templates_qms.demo.writer import Writer, at

# doc_no, title, type, owner handle, department
DOCUMENTS = [("QP-8.4-01", "供方控制程序 Control of externally provided processes", "procedure", "sqe", "quality"),
             ("QP-8.7-01", "不合格品控制程序 Control of nonconforming outputs", "procedure", "qe1", "quality"),
             ("WI-IQC-003", "来料抽样检验作业指导书 Incoming sampling inspection instruction", "work_instruction",
              "qe2", "quality"),
             ("WI-ASM-012", "螺钉紧固扭矩作业指导书 Screw torque work instruction", "work_instruction", "qe2",
              "production")]
TRAINEES = {"quality": ("insp1", "insp2", "insp3", "qe2"), "production": ("sup1", "pm", "insp1")}
# audit process, clauses, auditee department, auditee representative, findings (grade, clause, text)
AUDITS = [("采购与供方管理 Purchasing and supplier control", "8.4", "purchasing", "buyer",
           [("minor", "8.4.1", "2 家供应商年度评价记录缺失 Annual evaluation missing for 2 suppliers"),
            ("observation", "8.4.3", "采购订单未引用最新图纸版本 POs do not quote the drawing revision")]),
          ("生产过程控制 Production process control", "8.5.1", "production", "sup1",
           [("major", "8.5.1", "总装线 4 扭矩枪未按期校准 Torque gun on line 4 overdue for calibration"),
            ("minor", "7.5.3", "现场使用作废版作业指导书 Obsolete work instruction in use at the line")])]


def documents(w: Writer, plan: p.Plan, rng: random.Random, progress, uploads_dir: Path | None = None) -> None:
    """Every document in revisions A and B (B released about half a year after A)."""
    uploads = uploads_dir or w.ids.get("uploads_dir")
    _departments(w)
    made = 0
    for n, spec in enumerate(DOCUMENTS):
        for rev, offset in (("A", 20 + 9 * n), ("B", 200 + 17 * n)):
            _release(w, uploads, spec, rev, plan.day(offset), rng)
            made += 1
    w.ids.setdefault("paths", {})["document"] = {"engine (approval flow, effective/supersede/training rules)": made}


def _release(w: Writer, uploads: Path, spec: tuple, rev: str, day: date, rng: random.Random) -> None:
    """One revision: file, draft, approval with signatures; the rules make it effective and open training."""
    doc_no, title, doc_type, owner, dept = spec
    moment, depts = at(day, 1), w.ids["department"]
    data = {"doc_no": doc_no, "doc_title": title, "doc_type": doc_type, "revision": rev,
            "change_type": "new" if rev == "A" else "revision", "owner": w.people.id(owner),
            "department": depts[dept], "reviewers": [w.people.id("qe1"), w.people.id("pm")],
            "approver": w.people.id("qm"), "distribution": sorted({depts[dept], depts["quality"]}),
            "review_interval_months": 24, "retention_years": 5,
            "training_required": True, "effective_date": (day + timedelta(days=3)).isoformat(),
            "file": [_upload(w, uploads, owner, doc_no, rev, title)]}
    if rev == "B":
        data |= {"supersedes": "A", "change_description": "按内审发现更新抽样与记录要求 Sampling and record "
                 "requirements updated after the internal audit", "change_reason": "内审不符合项纠正 Audit finding"}
    doc = w.create(owner, "document", data, moment)
    _bind(w, owner, doc)
    w.start_flow(owner, "document", doc, "document_approval", moment)
    for hours in (4, 5, 26):                           # two reviewers, then the approver
        w.act("document", doc, moment + timedelta(hours=hours), comment="同意发布 Agreed")
    _effective(w, day + timedelta(days=3))
    _train(w, doc, day + timedelta(days=6), dept, rng)


def _departments(w: Writer) -> None:
    """Department ids by key (department fields store ids)."""
    with w.session() as s:
        w.ids["department"] = {d["key"]: d["id"] for d in accounts.list_departments(s, w.tenant_id)}


def _upload(w: Writer, uploads: Path, owner: str, doc_no: str, rev: str, title: str) -> dict:
    """A text copy of the document saved through the upload service, as the owner."""
    text = f"{doc_no} Rev {rev}\n{title}\n\n1 目的 Purpose\n2 范围 Scope\n3 职责 Responsibilities\n" \
           f"4 程序 Procedure\n5 记录 Records\n"
    with w.session() as s:
        stored = file_service.save_file(s, w.actor(owner), uploads, text.encode("utf-8"), f"{doc_no}_Rev{rev}.txt",
                                        max_bytes=1_000_000)
    return {"id": stored.id, "name": stored.name, "size": stored.size, "content_type": stored.content_type}


def _bind(w: Writer, owner: str, doc: int) -> None:
    """Bind the uploaded file to the document (as the entry page does after saving)."""
    from engine.services import records as record_service
    with w.session() as s:
        form = form_store.load_published(s, w.tenant_id, "document").form
        data = record_service.get_record(s, w.admin, "document", doc).data
        file_service.bind_files(s, w.actor(owner), "document", doc, form.fields, data)


def _effective(w: Writer, day: date) -> None:
    """The nightly 'effective on date' rule, on the night of the effective date."""
    from engine.services import rule_defs
    from engine.services.rule_events import schedule_event
    moment = at(day, 0, 5)
    with w.session() as s:
        schedule_event(s, w.tenant_id, rule_defs.load_rule_version(s, w.tenant_id, "document_effective_on_date"),
                       moment)
    w.drain(moment)


def _train(w: Writer, doc: int, day: date, dept: str, rng: random.Random) -> None:
    """The training record the rule opened: delivered by the trainer, then verified by the department
    head when the flow assigns that step (a flow started by the rule has no submitter whose head it
    could find: the record then waits at verification)."""
    found = w.find("training_record", f"document = {doc}")
    if not found:
        return
    record = found[-1]["id"]
    trainees = [{"trainee": w.people.id(h), "result": "pass", "score": rng.randint(80, 100), "level": "3"}
                for h in TRAINEES[dept]]
    w.act("training_record", record, at(day, 6), data={
        "trainees": trainees, "training_date": day.isoformat(), "duration_hours": 1.5, "method": "classroom"})
    w.act("training_record", record, at(day + timedelta(days=7), 2), data={
        "effectiveness": "effective", "evaluation": "现场抽查 3 人均能正确执行 3 spot checks at the workplace OK"})


def audits(w: Writer, plan: p.Plan, rng: random.Random, progress) -> None:
    """Two internal audits with checklists and findings; the nonconformities open CAPAs by the rule."""
    findings = 0
    _departments(w)
    for n, (process, clause, dept, rep, found) in enumerate(AUDITS):
        day = plan.day(120 + 150 * n)
        audit = _audit(w, n, day, process, clause, dept, rep, found)
        for k, (grade, fclause, text) in enumerate(found):
            _finding(w, plan, audit, day, grade, fclause, text, rep, k)
            findings += 1
    w.ids.setdefault("paths", {})["audit"] = {"engine (report flow; findings → CAPA rule)":
                                              {"audit": len(AUDITS), "audit_finding": findings}}


def _audit(w: Writer, n: int, day: date, process: str, clause: str, dept: str, rep: str, found: list) -> int:
    moment = at(day, 1)
    checklist = [{"clause": c, "question": t.split(" ")[0] + "？", "evidence": t, "result": "nc" if g != "observation"
                  else "obs"} for g, c, t in found]
    checklist.append({"clause": clause, "question": "过程绩效指标是否监视 Are process KPIs monitored?",
                      "evidence": "月度报表 Monthly report", "result": "conform"})
    audit = w.create("qe1", "audit", {
        "year": day.year, "audit_type": "process" if n else "system", "process": process, "clauses": clause,
        "scope": f"{process}：制度、记录与现场 Procedures, records and workplace", "lead_auditor": w.people.id("qe1"),
        "auditors": [w.people.id("eng")], "auditee_dept": w.ids["department"][dept], "auditee_rep": w.people.id(rep),
        "planned_date": day.isoformat(), "audit_date": day.isoformat(), "checklist": checklist,
        "conclusion": "体系基本有效，需关闭不符合项 Effective overall; close the nonconformities"}, moment)
    w.start_flow("qe1", "audit", audit, "audit_report_approval", moment + timedelta(hours=6))
    w.act("audit", audit, at(day + timedelta(days=1), 2), comment="确认审核结果 Results acknowledged")
    w.act("audit", audit, at(day + timedelta(days=2), 2), comment="批准审核报告 Report approved")
    return audit


def _finding(w: Writer, plan: p.Plan, audit: int, day: date, grade: str, clause: str, text: str, rep: str,
             k: int) -> None:
    moment = at(day, 7, k)
    due = day + timedelta(days=30 if grade == "major" else 60)
    finding = w.create("qe1", "audit_finding", {
        "audit": audit, "clause": clause, "grade": grade, "description": text,
        "requirement": f"ISO 9001:2015 {clause}", "evidence": "现场查看及记录抽查 Seen at the workplace and in records",
        "owner": w.people.id(rep), "due_date": due.isoformat()}, moment)
    w.drain(moment)
    if grade == "observation" or due > plan.today - timedelta(days=20):
        return                                       # observations need no action; recent ones stay open
    w.act("audit_finding", finding, at(due - timedelta(days=5), 2), data={
        "correction": "已纠正并举一反三 Corrected, similar cases checked"})
    w.act("audit_finding", finding, at(due, 3), data={
        "verification": "现场验证有效 Verified at the workplace", "verified_on": due.isoformat()})
