"""Readable text for design diffs: property names and values in the user's language.

Shared by :mod:`engine.services.design_diff` (forms) and :mod:`engine.services.design_diff_defs`
(flows, rules, reports, dashboards). Pure functions, no database.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from engine.i18n import Msg, label_text

MAX_TEXT = 80

NAMES: dict[str, Msg] = {
    "label": Msg("名称", "label"), "type": Msg("类型", "type"), "required": Msg("必填", "required"),
    "default": Msg("默认值", "default"), "readonly": Msg("只读", "read-only"), "visible": Msg("可见", "visible"),
    "min": Msg("最小值", "min"), "max": Msg("最大值", "max"), "min_length": Msg("最小长度", "min length"),
    "max_length": Msg("最大长度", "max length"), "pattern": Msg("格式", "pattern"),
    "validations": Msg("校验规则", "validation rules"), "help": Msg("帮助文字", "help text"),
    "indexed": Msg("索引", "indexed"), "precision": Msg("小数位数", "decimal places"), "unit": Msg("单位", "unit"),
    "choices": Msg("选项", "options"), "formula": Msg("公式", "formula"), "form": Msg("表单", "form"),
    "display": Msg("显示字段", "display field"), "multiple": Msg("多选", "multiple"),
    "description": Msg("说明", "description"), "numbering": Msg("编号规则", "numbering"),
    "title_template": Msg("标题模板", "title template"), "prints": Msg("打印模板", "print templates"),
    "columns": Msg("列数", "columns"), "fields": Msg("字段", "fields"), "collapsed": Msg("默认折叠", "collapsed"),
    "assignees": Msg("处理人", "assignees"), "mode": Msg("多人审批方式", "approval mode"),
    "deadline": Msg("期限", "deadline"), "signature": Msg("电子签名", "e-signature"), "next": Msg("下一步", "next"),
    "condition": Msg("条件", "condition"), "branches": Msg("分支", "branches"), "auto_start": Msg("自动发起", "auto start"),
    "trigger": Msg("触发条件", "trigger"), "actions": Msg("动作", "actions"), "enabled": Msg("启用", "enabled"),
    "batch": Msg("批量", "batch"), "dataset": Msg("数据集", "dataset"), "dimensions": Msg("维度", "dimensions"),
    "measures": Msg("指标", "measures"), "filters": Msg("筛选", "filters"), "chart": Msg("图表", "chart"),
    "sort": Msg("排序", "sort"), "limit": Msg("行数上限", "limit"), "items": Msg("图表项", "items"),
    "refresh": Msg("刷新间隔", "refresh"), "where": Msg("筛选条件", "filter"), "agg": Msg("汇总方式", "aggregation"),
    "bucket": Msg("时间粒度", "date bucket"), "field": Msg("字段", "field"), "values": Msg("字段映射", "field mapping"),
    "rows": Msg("行数", "rows"), "accept": Msg("文件类型", "file types"), "max_files": Msg("最多文件数", "max files"),
    "reference": Msg("引用字段", "reference"), "min_rows": Msg("最少行数", "min rows"),
    "max_rows": Msg("最多行数", "max rows"), "default_branch": Msg("默认分支", "default branch"),
}
FIELD_PERMISSIONS = {"editable": Msg("可编辑", "editable"), "readonly": Msg("只读", "read-only"),
                     "hidden": Msg("隐藏", "hidden")}
EMPTY = Msg("（空）", "(empty)")
YES, NO = Msg("是", "yes"), Msg("否", "no")


def name(prop: str, lang: str) -> str:
    """A property's readable name (dotted paths: each known part translated)."""
    return ".".join(NAMES[p].get(lang) if p in NAMES else p for p in prop.split("."))


def is_label(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and set(value) <= {"zh-CN", "en"}


def show(value: Any, lang: str) -> str:
    """A value as short readable text: yes/no, expressions as their source, labels in ``lang``."""
    text = _show(value, lang)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _show(value: Any, lang: str) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY.get(lang)
    if isinstance(value, bool):
        return (YES if value else NO).get(lang)
    if isinstance(value, (int, float, str)):
        return FIELD_PERMISSIONS[value].get(lang) if value in FIELD_PERMISSIONS else str(value)
    if isinstance(value, Mapping):
        if set(value) == {"expr"}:
            return "=" + str(value["expr"])
        if is_label(value):
            return label_text(value, lang)
        if "code" in value and is_label(value.get("label")):
            return f"{label_text(value['label'], lang)} ({value['code']})"
        return ", ".join(f"{k}: {_show(v, lang)}" for k, v in value.items() if k != "label" or len(value) == 1)
    if isinstance(value, (list, tuple)):
        return "; ".join(_show(v, lang) for v in value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def change(kind: str, what: str, path: str, label: str, detail: str) -> dict:
    """One entry of ``plan()["changes"]``."""
    return {"kind": kind, "what": what, "path": path, "label": label, "detail": detail}


def arrow(prop: str, old: Any, new: Any, lang: str) -> str:
    """``"必填: 否 → 是"`` / ``"required: no → yes"``."""
    return f"{name(prop, lang)}: {show(old, lang)} → {show(new, lang)}"
