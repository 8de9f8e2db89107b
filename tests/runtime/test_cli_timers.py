"""``qms run-timers`` acts on due approval deadlines (cron / long-running process)."""
import copy

from engine.storage.db import session_scope
from tests.engine.flows.support import REVIEW, later, make_world
from tests.runtime.web_support import make_app


def test_run_timers_acts_on_overdue_tasks(tmp_path, monkeypatch):
    app = make_app(tmp_path)
    engine = app.extensions["qms_db"]
    from engine.services import accounts
    with session_scope(engine) as s:
        tenant = accounts.create_tenant(s, "timers", "Timers")
        admin = accounts.actor_for_user(s, accounts.create_user(s, tenant, "a@t.cn", "A", "password-1", is_admin=True))
    flow = copy.deepcopy(REVIEW)
    flow["nodes"][1]["deadline"] = {"hours": 1, "on_overdue": "return"}
    world = make_world(engine, admin, flow)
    rid = world.submit()
    from engine.services import flow_timers
    monkeypatch.setattr(flow_timers, "datetime", _Clock)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    import app as app_module
    result = app.test_cli_runner().invoke(app_module.cli, ["run-timers"])
    assert result.exit_code == 0, result.output
    assert "1 task(s)" in result.output                  # the first overdue task returns it; the other is closed
    assert world.instance(rid)["state"] == "returned"


class _Clock:
    """datetime with now() = two hours after the test's start (the deadline was one hour)."""

    @staticmethod
    def now(tz=None):
        return later(2)
