"""Three-way merge of app packages (pure): base = as installed, mine = the tenant's app now,
theirs = the template's new version."""
import copy

from engine.services.app_merge import merge_packages

L = lambda zh, en: {"zh-CN": zh, "en": en}  # noqa: E731

NCR = {"format": 1, "key": "ncr", "label": L("不合格品报告", "Nonconformance report"), "fields": [
    {"key": "lot_no", "type": "text", "label": L("批号", "Lot number"), "required": True},
    {"key": "qty_nc", "type": "number", "label": L("不合格数", "Nonconforming qty"), "precision": 0},
    {"key": "disposition", "type": "select", "label": L("处置", "Disposition"), "choices": [
        {"code": "scrap", "label": L("报废", "Scrap")},
        {"code": "rework", "label": L("返工", "Rework")}]},
    {"key": "items", "type": "subtable", "label": L("缺陷明细", "Defects"), "fields": [
        {"key": "code", "type": "text", "label": L("缺陷代码", "Defect code")},
        {"key": "qty", "type": "number", "label": L("数量", "Qty"), "precision": 0}]}]}
RULE = {"format": 1, "key": "ncr_notify", "label": L("NCR 通知", "NCR notice"), "form": "ncr",
        "trigger": {"type": "record_created"},
        "actions": [{"type": "notify", "to": {"roles": ["quality_manager"]}, "subject": "NCR {{ lot_no }}"}]}


def package(version="1.0.0", forms=None, rules=None) -> dict:
    pkg = {"format": 1, "key": "ncr", "version": version, "label": L("不合格品", "Nonconformance"),
           "forms": copy.deepcopy(forms if forms is not None else [NCR])}
    if rules is not None:
        pkg["rules"] = copy.deepcopy(rules)
    return pkg


def fields(pkg, *path) -> list:
    items = pkg["forms"][0]["fields"]
    for key in path:
        items = next(f for f in items if f["key"] == key)["fields"]
    return items


def field(pkg, key, *path) -> dict:
    return next(f for f in fields(pkg, *path) if f["key"] == key)


def test_nothing_changed_is_no_change():
    result = merge_packages(package(), package(), package())
    assert result.package == package() and result.changes == () and result.conflicts == ()


def test_first_install_adds_everything():
    result = merge_packages(None, None, package())
    assert result.package == package() and result.conflicts == ()
    assert ("form", "ncr", "forms[ncr]", "add") in [(c.kind, c.key, c.path, c.action) for c in result.changes]


def test_a_field_the_tenant_added_is_kept_in_its_position_and_template_fields_are_placed():
    mine = package()
    fields(mine).insert(1, {"key": "supplier_lot", "type": "text", "label": L("供方批号", "Supplier lot")})
    theirs = package("1.1.0")
    fields(theirs).insert(2, {"key": "found_at", "type": "date", "label": L("发现日期", "Found on")})
    result = merge_packages(package(), mine, theirs)
    assert [f["key"] for f in fields(result.package)] == ["lot_no", "supplier_lot", "qty_nc", "found_at",
                                                          "disposition", "items"]
    added = [c for c in result.changes if c.action == "add"]
    assert [(c.kind, c.path) for c in added] == [("field", "forms[ncr].fields[found_at]")]
    assert "found_at" in added[0].description.en and "found_at" in added[0].description.zh
    assert result.package["version"] == "1.1.0" and not result.conflicts


def test_a_tenant_label_change_is_kept_and_a_template_label_change_is_applied():
    mine, theirs = package(), package("1.1.0")
    field(mine, "lot_no")["label"]["zh-CN"] = "生产批号"                 # the tenant's own wording
    field(theirs, "qty_nc")["label"]["en"] = "Qty nonconforming"         # the template's new wording
    field(theirs, "lot_no")["label"]["en"] = "Lot no."                   # other language: no conflict
    result = merge_packages(package(), mine, theirs)
    assert field(result.package, "lot_no")["label"] == {"zh-CN": "生产批号", "en": "Lot no."}
    assert field(result.package, "qty_nc")["label"]["en"] == "Qty nonconforming"
    change = next(c for c in result.changes if c.path == "forms[ncr].fields[qty_nc].label.en")
    assert (change.action, change.before, change.after) == ("update", "Nonconforming qty", "Qty nonconforming")
    assert not result.conflicts


def test_both_changed_the_same_property_is_a_conflict_with_both_resolutions():
    mine, theirs = package(), package("1.1.0")
    field(mine, "lot_no")["label"]["en"] = "Batch"
    field(theirs, "lot_no")["label"]["en"] = "Lot no."
    result = merge_packages(package(), mine, theirs)
    [conflict] = result.conflicts
    assert (conflict.id, conflict.base, conflict.mine, conflict.theirs, conflict.default, conflict.chosen) == (
        "forms[ncr].fields[lot_no].label.en", "Lot number", "Batch", "Lot no.", "mine", "mine")
    assert field(result.package, "lot_no")["label"]["en"] == "Batch"
    assert conflict.to_dict("en")["description"] and conflict.to_dict("zh-CN")["description"]
    taken = merge_packages(package(), mine, theirs, {conflict.id: "theirs"})
    assert field(taken.package, "lot_no")["label"]["en"] == "Lot no." and taken.conflicts[0].chosen == "theirs"
    assert any(c.path == conflict.id and c.after == "Lot no." for c in taken.changes)


def test_a_field_the_template_removed_is_kept_and_listed():
    theirs = package("2.0.0")
    theirs["forms"][0]["fields"] = [f for f in fields(theirs) if f["key"] != "qty_nc"]
    result = merge_packages(package(), package(), theirs)
    assert [f["key"] for f in fields(result.package)] == ["lot_no", "qty_nc", "disposition", "items"]
    [kept] = [c for c in result.changes if c.action == "keep"]
    assert (kept.kind, kept.path) == ("field", "forms[ncr].fields[qty_nc]")
    assert "kept" in kept.description.en and "保留" in kept.description.zh


def test_choices_merge_by_code():
    mine, theirs = package(), package("1.1.0")
    field(mine, "disposition")["choices"].append({"code": "concession", "label": L("让步接收", "Concession")})
    field(mine, "disposition")["choices"][0]["label"]["zh-CN"] = "报废处理"
    field(theirs, "disposition")["choices"].insert(1, {"code": "return", "label": L("退货", "Return to supplier")})
    field(theirs, "disposition")["choices"][1 + 1]["label"]["en"] = "Rework (in house)"
    result = merge_packages(package(), mine, theirs)
    choices = field(result.package, "disposition")["choices"]
    assert [c["code"] for c in choices] == ["scrap", "return", "rework", "concession"]
    assert choices[0]["label"] == L("报废处理", "Scrap") and choices[2]["label"]["en"] == "Rework (in house)"
    assert not result.conflicts


def test_sub_table_fields_merge_recursively():
    mine, theirs = package(), package("1.1.0")
    fields(mine, "items").append({"key": "photo", "type": "image", "label": L("照片", "Photo")})
    field(theirs, "qty", "items")["precision"] = 2
    fields(theirs, "items").insert(0, {"key": "defect_class", "type": "select", "label": L("缺陷等级", "Class"),
                                       "choices": [{"code": "MA", "label": L("主要", "Major")}]})
    result = merge_packages(package(), mine, theirs)
    assert [f["key"] for f in fields(result.package, "items")] == ["defect_class", "code", "qty", "photo"]
    assert field(result.package, "qty", "items")["precision"] == 2
    assert {c.path for c in result.changes} == {"forms[ncr].fields[items].fields[defect_class]",
                                                 "forms[ncr].fields[items].fields[qty].precision", "version"}


def test_a_field_the_tenant_removed_stays_removed_unless_the_template_changed_it():
    mine = package()
    mine["forms"][0]["fields"] = [f for f in fields(mine) if f["key"] != "qty_nc"]
    assert "qty_nc" not in [f["key"] for f in fields(merge_packages(package(), mine, package("1.1.0")).package)]
    theirs = package("1.1.0")
    field(theirs, "qty_nc")["required"] = True
    result = merge_packages(package(), mine, theirs)
    assert [c.id for c in result.conflicts] == ["forms[ncr].fields[qty_nc]"] and result.conflicts[0].to_dict()["mine_absent"]
    assert "qty_nc" in [f["key"] for f in fields(merge_packages(package(), mine, theirs,
                                                                {"forms[ncr].fields[qty_nc]": "theirs"}).package)]


def test_rules_merge_whole_and_a_rule_the_tenant_disabled_stays_disabled():
    mine = package(rules=[dict(RULE, enabled=False)])
    theirs = package("1.1.0", rules=[dict(RULE, condition="qty_nc > 0")])
    result = merge_packages(package(rules=[RULE]), mine, theirs)
    [rule] = result.package["rules"]
    assert rule["condition"] == "qty_nc > 0" and rule["enabled"] is False and not result.conflicts
    assert any(c.kind == "rule" and c.action == "update" for c in result.changes)


def test_whole_definitions_follow_who_changed_them():
    changed = dict(RULE, label=L("NCR 提醒", "NCR reminder"))
    kept = merge_packages(package(rules=[RULE]), package(rules=[changed]), package("1.1.0", rules=[RULE]))
    assert kept.package["rules"] == [changed] and not kept.changes[1:]
    taken = merge_packages(package(rules=[RULE]), package(rules=[RULE]), package("1.1.0", rules=[changed]))
    assert taken.package["rules"] == [changed]
    other = dict(RULE, condition="qty_nc > 10")
    both = merge_packages(package(rules=[RULE]), package(rules=[changed]), package("1.1.0", rules=[other]))
    assert [c.id for c in both.conflicts] == ["rules[ncr_notify]"] and both.package["rules"] == [changed]
    assert merge_packages(package(rules=[RULE]), package(rules=[changed]), package("1.1.0", rules=[other]),
                          {"rules[ncr_notify]": "theirs"}).package["rules"] == [other]


def test_a_rule_the_template_dropped_is_kept_and_listed():
    result = merge_packages(package(rules=[RULE]), package(rules=[RULE]), package("1.1.0", rules=[]))
    assert result.package["rules"] == [RULE]
    assert [(c.kind, c.action) for c in result.changes if c.kind == "rule"] == [("rule", "keep")]


def test_inputs_are_not_changed():
    base, mine, theirs = package(), package(), package("1.1.0")
    field(theirs, "lot_no")["label"]["en"] = "Lot no."
    snapshot = copy.deepcopy((base, mine, theirs))
    result = merge_packages(base, mine, theirs)
    field(result.package, "lot_no")["label"]["en"] = "changed"
    assert (base, mine, theirs) == snapshot
