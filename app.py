"""The QMS platform's web app: ``create_app()`` is the one place where web, engine, database,
auth and jobs meet.

``python app.py`` (or ``qms serve``) prepares the database on first start (migrations, default
tenant, first admin), prints the URL and login, and serves on HOST:PORT.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Mapping

import click
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from engine.services.bootstrap import SetupResult, ensure_initial_setup
from engine.settings import Settings, load_settings
from engine.storage.db import make_engine, session_scope, upgrade_database
from runtime.cli import register_commands


def _settings_for(test_config: Mapping[str, Any] | None) -> Settings:
    """Environment variables, overridden by upper-case string keys of ``test_config``."""
    env = dict(os.environ)
    for key, value in (test_config or {}).items():
        if key.isupper() and isinstance(value, str):
            env[key] = value
    return load_settings(env)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``test_config`` overrides settings (tests pass a temp database)."""
    settings = _settings_for(test_config)
    app = Flask(__name__, static_folder="runtime/static", template_folder="runtime/templates")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        QMS_SETTINGS=settings,
        AUTO_MIGRATE=True,
        JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)
    db = make_engine(app.config["DATABASE_URL"])
    app.extensions["qms_db"] = db
    from engine.jobs import queue
    queue.configure(app.config.get("REDIS_URL"))      # rq with Redis, else this process's job pool
    if app.config["AUTO_MIGRATE"]:
        upgrade_database(db)
    _register_web(app)
    return app


def _register_web(app: Flask) -> None:
    from runtime import (accounts, api, apps_admin, auth, db, entry, errors, health, home, i18n, notify, portal, records,
                         reports,
                         printing, rules_admin, security, tasks, trace)

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)     # headers (CSP…), secure cookies behind TLS, the request body cap
    auth.init_app(app)
    errors.register_error_handlers(app)
    app.context_processor(lambda: {"actor": auth.current_actor()})
    for blueprint in (health.bp, accounts.bp, home.bp, api.bp, records.bp, entry.bp, tasks.bp, notify.bp,
                      rules_admin.bp, reports.bp, trace.bp, printing.bp,
                      apps_admin.bp):
        app.register_blueprint(blueprint)
    portal.init_app(app)       # the supplier portal: its pages, and portal users kept on them
    import designer
    designer.init_app(app)     # the drag-and-drop designer (/designer)
    from runtime import audit_admin
    audit_admin.init_app(app)  # /admin/audit: verification of the tenant's audit chain


def prepare_first_start(db: Engine, settings: Settings) -> SetupResult:
    """Default tenant and admin when the database is new; safe when several processes race."""
    try:
        with session_scope(db) as session:
            return ensure_initial_setup(session, settings.admin_email, settings.admin_password)
    except IntegrityError:  # another process created them a moment ago
        with session_scope(db) as session:
            return ensure_initial_setup(session, settings.admin_email, settings.admin_password)


def install_shipped_apps(db: Engine, settings: Settings, result: SetupResult) -> None:
    """On a new database with ``QMS_DEMO=1``: import the QMS apps of templates_qms/ into the new
    tenant (one transaction: all of them or none, with the reason printed)."""
    if not (result.created and settings.demo):
        return
    import time

    from engine.errors import QMSError
    from engine.types import Actor
    from templates_qms.catalog import install_all
    started = time.perf_counter()
    try:
        with session_scope(db) as session:
            installed = install_all(session, Actor.system(result.tenant_id))
    except QMSError as exc:
        print(f"  Could not import the QMS apps / QMS 应用导入失败: {exc}", flush=True)
        return
    print(f"  Imported {len(installed)} QMS apps / 已导入 {len(installed)} 个质量应用 "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    _generate_demo(db, settings, result)


def _generate_demo(db: Engine, settings: Settings, result: SetupResult) -> None:
    """A year of demo plant life in the new tenant (``QMS_DEMO_SIZE``), through the engine."""
    from engine.errors import QMSError
    from templates_qms.demo import generate
    size: str | int = int(settings.demo_size) if settings.demo_size.isdigit() else settings.demo_size
    print(f"  Generating demo data ({settings.demo_size}) / 正在生成演示数据…", flush=True)
    try:
        summary = generate(db, result.tenant_id, size, uploads_dir=settings.uploads_dir)
    except (QMSError, ValueError) as exc:
        print(f"  Demo data not generated / 未生成演示数据: {exc}", flush=True)
        return
    print(f"  Demo data / 演示数据: {summary['seconds']} s; demo users' password / 演示用户密码: "
          f"{summary['users']['password']}", flush=True)


def _print_welcome(settings: Settings, result: SetupResult) -> None:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    print(f"\n  QMS is running at http://{host}:{settings.port}/", flush=True)
    if result.admin_password:
        print(f"  First start: admin login {result.admin_email} / {result.admin_password}"
              "  (shown once; change it after logging in)", flush=True)
    elif result.admin_email:
        print(f"  Admin login: {result.admin_email}", flush=True)
    print(f"  Database: {settings.database_url.split('@')[-1]}\n", flush=True)


def main() -> None:
    """``python app.py``: prepare the database, print URL and login, serve."""
    app = create_app()
    settings: Settings = app.config["QMS_SETTINGS"]
    result = prepare_first_start(app.extensions["qms_db"], settings)
    install_shipped_apps(app.extensions["qms_db"], settings, result)
    _print_welcome(settings, result)
    if not settings.redis_url:     # with Redis, `qms worker` processes run the jobs
        from engine.jobs.worker import start_in_process_thread
        start_in_process_thread(app.config["DATABASE_URL"])
    # Under the `qms` CLI, Flask marks the environment and app.run() would return at once
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)


cli = FlaskGroup(create_app=create_app, add_default_commands=True,
                 help="QMS platform administration. Run 'qms serve' to start the web app.")
register_commands(cli)


@cli.command("serve")
def serve_command() -> None:
    """Prepare the database, print the URL and login, and serve (like python app.py)."""
    main()


@cli.command("init")
def init_command() -> None:
    """Run the migrations and create the default tenant and admin (idempotent)."""
    app = create_app()
    result = prepare_first_start(app.extensions["qms_db"], app.config["QMS_SETTINGS"])
    install_shipped_apps(app.extensions["qms_db"], app.config["QMS_SETTINGS"], result)
    if result.created:
        click.echo(f"Created tenant {result.tenant_id} and admin {result.admin_email}"
                   + (f" / {result.admin_password}" if result.admin_password else ""))
    else:
        click.echo("Database is up to date; nothing to create.")


def cli_main() -> None:
    """Entry point of the ``qms`` console command."""
    cli(prog_name="qms")


if __name__ == "__main__":
    sys.exit(main())
