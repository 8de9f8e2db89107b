"""The flow routes as an integrator uses them: publish a flow, records start it, the approver
reads the task (hidden fields stay hidden), signs with the password, and the history shows it."""
from tests.runtime.api.support import PASSWORD, bearer, label

FLOW = {"format": 1, "key": "insp_review", "label": label("检验审核", "Inspection review"), "form": "inspection",
        "nodes": [
            {"id": "start", "type": "start", "next": "qe"},
            {"id": "qe", "type": "approval", "label": label("质量审核", "QE review"),
             "assignees": [{"kind": "role", "role": "qe"}], "signature": {"meaning": "approved"},
             "fields": {"defects": "editable", "inspected_on": "hidden"}, "next": "end"},
            {"id": "end", "type": "end"}]}


def test_an_integrator_runs_an_approval_through_the_api(client, tenant_a):
    admin = bearer(tenant_a.admin_token)
    tenant_a.role("qe", "form:inspection", {"read": "all"})
    _email, qe_token = tenant_a.user("qe")
    qe = bearer(qe_token)
    bad = client.post("/api/v1/flows", json={**FLOW, "nodes": FLOW["nodes"][:2]}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"]                       # no end, unknown target
    assert client.post("/api/v1/flows", json=FLOW, headers=admin).status_code == 201
    created = client.post("/api/v1/forms/inspection/records", json={"data": {
        "lot_no": "L1", "qty": 10, "defects": 1, "inspected_on": "2026-03-02"}}, headers=admin).get_json()
    inbox = client.get("/api/v1/tasks", headers=qe).get_json()
    assert inbox["counts"]["todo"] == 1 and inbox["items"][0]["record_title"]
    task = inbox["items"][0]
    assert task["signature_required"] and task["node_label"]["en"] == "QE review"
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=qe).get_json()
    assert "inspected_on" not in detail["record"]["data"] and detail["fields"]["defects"] == "editable"
    assert detail["signature"]["label"]["en"] == "Approved"
    # the record cannot be edited around the flow
    patch = client.patch(f"/api/v1/forms/inspection/records/{created['id']}", json={"version": 1, "data": {"qty": 3}},
                         headers=admin)
    assert patch.status_code == 403
    wrong = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"password": "nope"}, headers=qe)
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "password"
    readonly = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"password": PASSWORD, "data": {"qty": 1}},
                           headers=qe)
    assert readonly.status_code == 422 and readonly.get_json()["errors"][0]["field"] == "qty"
    done = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"password": PASSWORD, "data": {"defects": 0},
                                                                     "comment": "fine"}, headers=qe)
    assert done.status_code == 200 and done.get_json()["status"] == "approved"
    again = client.post(f"/api/v1/tasks/{task['id']}/approve", json={"password": PASSWORD}, headers=qe)
    assert again.status_code == 409
    history = client.get(f"/api/v1/forms/inspection/records/{created['id']}/flow", headers=admin).get_json()
    assert history["instance"]["state"] == "approved"
    assert [s["meaning"] for s in history["signatures"]] == ["approved"] and history["signatures"][0]["matches_record"]
    assert "signed" in [e["kind"] for e in history["events"]]
    assert [n["status"] for n in history["diagram"]] == ["done", "done", "done"]
    record = client.get(f"/api/v1/forms/inspection/records/{created['id']}", headers=admin).get_json()
    assert record["data"]["defects"] == 0 and record["meta"]["flow_state"] == "approved"


def test_wrong_signing_passwords_are_counted_and_rate_limited(client, tenant_a):
    admin = bearer(tenant_a.admin_token)
    tenant_a.role("qe", "form:inspection", {"read": "all"})
    _email, qe_token = tenant_a.user("qe")
    assert client.post("/api/v1/flows", json=FLOW, headers=admin).status_code == 201
    client.post("/api/v1/forms/inspection/records", json={"data": {"lot_no": "L2", "qty": 1}}, headers=admin)
    task = client.get("/api/v1/tasks", headers=bearer(qe_token)).get_json()["items"][0]["id"]
    codes = [client.post(f"/api/v1/tasks/{task}/approve", json={"password": f"guess-{i}"},
                         headers=bearer(qe_token)).status_code for i in range(6)]
    assert codes[:5] == [422] * 5 and codes[5] == 429                    # locked after five wrong guesses
    locked = client.post(f"/api/v1/tasks/{task}/approve", json={"password": PASSWORD}, headers=bearer(qe_token))
    assert locked.status_code == 429                                     # even the right one, until it expires
