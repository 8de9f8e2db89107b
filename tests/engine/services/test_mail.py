"""The mail outbox against a real local SMTP server (aiosmtpd): mail is received; held while no
server is configured and released later; backoff on a refused connection and ``failed`` after 8
tries; a refused recipient fails at once; delivering twice sends once; admin-only management."""
from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select, update

from engine.errors import Conflict, NotFound, PermissionDenied
from engine.notify.errors import NotifyInputError
from engine.services import mail, smtp
from engine.services import send_leases as L
from engine.storage.db import session_scope
from engine.storage.notify_tables import mail_outbox, smtp_settings
from tests.engine.services.notify_support import SECRET_KEY, add_user, job_env, jobs  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("job_env")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """aiosmtpd handler: keeps what it receives; refuses recipients at refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"


def _login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"qms", b"s3cret!")
    return AuthResult(success=ok)


@pytest.fixture
def server():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), authenticator=_login, auth_require_tls=False)
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def admin(db_engine, make_tenant):
    return add_user(db_engine, make_tenant(), admin=True)


def configure(engine, actor, port: int, **extra):
    values = {"host": "127.0.0.1", "port": port, "security": "none", "from_addr": "QMS <qms@plant.example>", **extra}
    with session_scope(engine) as s:
        smtp.save_settings(s, actor, values, secret_key=SECRET_KEY)


def queue(engine, actor, to, subject="Lot L-7 rejected", **kw):
    with session_scope(engine) as s:
        return mail.queue_mail(s, actor.tenant_id, to, subject, kw.pop("body", "Lot L-7 failed IQC."), **kw)


def row(engine, mail_id) -> dict:
    with session_scope(engine) as s:
        return dict(s.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id)).mappings().one())


def run(jobs_list):
    for target, args in jobs_list:
        assert target == mail.MAIL_JOB
        mail.deliver_mail(*args)
    jobs_list.clear()


def test_mail_is_received_with_a_stable_message_id(db_engine, admin, server, jobs):
    configure(db_engine, admin, server.port)
    ids = queue(db_engine, admin, ["qe@plant.example", "QE@plant.example", "buyer@plant.example"],
                html="<p>Lot <b>L-7</b></p>", source="rule:iqc_reject")
    assert len(ids) == 2 and len(jobs) == 2 and all(args[1] in ids for _, args in jobs)
    run(jobs)
    assert sorted(m[1][0] for m in server.messages) == ["buyer@plant.example", "qe@plant.example"]
    sender, _, message = server.messages[0]
    assert sender == "qms@plant.example" and message["Subject"] == "Lot L-7 rejected"
    assert message["Message-ID"] == f"<qms.{admin.tenant_id}.{ids[0]}@plant.example>"
    assert message["Auto-Submitted"] == "auto-generated" and message.is_multipart()
    sent = row(db_engine, ids[0])
    assert (sent["status"], sent["attempts"], sent["error"]) == ("sent", 1, None) and sent["sent_at"] is not None


def test_password_is_stored_encrypted_and_used_for_login(db_engine, admin, server, jobs):
    configure(db_engine, admin, server.port, username="qms", password="s3cret!")
    with session_scope(db_engine) as s:
        stored = s.execute(select(smtp_settings.c.password_enc).where(smtp_settings.c.tenant_id == admin.tenant_id)).scalar_one()
        assert "s3cret!" not in stored
        assert smtp.get_settings(s, admin)["has_password"] is True
    configure(db_engine, admin, server.port, username="qms", password="")         # empty keeps the password
    queue(db_engine, admin, ["qe@plant.example"])
    run(jobs)
    assert len(server.messages) == 1


def test_held_without_smtp_then_released_and_delivered(db_engine, admin, server, jobs):
    [mail_id] = queue(db_engine, admin, ["qe@plant.example"])
    assert row(db_engine, mail_id)["status"] == "held" and jobs == []
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict):
            mail.release_held(s, admin)
    configure(db_engine, admin, server.port)
    with session_scope(db_engine) as s:
        assert mail.release_held(s, admin) == 1
    run(jobs)
    assert row(db_engine, mail_id)["status"] == "sent" and len(server.messages) == 1


def test_the_environment_default_serves_tenants_without_settings(db_engine, admin, server, jobs, job_env):
    job_env.setenv("SMTP_HOST", "127.0.0.1")
    job_env.setenv("SMTP_PORT", str(server.port))
    job_env.setenv("SMTP_FROM", "plant-qms@plant.example")
    [mail_id] = queue(db_engine, admin, ["qe@plant.example"])
    run(jobs)
    assert row(db_engine, mail_id)["status"] == "sent" and server.messages[0][0] == "plant-qms@plant.example"


def test_refused_connection_backs_off_then_fails_after_8_attempts(db_engine, admin, jobs):
    configure(db_engine, admin, free_port())                       # nothing listens there
    [mail_id] = queue(db_engine, admin, ["qe@plant.example"])
    run(jobs)
    first = row(db_engine, mail_id)
    assert (first["status"], first["attempts"]) == ("pending", 1) and "Connection" in first["error"]
    wait = first["next_attempt_at"].replace(tzinfo=None) - first["created_at"].replace(tzinfo=None)
    assert timedelta(seconds=55) < wait < timedelta(seconds=70)
    with session_scope(db_engine) as s:
        assert mail_id not in due(mail.due_jobs(s, L.now_utc()))                 # not due yet
        assert mail_id in due(mail.due_jobs(s, L.now_utc() + timedelta(seconds=61)))
    mail.deliver_mail(jobs_url(db_engine), mail_id)                  # not due: a no-op
    assert row(db_engine, mail_id)["attempts"] == 1
    for attempt in range(2, 9):
        make_due(db_engine, mail_id)
        mail.deliver_mail(jobs_url(db_engine), mail_id)
        assert row(db_engine, mail_id)["attempts"] == attempt
    final = row(db_engine, mail_id)
    assert final["status"] == "failed" and final["next_attempt_at"] is None
    assert L.backoff(7) == timedelta(seconds=3840) and L.backoff(30) == timedelta(hours=6)


def due(calls) -> set[int]:
    """The row ids among the sweep's job calls (other tests' rows may share the database)."""
    return {args[1] for _, args in calls}


def jobs_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def make_due(engine, mail_id):
    with session_scope(engine) as s:
        s.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(
            next_attempt_at=L.now_utc() - timedelta(seconds=1)))


def test_a_refused_recipient_fails_at_once(db_engine, admin, server, jobs):
    configure(db_engine, admin, server.port)
    [mail_id] = queue(db_engine, admin, ["nobody@refused.example"])
    run(jobs)
    found = row(db_engine, mail_id)
    assert found["status"] == "failed" and "550" in found["error"] and found["attempts"] == 1


def test_delivering_twice_sends_once_and_respects_other_workers_leases(db_engine, admin, server, jobs):
    configure(db_engine, admin, server.port)
    [mail_id] = queue(db_engine, admin, ["qe@plant.example"])
    url = jobs_url(db_engine)
    mail.deliver_mail(url, mail_id)
    mail.deliver_mail(url, mail_id)
    mail.deliver_mail(url, 987654)                                   # missing: no-op
    assert len(server.messages) == 1
    [other] = queue(db_engine, admin, ["buyer@plant.example"])
    with session_scope(db_engine) as s:                               # another worker holds it
        s.execute(update(mail_outbox).where(mail_outbox.c.id == other).values(
            status="sending", attempts=1, lease_until=L.now_utc() + timedelta(seconds=100)))
    mail.deliver_mail(url, other)
    assert row(db_engine, other)["status"] == "sending" and len(server.messages) == 1
    with session_scope(db_engine) as s:                               # … and died: the lease expires
        s.execute(update(mail_outbox).where(mail_outbox.c.id == other).values(lease_until=L.now_utc() - timedelta(seconds=1)))
        assert other in due(mail.due_jobs(s, L.now_utc()))
    mail.deliver_mail(url, other)
    assert row(db_engine, other)["status"] == "sent" and row(db_engine, other)["attempts"] == 2


def test_a_changed_secret_key_fails_with_a_clear_message(db_engine, admin, server, jobs, job_env):
    configure(db_engine, admin, server.port, username="qms", password="s3cret!")
    [mail_id] = queue(db_engine, admin, ["qe@plant.example"])
    job_env.setenv("SECRET_KEY", "another-key")
    run(jobs)
    found = row(db_engine, mail_id)
    assert found["status"] == "failed" and "SECRET_KEY" in found["error"]


def test_bad_input_is_refused_and_nothing_is_queued(db_engine, admin, jobs):
    for to, subject in ((["not-an-address"], "s"), (["a@b.example\r\nBcc: x@evil.example"], "s"), (["a@b.example"], " ")):
        with pytest.raises(NotifyInputError) as err:
            queue(db_engine, admin, to, subject)
        assert err.value.field in ("to", "subject")
    assert queue(db_engine, admin, []) == [] and jobs == []
    assert queue(db_engine, admin, "one@plant.example")                # a single address as a string


def test_smtp_settings_errors_name_every_field(db_engine, admin):
    with session_scope(db_engine) as s:
        with pytest.raises(NotifyInputError) as err:
            smtp.save_settings(s, admin, {"host": "", "port": "99999", "security": "tls", "from_addr": "nope"},
                               secret_key=SECRET_KEY)
    assert {p.field for p in err.value.problems} == {"host", "port", "security", "from_addr"}


def test_only_admins_manage_mail_and_only_their_tenants(db_engine, admin, make_tenant, server, jobs):
    member = add_user(db_engine, admin.tenant_id)
    other_admin = add_user(db_engine, make_tenant(), admin=True)
    configure(db_engine, admin, server.port)
    [mail_id] = queue(db_engine, admin, ["nobody@refused.example"])
    run(jobs)
    with session_scope(db_engine) as s:
        for call in (lambda: mail.list_mail(s, member), lambda: mail.resend(s, member, mail_id),
                     lambda: mail.release_held(s, member), lambda: mail.send_test_mail(s, member, "a@b.example"),
                     lambda: smtp.get_settings(s, member),
                     lambda: smtp.save_settings(s, member, {}, secret_key=SECRET_KEY)):
            with pytest.raises(PermissionDenied):
                call()
        assert mail.list_mail(s, other_admin)["total"] == 0
        with pytest.raises(NotFound):
            mail.resend(s, other_admin, mail_id)
        listed = mail.list_mail(s, admin, status="failed")
        assert [i["id"] for i in listed["items"]] == [mail_id] and listed["counts"] == {"failed": 1}
        mail.resend(s, admin, mail_id)
    assert row(db_engine, mail_id)["status"] == "pending" and row(db_engine, mail_id)["attempts"] == 0


def test_test_mail_needs_settings_first(db_engine, admin, server, jobs):
    with session_scope(db_engine) as s:
        with pytest.raises(Conflict):
            mail.send_test_mail(s, admin, "qe@plant.example")
    configure(db_engine, admin, server.port)
    with session_scope(db_engine) as s:
        mail.send_test_mail(s, admin, "qe@plant.example")
    run(jobs)
    assert "test mail" in server.messages[0][2]["Subject"]
