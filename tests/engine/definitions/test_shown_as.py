"""A lookup shows its value the way its target field does (a user's name, an option's label)."""
from __future__ import annotations

from engine.definitions import load_app
from engine.printing.values import display

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731

PACKAGE = {"format": 1, "key": "demo", "version": "1.0.0", "label": L("演示", "Demo"), "forms": [
    {"format": 1, "key": "vendor", "label": L("供应商", "Vendor"), "fields": [
        {"key": "contact", "type": "user", "label": L("联系人", "Contact")},
        {"key": "grade", "type": "select", "label": L("等级", "Grade"),
         "choices": [{"code": "A", "label": L("优秀", "Excellent")}]}]},
    {"format": 1, "key": "claim", "label": L("索赔", "Claim"), "fields": [
        {"key": "vendor", "type": "reference", "label": L("供应商", "Vendor"), "form": "vendor"},
        {"key": "vendor_contact", "type": "lookup", "label": L("联系人", "Contact"), "reference": "vendor",
         "field": "contact"},
        {"key": "vendor_grade", "type": "lookup", "label": L("等级", "Grade"), "reference": "vendor", "field": "grade"}]}]}


class _Names:
    users = {7: "王工"}
    departments: dict = {}
    titles: dict = {}


def test_a_lookup_is_shown_as_its_target_field():
    claim = load_app(PACKAGE).form("claim")
    contact, grade = claim.field("vendor_contact"), claim.field("vendor_grade")
    assert contact.shown_as().type == "user" and grade.shown_as().type == "select"
    assert claim.field("vendor").shown_as() is claim.field("vendor")
    assert display(contact, 7, _Names(), "zh-CN") == "王工"
    assert display(grade, "A", _Names(), "en") == "Excellent"
