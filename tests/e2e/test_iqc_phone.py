"""An inspector fills an incoming inspection on a phone; the QE signs the rejection; the NCR reaches
the QE's inbox — the shipped QMS apps on a real ``python app.py`` server and chromium.

The server gets the 13 QMS apps through ``POST /api/v1/apps/import`` (as an integrator would);
the people are created in its database through the account service, as ``qms create-user`` does.
Screenshots go to ``/tmp/iqc_phone_*.png`` (a phone is 390×844); every page is checked for
horizontal scrolling, the usual way a phone layout breaks.
"""
from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from engine.services import accounts
from engine.storage.db import make_engine, session_scope
from templates_qms.catalog import keys, load_package
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer, api, require_browser, sign_in

PASSWORD = "phone-pass-2026"
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp")
# a 2×2 red PNG: the "photo" of the defect (the camera is not reachable in headless chromium)
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")
PEOPLE = {"ivan": "inspector", "quinn": "quality_engineer", "mary": "quality_manager"}


class Plant:
    """The server with the QMS apps, its people's e-mails and the master data the inspector picks."""

    def __init__(self, server: LiveServer, data_dir: Path):
        self.server, self.data_dir = server, data_dir
        self.emails = {name: f"{name}@phone.example.cn" for name in PEOPLE}
        self.ids: dict[str, int] = {}

    def call(self, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
        status, reply = api(self.server.url, method, path, body, self.server.token)
        assert status == expect, f"{method} {path}: {status} {reply}\n{self.server.log()}"
        return reply

    def install(self) -> None:
        for key in keys():
            self.call("POST", "/api/v1/apps/import", load_package(key), expect=201)

    def add_people(self) -> None:
        engine = make_engine(f"sqlite:///{self.data_dir / 'qms.sqlite3'}")
        try:
            with session_scope(engine) as s:
                for name, role in PEOPLE.items():
                    self.ids[name] = accounts.create_user(s, 1, self.emails[name], name.title(), PASSWORD,
                                                          roles=[role], lang="zh-CN")
        finally:
            engine.dispose()

    def master_data(self) -> None:
        supplier = self.call("POST", "/api/v1/forms/supplier/records", {"data": {
            "code": "S-PH1", "name": "宁波精密铸造有限公司", "supplier_status": "qualified", "approved_on": "2025-06-01",
            "quality_contact": self.ids["quinn"]}}, expect=201)
        part = self.call("POST", "/api/v1/forms/part/records", {"data": {
            "part_no": "P-PH100", "name": "泵壳铸件", "unit": "pcs", "drawing_rev": "C", "supplier": supplier["id"]}},
            expect=201)
        self.ids.update(supplier=supplier["id"], part=part["id"])

    def find(self, form: str, filter: str) -> list[dict]:
        from urllib.parse import quote
        return self.call("GET", f"/api/v1/forms/{form}/records?filter={quote(filter)}")["items"]

    def eventually(self, check, what: str, timeout: float = 20):
        """Rules run on the server's own job threads: poll until ``check()`` is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.3)
        raise AssertionError(f"not within {timeout} s: {what}\n{self.server.log()}")


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    require_browser()
    data_dir = tmp_path_factory.mktemp("iqc-phone")
    server = LiveServer(data_dir)
    try:
        server.wait_until_healthy()
        status, body = api(server.url, "POST", "/api/v1/auth/token", {"company": "default", "email": ADMIN_EMAIL,
                                                                      "password": ADMIN_PASSWORD, "name": "phone"})
        assert status == 200, body
        server.token = body["token"]
        p = Plant(server, data_dir)
        p.install()
        p.add_people()
        p.master_data()
        yield p
    finally:
        server.stop()


def phone_page(browser, plant: Plant):
    context = browser.new_context(base_url=plant.server.url, viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN")
    context.set_default_timeout(15_000)
    return context, context.new_page()


def layout_problems(page) -> list[str]:
    """What breaks the phone layout: the page scrolls sideways, or visible elements stick out."""
    return page.evaluate("""() => {
      const out = [], width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > width + 1)
        out.push(`page scrolls sideways: ${document.documentElement.scrollWidth}px > ${width}px`);
      for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect(), style = getComputedStyle(el);
        if (!r.width || style.visibility === "hidden" || el.closest("dialog:not([open]), template, [hidden]")) continue;
        let clipped = false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
          if (getComputedStyle(a).overflowX !== "visible") { clipped = true; break; }
        if (!clipped && (r.right > width + 1 || r.left < -1))
          out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} spans ${Math.round(r.left)}..${Math.round(r.right)}px`);
      }
      return out.slice(0, 15);
    }""")


def shot(page, name: str, problems: dict) -> None:
    page.screenshot(path=str(SHOTS / f"iqc_phone_{name}.png"), full_page=True)
    found = layout_problems(page)
    if found:
        problems[name] = found


def field(page, key: str):
    return page.locator(f"#record-form .fields > .field[data-key='{key}']")


def fill_inspection(page, plant: Plant) -> None:
    """The inspector's entries: pickers, lot, one measured characteristic (NG), one defect line, a photo."""
    field(page, "supplier").locator("select.ref-select").select_option(str(plant.ids["supplier"]))
    field(page, "part").locator("select.ref-select").select_option(str(plant.ids["part"]))
    field(page, "lot_no").locator("input.v").fill("PH-LOT-001")
    field(page, "lot_size").locator("input.v").fill("1000")
    field(page, "po_no").locator("input.v").fill("PO-4501")
    field(page, "received_on").locator("input.v").fill(time.strftime("%Y-%m-%d"))
    chars = field(page, "characteristics")
    chars.locator("button.row-add").click()
    row = chars.locator(".rows .row").last
    row.locator(".field[data-key='name'] input.v").fill("内孔直径 Ø12")
    row.locator(".field[data-key='lsl'] input.v").fill("11.95")
    row.locator(".field[data-key='usl'] input.v").fill("12.05")
    row.locator(".field[data-key='value'] input.v").fill("12.09")
    defects = field(page, "defects")
    defects.locator("button.row-add").click()
    row = defects.locator(".rows .row").last
    row.locator(".field[data-key='code'] select.v").select_option("dimension")
    row.locator(".field[data-key='description'] input.v").fill("内孔超差 0.04")
    row.locator(".field[data-key='defect_class'] select.v").select_option("MA")
    row.locator(".field[data-key='qty'] input.v").fill("4")
    field(page, "disposition").locator("select.v").select_option("return_to_supplier")
    photos = field(page, "photos")
    photos.locator("input.file-input").set_input_files({"name": "defect.png", "mimeType": "image/png", "buffer": PNG})
    photos.locator(".file-list li").first.wait_for()


def approve_with_signature(page, password: str, problems: dict | None = None) -> None:
    """Approve the open task page, re-entering the password for the e-signature."""
    page.locator(".action-bar button[data-open='dlg-approve']").click()
    if problems is not None:
        shot(page, "06_signature_dialog", problems)
    page.fill("#approve-password", password)
    page.locator("#approve-form button[type=submit]").click()
    page.wait_for_load_state()


def inspector_submits(browser, plant: Plant, problems: dict) -> None:
    """The inspector fills and saves the new inspection on the phone; the live plan is checked on the way."""
    from playwright.sync_api import expect        # here: without playwright the module is skipped, not broken
    context, page = phone_page(browser, plant)
    try:
        sign_in(page, plant.emails["ivan"], PASSWORD)
        page.goto("/f/iqc_inspection/new")
        shot(page, "01_new_form", problems)
        fill_inspection(page, plant)
        field(page, "remarks").locator("textarea.v").click()          # leave the last input, as a thumb would
        # the plan and the decision are computed live while the inspector types
        expect(field(page, "sample_size").locator("output.v")).to_have_text("80")
        expect(field(page, "result").locator("output.v")).to_contain_text("拒收")   # the formula's code shown by its label
        shot(page, "02_filled", problems)
        page.locator("#record-form button.save").click()
        page.wait_for_url(lambda url: "/new" not in url)
        # the record page is checked on its own (test_the_saved_inspection_reads_on_a_phone)
        page.screenshot(path=str(SHOTS / "iqc_phone_03_saved.png"), full_page=True)
    finally:
        context.close()


def signs_from_inbox(browser, plant: Plant, who: str, title: str, problems: dict | None = None) -> None:
    """``who`` opens the task titled ``title`` from their inbox and approves it with the e-signature."""
    context, page = phone_page(browser, plant)
    try:
        sign_in(page, plant.emails[who], PASSWORD)
        page.goto("/tasks")
        if problems is not None:
            shot(page, "04_qe_inbox", problems)
        page.locator("a.task-main", has_text=title).click()
        if problems is not None:
            shot(page, "05_qe_task", problems)
        approve_with_signature(page, PASSWORD, problems)
    finally:
        context.close()


def test_inspector_fills_an_iqc_on_a_phone_and_the_qe_signs_the_rejection(browser, plant):
    problems: dict[str, list[str]] = {}
    inspector_submits(browser, plant, problems)
    [record] = plant.find("iqc_inspection", 'lot_no = "PH-LOT-001"')
    data = record["data"]
    assert (data["sample_size"], data["re_major"], data["ma_qty"], data["result"]) == (80, 3, 4, "reject")
    assert data["characteristics"][0]["result"] == "NG" and len(data["photos"]) == 1
    assert data["inspector"] == plant.ids["ivan"]

    signs_from_inbox(browser, plant, "quinn", data["inspection_no"], problems)
    plant.eventually(lambda: plant.find("material_lot", 'lot_no = "PH-LOT-001" AND lot_status = "frozen"'),
                     "the rejected lot is frozen")
    # the rejection is final once the quality manager signs it too (iqc_review: qm_review); then the NCR opens
    signs_from_inbox(browser, plant, "mary", data["inspection_no"])
    [ncr] = plant.eventually(lambda: plant.find("ncr", f"iqc = {record['id']}"), "the NCR is opened")
    assert ncr["data"]["qty_nc"] == 4 and ncr["data"]["supplier"] == plant.ids["supplier"]

    context, page = phone_page(browser, plant)
    try:
        sign_in(page, plant.emails["quinn"], PASSWORD)

        def ncr_in_inbox():
            page.goto("/tasks")
            return page.locator("a.task-main", has_text=ncr["data"]["ncr_no"]).count()
        plant.eventually(ncr_in_inbox, "the NCR task reaches the QE's inbox")
        shot(page, "07_qe_inbox_ncr", problems)
    finally:
        context.close()
    assert not problems, f"phone layout problems (screenshots in /tmp/iqc_phone_*.png): {problems}"


def test_the_saved_inspection_reads_on_a_phone(browser, plant):
    record = plant.call("POST", "/api/v1/forms/iqc_inspection/records", {"data": {
        "supplier": plant.ids["supplier"], "part": plant.ids["part"], "lot_no": "PH-LOT-002", "lot_size": 500,
        "received_on": time.strftime("%Y-%m-%d"), "inspector": plant.ids["ivan"],
        "characteristics": [{"name": "外径 Ø40", "lsl": 39.9, "usl": 40.1, "value": 40.02, "v2": 39.98}]}}, expect=201)
    context, page = phone_page(browser, plant)
    try:
        sign_in(page, plant.emails["ivan"], PASSWORD)
        page.goto(f"/f/iqc_inspection/{record['id']}")
        page.screenshot(path=str(SHOTS / "iqc_phone_08_record_page.png"), full_page=True)
        assert layout_problems(page) == []
    finally:
        context.close()
