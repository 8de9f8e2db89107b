"""End to end in a real browser: sign in, fill a form with a sub-table on a desktop and on a phone,
watch the formulas update live, get the field errors, fix them, save, find the record in the list,
export it to Excel and read the workbook back."""
from __future__ import annotations

import re

import openpyxl

from tests.e2e.conftest import ADMIN_EMAIL, FORM_KEY, PHONE, sign_in

try:
    from playwright.sync_api import expect
except ImportError:           # the fixtures skip (or fail in CI) with the reason
    expect = None

NOT_EMPTY = re.compile(r"\S")
DETAIL_URL = re.compile(rf"/f/{FORM_KEY}/\d+$")


def field(scope, key: str):
    """The wrapper of the field ``key`` inside ``scope`` (the page or a sub-table row)."""
    return scope.locator(f'.field[data-key="{key}"]').first


def control(scope, key: str):
    return field(scope, key).locator(".v").first


def rows(page):
    return field(page, "items").locator(".rows > .row")


def ensure_rows(page, n: int):
    """Click "add row" until the sub-table has ``n`` rows; returns the rows locator."""
    for _ in range(n + 2):
        if rows(page).count() >= n:
            break
        field(page, "items").locator(".row-add").click()
    expect(rows(page)).to_have_count(n)
    return rows(page)


def fill_with_mistakes(page, lot_no: str) -> None:
    """Lot, sample size and two defect rows — but no part number and a row without its defect."""
    control(page, "lot_no").fill(lot_no)
    control(page, "sample_size").fill("40")
    items = ensure_rows(page, 2)
    control(items.nth(0), "defect").fill("毛刺 burr")
    control(items.nth(0), "qty").fill("2")
    control(items.nth(1), "qty").fill("3")


def expect_live_formulas(page) -> None:
    """SUM(items.qty) = 5 and 5 / 40 * 100 = 12.5 appear without saving."""
    expect(control(page, "total_defects")).to_have_text(re.compile(r"^\s*5(\.0+)?\s*$"))
    expect(control(page, "defect_rate")).to_have_text(re.compile(r"^\s*12\.5\s*$"))


def save(page) -> None:
    page.locator("#record-form button[type=submit]").click()


def expect_field_errors(page) -> None:
    """Both problems are shown at their fields at once, and the page stays on the form."""
    expect(field(page, "part_no").locator(".error")).to_have_text(NOT_EMPTY)
    expect(field(rows(page).nth(1), "defect").locator(".error")).to_have_text(NOT_EMPTY)
    expect(field(page, "lot_no").locator(".error")).to_have_text("")
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.url.endswith(f"/f/{FORM_KEY}/new")


def fix_and_save(page, part_no: str) -> None:
    control(page, "part_no").fill(part_no)
    control(rows(page).nth(1), "defect").fill("划伤 scratch")
    save(page)
    page.wait_for_url(DETAIL_URL)


def find_in_list(page, lot_no: str):
    """Search the list for ``lot_no``; returns the matching table row."""
    page.goto(f"/f/{FORM_KEY}")
    page.locator('input[name="q"]').fill(lot_no)
    page.locator('input[name="q"]').press("Enter")
    row = page.locator("table.records tbody tr", has_text=lot_no)
    expect(row).to_have_count(1)
    return row


# ---------------------------------------------------------------------------- tests

def test_sign_in_rejects_a_wrong_password_then_lands_on_home(desktop, shots):
    page = desktop
    page.goto("/f/" + FORM_KEY)
    assert "/login" in page.url                                   # pages need a sign-in
    page.fill("#company", "default")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", "not-the-password")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".flash.error")).to_be_visible()
    shots(page, "01-login-error")
    sign_in(page)
    expect(page.locator("main")).to_contain_text(re.compile("进货检验|Goods-in inspection"))
    expect(page.locator(f'main a[href="/f/{FORM_KEY}/new"]')).to_be_visible()
    shots(page, "02-home")


def test_desktop_fill_errors_fix_save_find_and_export(desktop, shots, tmp_path):
    page = desktop
    sign_in(page)
    page.goto(f"/f/{FORM_KEY}/new")
    fill_with_mistakes(page, "LOT-E2E-D1")
    expect_live_formulas(page)
    shots(page, "03-desktop-formulas")
    save(page)
    expect_field_errors(page)
    shots(page, "04-desktop-field-errors")
    fix_and_save(page, "PN-100")
    expect(page.locator("body")).to_contain_text("LOT-E2E-D1")
    shots(page, "05-desktop-detail")

    row = find_in_list(page, "LOT-E2E-D1")
    expect(row).to_contain_text("PN-100")
    shots(page, "06-desktop-list")
    with page.expect_download() as download:
        page.locator('a.export[href*="export.xlsx"]').click()
    path = tmp_path / "export.xlsx"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith(".xlsx")
    check_workbook(path, "LOT-E2E-D1", {"part_no": "PN-100", "sample_size": 40, "total_defects": 5})


def test_phone_fill_errors_fix_save_and_find(phone, shots):
    page = phone
    sign_in(page)
    page.goto(f"/f/{FORM_KEY}/new")
    assert page.viewport_size == PHONE
    fill_with_mistakes(page, "LOT-E2E-P1")
    expect_live_formulas(page)
    no_sideways_scrolling(page)
    shots(page, "07-phone-form")
    save(page)
    expect_field_errors(page)
    shots(page, "08-phone-field-errors")
    box = page.locator("#record-form button[type=submit]").bounding_box()
    assert box and box["height"] >= 44, f"save button is {box} — too small to tap"
    fix_and_save(page, "PN-200")
    no_sideways_scrolling(page)
    shots(page, "09-phone-detail")
    find_in_list(page, "LOT-E2E-P1")
    no_sideways_scrolling(page)
    shots(page, "10-phone-list")


# ---------------------------------------------------------------------------- checks

def no_sideways_scrolling(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page is {width}px wide on a {PHONE['width']}px screen"


def check_workbook(path, lot_no: str, expected: dict) -> None:
    """The exported sheet has a row for ``lot_no`` with the expected values (columns found by key or label)."""
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(table) if any(_is_column(c, "lot_no") for c in r))
    header = table[header_at]
    col = {key: next(i for i, c in enumerate(header) if _is_column(c, key))
           for key in ["lot_no", *expected]}
    found = [r for r in table[header_at + 1:] if r[col["lot_no"]] == lot_no]
    assert len(found) == 1, f"{lot_no} not exactly once in the export: {table}"
    for key, want in expected.items():
        got = found[0][col[key]]
        assert got == want or str(got) == str(want), f"{key}: {got!r} != {want!r}"


LABELS = {"lot_no": ("批号", "Lot number"), "part_no": ("物料编码", "Part number"),
          "sample_size": ("样本量", "Sample size"), "total_defects": ("不良总数", "Total defects")}


def _is_column(cell, key: str) -> bool:
    if not isinstance(cell, str):
        return False
    text = cell.strip()
    return text == key or text in LABELS.get(key, ()) or text.endswith(f"({key})") or text.startswith(f"{key} ")
