"""The print service on a database: context, permissions, PDF bytes and pages, batch print."""
import re
import zlib

import pytest

from engine.errors import NotFound
from engine.printing.sandbox import PrintError
from engine.services import accounts, printing
from engine.services import records as record_service
from tests.engine.flows.support import T0
from tests.engine.printing.support import (IQC_FORM, eight_d_world, iqc_data, iqc_world, print_of, signed_eight_d,
                                           signed_iqc, with_prints)

BASE = "https://qms.example.com"
PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def pdf_pages(content: bytes) -> int:
    """Page objects in a PDF, looking inside compressed object streams too (no PDF library needed)."""
    parts = [content]
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return sum(len(PAGE.findall(part)) for part in parts)


@pytest.fixture
def iqc(db_engine, actor):
    world = iqc_world(db_engine, actor, (print_of("iqc_inspection", "report"),))
    return world, signed_iqc(world)


def html_of(world, who, rid, template=None, lang="zh-CN"):
    with world.session() as s:
        return printing.record_html(s, who, "iqc_inspection", rid, template, base_url=BASE, lang=lang, now=T0)


def test_the_iqc_report_shows_display_values_subtables_history_signature_and_qr(iqc):
    world, rid = iqc
    html = html_of(world, world.admin, rid)
    assert "来料检验报告" in html and "Test company" in html and "IQC-2026-0001" in html
    assert "苏州精密五金有限公司" in html and "一般检验水平 II" in html and "拒收" in html   # option labels
    assert ">Sam<" in html                                                # user id → name
    assert "螺纹 Thread" in html and "6.080" in html and "不合格" in html   # sub-table rows, precision
    assert "D-07" in html and "严重" in html
    assert "质量工程师审核" in html and "同意退货 / return approved" in html  # history with comment
    assert "Quinn" in html and "已批准" in html and "已验证" in html         # e-signature, verified
    assert '<svg style="width:22mm' in html and "viewBox" in html          # the QR code, inline
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_english_print_and_the_default_layout(iqc):
    world, rid = iqc
    html = html_of(world, world.admin, rid, lang="en")
    assert "Incoming Inspection Report" in html and "General level II" in html and "Reject" in html
    default = html_of(world, world.admin, rid, "default", lang="en")
    assert "Incoming inspection" in default and "Unit cost" in default and "0.35" in default
    assert "Approval history" in default and "Verified" in default


def test_pdf_bytes_and_page_count(iqc):
    world, rid = iqc
    with world.session() as s:
        printed = printing.print_record(s, world.admin, "iqc_inspection", rid, base_url=BASE)
    assert printed.content.startswith(b"%PDF-") and printed.records == 1
    assert printed.pages == pdf_pages(printed.content) >= 1
    assert printed.filename == "iqc_inspection-IQC-2026-0001.pdf"


def test_read_scope_and_hidden_fields_are_enforced(iqc):
    world, rid = iqc
    t = world.admin.tenant_id
    with world.session() as s:
        accounts.set_permissions(s, t, "clerk", "form:iqc_inspection",
                                 {"create": True, "read": "own", "fields": {"unit_cost": "hidden"}})
    with pytest.raises(NotFound):                    # no permission on the form at all
        html_of(world, world["dora"], rid)
    with pytest.raises(NotFound):                    # the clerk reads own records only
        html_of(world, world["sam"], rid)
    with world.session() as s:
        mine = record_service.create_record(s, world["sam"], "iqc_inspection", iqc_data(world["sam"].user_id)).id
    html = html_of(world, world["sam"], mine, "default")
    assert "L2026-0417" in html and "单价" not in html and "0.35" not in html
    with world.session() as s:
        page = printing.print_records(s, world["sam"], "iqc_inspection", base_url=BASE)
    assert page.records == 1                         # the batch sees only the clerk's own record


def test_a_template_that_fails_at_run_time_is_a_print_error(db_engine, actor):
    broken = {"key": "broken", "label": {"zh-CN": "坏", "en": "Broken"}, "template": "{{ values.lot_size / 0 }}"}
    world = iqc_world(db_engine, actor, (broken,))
    rid = signed_iqc(world)
    with pytest.raises(PrintError) as err:
        html_of(world, world.admin, rid)
    assert "ZeroDivisionError" in err.value.message.en
    with pytest.raises(NotFound):
        html_of(world, world.admin, rid, "missing")


def test_batch_print_one_pdf_with_each_record_on_its_own_pages(iqc, monkeypatch):
    world, first = iqc
    with world.session() as s:
        for lot in ("L-2", "L-3"):
            record_service.create_record(s, world.admin, "iqc_inspection", iqc_data(world["sam"].user_id, lot_no=lot))
        one = printing.print_record(s, world.admin, "iqc_inspection", first, base_url=BASE)
        batch = printing.print_records(s, world.admin, "iqc_inspection", base_url=BASE)
        some = printing.print_records(s, world.admin, "iqc_inspection", 'lot_no = "L-3"', base_url=BASE)
    assert batch.records == 3 and batch.pages == pdf_pages(batch.content) >= 3
    assert batch.pages >= one.pages + 2 and some.records == 1
    monkeypatch.setattr(printing, "MAX_BATCH", 2)
    with world.session() as s, pytest.raises(PrintError) as err:
        printing.print_records(s, world.admin, "iqc_inspection", base_url=BASE)
    assert "3 records match; at most 2" in err.value.message.en
    with world.session() as s, pytest.raises(PrintError):
        printing.print_records(s, world.admin, "iqc_inspection", 'lot_no = "none"', base_url=BASE)


def test_the_8d_report_prints_every_discipline_with_its_fields(db_engine, actor):
    world = eight_d_world(db_engine, actor, (print_of("eight_d", "report"),))
    rid = signed_eight_d(world)
    with world.session() as s:
        html = printing.record_html(s, world.admin, "eight_d", rid, base_url=BASE, lang="zh-CN", now=T0)
        printed = printing.print_record(s, world.admin, "eight_d", rid, base_url=BASE)
    for heading in ("D0 准备与紧急响应", "D3 临时围堵措施", "D4 根本原因分析", "D8 团队祝贺与结案"):
        assert heading in html
    assert "张伟" in html and "搓丝模具磨损" in html and "Hannah Head" in html and "质量经理批准结案" in html
    assert printed.content.startswith(b"%PDF-") and printed.pages == pdf_pages(printed.content)


def test_a_form_without_prints_uses_the_default_layout(db_engine, actor):
    world = iqc_world(db_engine, actor)
    rid = signed_iqc(world)
    html = html_of(world, world.admin, rid)
    assert "来料检验单" in html and "检验项目" in html and "审批记录" in html
    assert with_prints(IQC_FORM)["prints"] == []
