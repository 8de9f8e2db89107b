"""Browser tests: a real ``python app.py`` server and the system chromium driven by Playwright.

The session starts the server on a free port with a temporary data directory, signs in through
``POST /api/v1/auth/token`` and imports a small inspection app (a sub-table and formulas)
through ``POST /api/v1/apps/import`` — the same routes an integrator uses.

Without the ``playwright`` package or a chromium binary the tests are skipped with the reason;
in CI (``CI=true``) they fail instead, so a broken browser setup never passes silently.
Screenshots go to ``tests/e2e/screenshots/`` (ignored by git).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("QMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ADMIN_EMAIL = "qe@e2e.example"
ADMIN_PASSWORD = "e2e-admin-pass-1"
COMPANY = "default"
FORM_KEY = "e2e_inspection"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def _label(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


INSPECTION_FORM = {
    "format": 1, "key": FORM_KEY, "label": _label("进货检验", "Goods-in inspection"),
    "numbering": "GI-{YYYY}-{0000}", "title_template": "{lot_no} {part_no}",
    "fields": [
        {"key": "lot_no", "type": "text", "label": _label("批号", "Lot number"), "required": True,
         "indexed": True, "help": _label("按送货单填写", "As on the delivery note")},
        {"key": "part_no", "type": "text", "label": _label("物料编码", "Part number"), "required": True},
        {"key": "sample_size", "type": "number", "label": _label("样本量", "Sample size"), "precision": 0,
         "required": True, "min": 1},
        {"key": "items", "type": "subtable", "label": _label("缺陷明细", "Defects"), "fields": [
            {"key": "defect", "type": "text", "label": _label("缺陷", "Defect"), "required": True},
            {"key": "qty", "type": "number", "label": _label("数量", "Quantity"), "precision": 0,
             "required": True, "min": 0},
        ]},
        {"key": "total_defects", "type": "formula", "label": _label("不良总数", "Total defects"),
         "formula": "SUM(items.qty)", "precision": 0},
        {"key": "defect_rate", "type": "formula", "label": _label("不良率 %", "Defect rate %"),
         "formula": "ROUND(total_defects / sample_size * 100, 1)", "precision": 1},
    ],
}

APP_PACKAGE = {"format": 1, "key": "e2e", "version": "1.0.0", "label": _label("端到端测试", "End-to-end test"),
               "forms": [INSPECTION_FORM]}


# ---------------------------------------------------------------------------- availability

def browser_problem() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no chromium at {CHROMIUM} (apt-get install chromium, or set QMS_CHROMIUM)"
    return None


def require_browser() -> None:
    """Skip with the reason when the browser setup is missing — but fail in CI."""
    problem = browser_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}")


# ---------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    """A JSON call to the running server: (status, body)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def page_api(page, method: str, url: str, body=None) -> dict:
    """A same-origin JSON call from the signed-in page (session cookie and CSRF header)."""
    return page.evaluate("""async ([method, url, body]) => {
        const token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
        const res = await fetch(url, {method, credentials: "same-origin",
            headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
            body: body === null ? undefined : JSON.stringify(body)});
        let data = null; try { data = await res.json(); } catch (e) {}
        return {status: res.status, data};
    }""", [method, url, body])


class LiveServer:
    """``python app.py`` in a subprocess; ``url`` is its base URL, ``token`` an admin API token."""

    def __init__(self, data_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        env = {**os.environ, "QMS_DATA_DIR": str(data_dir), "HOST": "127.0.0.1", "PORT": str(self.port),
               "QMS_ADMIN_EMAIL": ADMIN_EMAIL, "QMS_ADMIN_PASSWORD": ADMIN_PASSWORD, "QMS_DEMO": "0",
               "SECRET_KEY": "e2e-secret"}
        env.pop("DATABASE_URL", None)
        env.pop("FLASK_RUN_FROM_CLI", None)     # set by an earlier in-process CLI run; app.run() would not serve
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=data_dir, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        self.token = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_until_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"python app.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                status, body = api(self.url, "GET", "/api/v1/health")
                if status == 200 and body.get("status") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"python app.py did not answer within {timeout} s:\n{self.log()}")

    def publish(self) -> None:
        status, body = api(self.url, "POST", "/api/v1/auth/token",
                           {"company": COMPANY, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "name": "e2e"})
        assert status == 200, f"token: {status} {body}\n{self.log()}"
        self.token = body["token"]
        status, body = api(self.url, "POST", "/api/v1/apps/import", APP_PACKAGE, self.token)
        assert status == 201, f"app import: {status} {body}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    require_browser()
    server = LiveServer(tmp_path_factory.mktemp("e2e-data"))
    try:
        server.wait_until_healthy()
        server.publish()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------- the browser

@pytest.fixture(scope="session")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser, live_server, phone: bool):
    options = {"base_url": live_server.url, "accept_downloads": True, "locale": "zh-CN"}
    if phone:
        options.update(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    else:
        options.update(viewport=DESKTOP)
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture()
def desktop(browser, live_server):
    """A fresh desktop page (not signed in)."""
    context = _context(browser, live_server, phone=False)
    yield context.new_page()
    context.close()


@pytest.fixture()
def phone(browser, live_server):
    """A fresh page on a 375×812 touch screen (not signed in)."""
    context = _context(browser, live_server, phone=True)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def shots():
    """``shots(page, "name")`` saves tests/e2e/screenshots/name.png (full page)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login page and wait until it leaves /login."""
    page.goto("/login")
    company = page.locator("#company")
    if company.count() and not company.input_value():
        company.fill(COMPANY)
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
