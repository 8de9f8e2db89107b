"""Master data through the engine: 20 suppliers (with certificates, one conditional, one disqualified,
three with a certificate expiring within 30 days), 200 parts, customers and production lines."""
from __future__ import annotations

from datetime import timedelta

from templates_qms.demo import plan as p
from templates_qms.demo.people import link_portal_users
from templates_qms.demo.writer import Writer, at

CERTS = {"electronic": ["iso9001", "rohs", "ul"], "mechanical": ["iso9001", "iatf16949"],
         "raw_material": ["iso9001", "reach"], "packaging": ["iso9001"], "chemical": ["iso9001", "iso14001", "reach"],
         "outsourced_process": ["iso9001", "iso14001"], "service": ["iso9001", "business_license"]}


def write_master_data(w: Writer, plan: p.Plan) -> None:
    """Suppliers, parts, customers and lines, dated on the first day of the year (one transaction)."""
    moment = at(plan.first_day - timedelta(days=1), 2)
    with w.session() as s:
        w.ids["supplier"] = [w.create("sqe", "supplier", _supplier(w, plan, i, row), moment, s)
                             for i, row in enumerate(p.SUPPLIERS)]
        codes = {row[0]: w.ids["supplier"][i] for i, row in enumerate(p.SUPPLIERS)}
        link_portal_users(s, w.tenant_id, w.people, codes)
        w.ids["part"] = [w.create("qe1", "part", _part(w, spec), moment, s) for spec in plan.parts]
        w.ids["customer"] = [w.create("cs", "customer", {
            "code": code, "name": zh, "region": region, "contact": f"{en} 采购 Purchasing",
            "email": f"quality@{code.lower()}.example.com", "account_manager": w.people.id("cs")}, moment, s)
            for code, zh, en, region in p.CUSTOMERS]
        qes = ["qe1", "qe2", "qe1", "qe2", "sqe"]
        w.ids["line"] = [w.create("pm", "production_line", {
            "code": code, "name": f"{zh} {en}", "workshop": shop, "line_qe": w.people.id(qes[i]),
            "supervisor": w.people.id("sup1"), "active": True}, moment, s)
            for i, (code, zh, en, shop) in enumerate(p.LINES)]
    w.drain(moment)


def _supplier(w: Writer, plan: p.Plan, i: int, row: tuple) -> dict:
    code, zh, en, category = row
    status = {p.CONDITIONAL: "conditional", p.DISQUALIFIED: "disqualified"}.get(code, "qualified")
    grade = "C" if code in p.BAD_SUPPLIERS or status == "conditional" else ("D" if status == "disqualified"
                                                                               else "AB"[i % 2])
    certs = []
    for k, cert in enumerate(CERTS[category]):
        issued = plan.today - timedelta(days=400 + 37 * k + 11 * i)
        expires = issued + timedelta(days=3 * 365)
        if code in p.EXPIRING and k == 0:
            expires = plan.today + timedelta(days=10 + 6 * p.EXPIRING.index(code))
        certs.append({"cert_type": cert, "cert_no": f"{cert.upper()[:4]}-{code}-{2020 + k}",
                      "issued_on": issued.isoformat(), "expires_on": expires.isoformat()})
    data = {"code": code, "name": f"{zh} {en}", "category": category, "supplier_status": status, "grade": grade,
            "approved_on": (plan.first_day - timedelta(days=200 + 23 * i)).isoformat(),
            "quality_contact": w.people.id("sqe"), "purchaser": w.people.id("buyer" if i % 2 else "buyer2"),
            "contact_name": f"{en.split()[0]} 质量经理 QA manager", "phone": f"0512-6{i:03d}8{i:03d}",
            "email": f"qa@{code.lower()}.supplier.example.cn", "certificates": certs}
    if code in w.people.portal:
        data["portal_user"] = w.people.portal[code].user_id
    if status != "qualified":
        data["remarks"] = {"conditional": "年度审核发现 2 项严重不符合，限制使用至整改完成 Conditional until the "
                                          "audit findings are closed",
                           "disqualified": "连续两季度评分 D 级，取消合格供应商资格 Disqualified after two D-grade "
                                           "quarters"}[status]
    return data


def _part(w: Writer, spec: dict) -> dict:
    data = {"part_no": spec["part_no"], "name": spec["name"], "category": spec["category"], "unit": spec["unit"],
            "drawing_rev": "B" if spec["part_no"].endswith("1") else "A", "unit_price": spec["unit_price"],
            "is_product": spec["is_product"], "active": True,
            "inspection_level": spec.get("level", "II"), "aql_major": spec.get("aql_major", "1.0"),
            "aql_minor": spec.get("aql_minor", "2.5")}
    if spec["supplier"] is not None:
        data["supplier"] = w.ids["supplier"][spec["supplier"]]
    return data
