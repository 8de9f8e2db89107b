"""Admin pages: the mail outbox and SMTP settings (``/admin/mail``), robot channels
(``/admin/channels``) and the outbound delivery log (``/admin/deliveries``).

Admins only (anyone else gets a 403 page); every read and write goes through the engine's
services, which scope everything to the admin's own tenant. Stored passwords, robot secrets and
the credential inside a robot URL are never sent back to the browser: their inputs stay empty and
an empty input keeps what is stored.
"""
from __future__ import annotations


from flask import current_app, flash, redirect, render_template, request, url_for

from engine.errors import Conflict, NotFound, QMSError
from engine.notify import CHANNEL_KINDS
from engine.notify.errors import NotifyInputError
from engine.services import deliveries, mail, smtp
from engine.services import send_leases as L
from engine.services.notify_channels import channel_row
from runtime.auth import current_actor
from runtime.guards import page_guard
from runtime.db import commit, db
from runtime.i18n import current_lang, t
from runtime.notify.views import bp, int_arg

PER_PAGE = 50


# signed in and an admin of the tenant (else a 403 page); engine NotFound → the 404 page
admin_required = page_guard(lambda: current_actor().unrestricted)


def _secret_key() -> str:
    return current_app.config["SECRET_KEY"]


def _errors(exc: NotifyInputError) -> dict[str, str]:
    lang = current_lang()
    return {p.field: p.message.get(lang) for p in exc.problems} or {"": exc.message.get(lang)}


def _done(endpoint: str, zh: str, en: str, **values):
    commit()
    flash(t(zh, en), "ok")
    return redirect(url_for(endpoint, **values))


def _refused(endpoint: str, exc: QMSError, **values):
    db().rollback()
    flash(exc.message.get(current_lang()), "error")
    return redirect(url_for(endpoint, **values))


# ---------------------------------------------------------------------------- mail

@bp.get("/admin/mail")
@admin_required
def mail_page(status: int = 200, errors: dict | None = None, entered: dict | None = None):
    actor = current_actor()
    state = request.args.get("status") if request.args.get("status") in L.STATUSES else None
    found = mail.list_mail(db(), actor, status=state, page=max(1, int_arg(request.args.get("page"), 1)),
                           per_page=PER_PAGE)
    settings = smtp.get_settings(db(), actor)
    env = smtp.env_config()
    values = entered or settings or {"security": "starttls", "port": 587}
    return render_template("notify/mail.html", found=found, state=state, settings=settings, values=values,
                           env=env, errors=errors or {}, securities=smtp.SECURITY, statuses=L.STATUSES,
                           pages=max(1, -(-found["total"] // found["per_page"]))), status


@bp.post("/admin/mail/settings")
@admin_required
def save_mail_settings():
    form = request.form
    values = {k: form.get(k, "") for k in ("host", "port", "security", "username", "password", "from_addr")}
    values["clear_password"] = form.get("clear_password") == "1"
    try:
        smtp.save_settings(db(), current_actor(), values, secret_key=_secret_key())
    except NotifyInputError as exc:
        db().rollback()
        entered = {k: v for k, v in values.items() if k != "password"}
        return mail_page(422, _errors(exc), entered)
    return _done("notify.mail_page", "SMTP 设置已保存", "SMTP settings saved")


@bp.post("/admin/mail/settings/delete")
@admin_required
def delete_mail_settings():
    smtp.delete_settings(db(), current_actor())
    return _done("notify.mail_page", "已删除本公司的 SMTP 设置", "The company's SMTP settings were removed")


@bp.post("/admin/mail/test")
@admin_required
def send_test_mail():
    try:
        mail.send_test_mail(db(), current_actor(), request.form.get("to", ""))
    except (NotifyInputError, Conflict) as exc:
        return _refused("notify.mail_page", exc)
    return _done("notify.mail_page", "测试邮件已排队发送，请在下方查看状态", "Test mail queued; watch its status below")


@bp.post("/admin/mail/release")
@admin_required
def release_held_mail():
    try:
        count = mail.release_held(db(), current_actor())
    except Conflict as exc:
        return _refused("notify.mail_page", exc)
    return _done("notify.mail_page", f"已放行 {count} 封暂存邮件", f"{count} held mail(s) released")


@bp.post("/admin/mail/<int:mail_id>/resend")
@admin_required
def resend_mail(mail_id: int):
    try:
        mail.resend(db(), current_actor(), mail_id)
    except Conflict as exc:
        return _refused("notify.mail_page", exc)
    return _done("notify.mail_page", "邮件已重新排队", "Mail queued again")


# ---------------------------------------------------------------------------- robot channels

@bp.get("/admin/channels")
@admin_required
def channels_page(status: int = 200, errors: dict | None = None, entered: dict | None = None):
    actor = current_actor()
    editing = None
    if entered is None and request.args.get("edit"):
        editing = deliveries.get_channel(db(), actor, request.args["edit"])      # NotFound → 404 page
    values = entered or editing or {"kind": "wecom"}
    return render_template("notify/channels.html", channels=deliveries.list_channels(db(), actor), values=values,
                           editing=bool(editing or (entered and entered.get("existing"))), errors=errors or {},
                           kinds=list(CHANNEL_KINDS.items())), status


@bp.post("/admin/channels")
@admin_required
def save_channel():
    form, actor = request.form, current_actor()
    entered = {k: form.get(k, "").strip() for k in ("key", "kind", "name", "url")}
    entered["existing"] = form.get("existing") == "1"
    url = entered["url"]
    try:
        if not url and entered["existing"]:            # an empty URL on edit keeps the stored one
            url = channel_row(db(), actor.tenant_id, entered["key"])["url"]
        deliveries.save_channel(db(), actor, entered["key"], entered["kind"], entered["name"], url,
                                form.get("secret", ""), secret_key=_secret_key(),
                                clear_secret=form.get("clear_secret") == "1")
    except (NotifyInputError, NotFound) as exc:
        db().rollback()
        errors = _errors(exc) if isinstance(exc, NotifyInputError) else {"key": exc.message.get(current_lang())}
        return channels_page(422, errors, {**entered, "url": ""})
    return _done("notify.channels_page", "渠道已保存", "Channel saved")


@bp.post("/admin/channels/<channel_key>/delete")
@admin_required
def delete_channel(channel_key: str):
    deliveries.delete_channel(db(), current_actor(), channel_key)
    return _done("notify.channels_page", "渠道已删除", "Channel deleted")


@bp.post("/admin/channels/<channel_key>/test")
@admin_required
def test_channel(channel_key: str):
    delivery_id = deliveries.test_channel(db(), current_actor(), channel_key)
    commit()
    flash(t("测试消息已排队发送", "Test message queued"), "ok")
    return redirect(url_for("notify.delivery_page", delivery_id=delivery_id))


# ---------------------------------------------------------------------------- delivery log

@bp.get("/admin/deliveries")
@admin_required
def deliveries_page():
    state = request.args.get("status") if request.args.get("status") in L.STATUSES else None
    kind = request.args.get("kind") or None
    found = deliveries.list_deliveries(db(), current_actor(), status=state, kind=kind,
                                       page=max(1, int_arg(request.args.get("page"), 1)), per_page=PER_PAGE)
    return render_template("notify/deliveries.html", found=found, state=state, kind=kind, statuses=L.STATUSES,
                           kinds=[deliveries.WEBHOOK, *CHANNEL_KINDS.keys()],
                           pages=max(1, -(-found["total"] // found["per_page"])))


@bp.get("/admin/deliveries/<int:delivery_id>")
@admin_required
def delivery_page(delivery_id: int):
    return render_template("notify/delivery.html", item=deliveries.get_delivery(db(), current_actor(), delivery_id))


@bp.post("/admin/deliveries/<int:delivery_id>/retry")
@admin_required
def retry_delivery(delivery_id: int):
    try:
        deliveries.retry(db(), current_actor(), delivery_id)
    except Conflict as exc:
        return _refused("notify.delivery_page", exc, delivery_id=delivery_id)
    return _done("notify.delivery_page", "已重新排队投递", "Queued again", delivery_id=delivery_id)
