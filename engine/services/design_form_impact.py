"""What publishing a form draft would do to the stored records, and which changes would lose data.

Two sources, both read-only:

* the storage layer's own rules (:mod:`engine.storage.record_tables`): a column's stored kind
  cannot change (``widen`` finds no column holding both), a sub-table cannot become a plain
  field or the reverse. ``publish_form`` raises for these; here they become refusals with the
  field's label *before* publishing, whether or not records have values.
* the stored values (counted with parameterised SQL, always ``tenant_id = ?``): a lowered number
  precision while values have more decimals (saving would round them), a type change the
  columns accept but the values do not survive (user id → record id, text → option code) while
  records have values, a field key re-used with another type while the old values are still in
  its column, a select option removed while records still use its code.

Not refused (nothing is lost) but reported in ``impact.messages``: new fields (empty on old
records), removed fields (column and data kept), a text limit lowered below stored values (the
column keeps its width; the longer values stay), a field made required while records lack it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from sqlalchemy import Table, Text, and_, cast, func, select
from sqlalchemy.orm import Session

from engine.definitions import load_form
from engine.errors import QMSError
from engine.fields.base import StorageKind
from engine.i18n import Msg, label_text
from engine.services.design_diff import type_name
from engine.storage import form_store, naming
from engine.storage.columns import widen
from engine.storage.platform import form_versions as fv
from engine.storage.record_tables import TableSpec, form_spec, sa_tables

SAFE_TYPE_CHANGES = ({"text", "textarea", "barcode"}, {"select", "radio"})
CHOICE_TYPES = {"select", "radio", "multiselect"}
TEXT_TYPES = {"text", "barcode"}
Key = tuple[tuple[str, ...], str]          # (table path, field key)


@dataclass
class Facts:
    """The stored side of one form: newest layout, its tables, and what the draft changes."""

    session: Session
    tenant_id: int
    spec: TableSpec
    tables: dict[tuple[str, ...], Table]
    lang: str
    refused: list[dict] = field(default_factory=list)
    refused_keys: set = field(default_factory=set)
    messages: list[str] = field(default_factory=list)

    def refuse(self, key: Key, message: Msg) -> None:
        if key not in self.refused_keys:
            self.refused_keys.add(key)
            self.refused.append({"path": ".".join(key[0] + (key[1],)), "message": message.get(self.lang)})

    def column(self, key: Key):
        table = self.tables.get(key[0])
        return None if table is None else table.c.get(naming.safe_sql_name(key[1]))

    def count(self, key: Key, condition=None) -> int:
        """Records (top rows, tenant-scoped) with a value in the field's column matching ``condition``."""
        table, col = self.tables.get(key[0]), self.column(key)
        if col is None:
            return 0
        where = [table.c.tenant_id == self.tenant_id, col.is_not(None)]
        if _is_json(self.spec, key):
            where.append(cast(col, Text).notin_(["null", "[]", "{}"]))
        if condition is not None:
            where.append(condition(col))
        counted = func.count() if not key[0] else func.count(table.c.record_id.distinct())
        return int(self.session.execute(select(counted).select_from(table).where(and_(*where))).scalar_one())


def fields_by_table(definition: Any) -> dict[Key, dict]:
    """Every field dict of a definition by (table path, key); sub-table columns under the sub-table."""
    out: dict[Key, dict] = {}

    def walk(items: Any, path: tuple[str, ...]) -> None:
        for raw in items if isinstance(items, list) else ():
            if isinstance(raw, dict) and isinstance(raw.get("key"), str) and naming.SQL_NAME_RE.match(raw["key"]):
                out.setdefault((path, raw["key"]), raw)
                if raw.get("type") == "subtable":
                    walk(raw.get("fields"), path + (raw["key"],))
    walk(definition.get("fields") if isinstance(definition, Mapping) else None, ())
    return out


def _is_json(spec: TableSpec, key: Key) -> bool:
    table = next((t for t in spec.walk() if t.path == key[0]), None)
    col = table.column(key[1]) if table else None
    return col is not None and col.kind is StorageKind.JSON


def form_impact(session: Session, tenant_id: int, key: str, old: Mapping | None, new: Mapping,
                known: Mapping | None, lang: str) -> tuple[dict, list[dict]]:
    """``(impact, refused)`` of publishing ``new`` over the newest published form ``old``."""
    row = form_store.version_row(session, tenant_id, key)
    if row is None:
        return {"records": 0, "running_flows": 0, "messages": []}, []
    spec = form_store.stored_spec(row)
    facts = Facts(session, tenant_id, spec, sa_tables(spec), lang)
    olds, news = fields_by_table(old or {}), fields_by_table(new)
    _storage_refusals(facts, new, news, known)
    history = _history(session, tenant_id, key)
    for k, raw in news.items():
        if k in olds:
            _changed_field(facts, k, olds[k], raw)
        elif k in history and history[k] != raw.get("type"):
            _reused_key(facts, k, history[k], raw)
    records = _records(facts)
    _messages(facts, records, olds, news)
    return {"records": records, "running_flows": 0, "messages": facts.messages}, facts.refused


def _records(facts: Facts) -> int:
    top = facts.tables[()]
    return int(facts.session.execute(select(func.count()).select_from(top)
                                     .where(top.c.tenant_id == facts.tenant_id)).scalar_one())


def _history(session: Session, tenant_id: int, key: str) -> dict[Key, str]:
    """The type each (table path, key) had in the newest published version that had it."""
    rows = session.execute(select(fv.c.definition).where(and_(fv.c.tenant_id == tenant_id, fv.c.form_key == key))
                           .order_by(fv.c.version)).scalars()
    out: dict[Key, str] = {}
    for definition in rows:
        out.update({k: raw.get("type") for k, raw in fields_by_table(definition).items()})
    return out


# ---------------------------------------------------------------------------- the storage layer's rules

def _desired(facts: Facts, new: Mapping, known: Mapping | None) -> TableSpec | None:
    """The layout the draft wants (None when the draft does not load: its problems block publishing)."""
    try:
        return form_spec(load_form(dict(new), known_forms=known), facts.tenant_id)
    except (QMSError, ValueError, TypeError):
        return None


def _storage_refusals(facts: Facts, new: Mapping, news: dict[Key, dict], known: Mapping | None) -> None:
    current = {t.path: t for t in facts.spec.walk()}
    for k, raw in news.items():          # sub-table ⇄ plain field: refused whatever the data
        table = current.get(k[0])
        if table is None:
            continue
        if raw.get("type") == "subtable" and table.column(k[1]) is not None and table.child(k[1]) is None:
            n = facts.count(k)
            facts.refuse(k, _text(raw, facts.lang, "普通字段不能改成子表（{n} 条记录有值）；请用新的字段标识新建子表",
                                  "a single-value field cannot become a sub-table ({n} records have a value); "
                                  "add the sub-table with a new key", n=n))
        elif raw.get("type") != "subtable" and table.child(k[1]) is not None:
            n = _child_rows(facts, k)
            facts.refuse(k, _text(raw, facts.lang, "子表不能改成普通字段（{n} 条记录有行，这些行会丢失）",
                                  "a sub-table cannot become a single-value field ({n} records have rows that "
                                  "would be lost)", n=n))
    desired = _desired(facts, new, known)
    for want, old_col, col in _narrowed_columns(current, desired):
        k = (want, col.name)
        raw = news.get(k, {})
        facts.refuse(k, _text(raw, facts.lang, "已存数据的类型为 {a}，不能改为 {b}（{n} 条记录有值）；"
                              "请保留原类型，或用新的字段标识新建字段",
                              "its stored values are {a} and cannot become {b} ({n} records have a value); keep "
                              "the type, or add a new field with a new key", a=old_col.describe(), b=col.describe(),
                              n=facts.count(k)))


def _narrowed_columns(current: dict, desired: TableSpec | None) -> Iterator:
    """(table path, stored column, wanted column) for each column no safe widening can hold."""
    for want in desired.walk() if desired is not None else ():
        table = current.get(want.path)
        for col in want.columns if table is not None else ():
            old = table.column(col.name)
            if old is not None and widen(old, col) is None:
                yield want.path, old, col


def _child_rows(facts: Facts, k: Key) -> int:
    child = facts.tables.get(k[0] + (k[1],))
    if child is None:
        return 0
    stmt = select(func.count(child.c.record_id.distinct())).where(child.c.tenant_id == facts.tenant_id)
    return int(facts.session.execute(stmt).scalar_one())


def _text(raw: Mapping, lang: str, zh: str, en: str, **kw) -> Msg:
    """``字段“标签”：…`` with the field's label in ``lang``."""
    text = Msg(zh, en).format(**kw)
    name = field_name(raw, lang)
    return Msg(f"字段“{name}”：{text.zh}", f"Field '{name}': {text.en}")


def field_name(raw: Mapping, lang: str) -> str:
    return label_text(raw.get("label"), lang) if isinstance(raw.get("label"), Mapping) else str(raw.get("key", ""))


# ---------------------------------------------------------------------------- the stored values

def _changed_field(facts: Facts, k: Key, old: Mapping, new: Mapping) -> None:
    a, b = old.get("type"), new.get("type")
    if a != b and not any(a in group and b in group for group in SAFE_TYPE_CHANGES) and "subtable" not in (a, b):
        n = facts.count(k)
        if n:
            facts.refuse(k, _text(new, facts.lang, "类型从“{a}”改为“{b}”，但 {n} 条记录已有值，这些值不能安全转换；"
                                  "请保留原类型，或新建一个字段", "the type changes from {a} to {b} but {n} records "
                                  "have values that cannot be converted safely; keep the type, or add a new field",
                                  a=type_name(a, facts.lang), b=type_name(b, facts.lang), n=n))
        return
    if a == b == "number":
        _precision(facts, k, old, new)
    if a in CHOICE_TYPES and b in CHOICE_TYPES:
        _removed_options(facts, k, old, new)


def _precision(facts: Facts, k: Key, old: Mapping, new: Mapping) -> None:
    was, now = _int(old.get("precision")), _int(new.get("precision"))
    if now >= was:
        return
    n = facts.count(k, lambda col: col != func.round(col, now))
    if n:
        facts.refuse(k, _text(new, facts.lang, "小数位数从 {a} 减到 {b}，但 {n} 条记录的值有更多小数位，再次保存时会被舍入；"
                              "请保留 {a} 位小数", "decimal places go from {a} down to {b} but {n} records have "
                              "values with more decimals that would be rounded on their next save; keep {a} "
                              "decimal places", a=was, b=now, n=n))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _codes(raw: Mapping) -> dict[str, Any]:
    items = raw.get("choices")
    return {c["code"]: c for c in items if isinstance(c, Mapping) and isinstance(c.get("code"), str)} \
        if isinstance(items, list) else {}


def _removed_options(facts: Facts, k: Key, old: Mapping, new: Mapping) -> None:
    kept = _codes(new)
    json_col = _is_json(facts.spec, k)
    for code, option in _codes(old).items():
        if code in kept:
            continue
        if json_col:     # multiselect: a JSON list of codes; codes are [A-Za-z0-9_.-], so '"code"' is exact
            pattern = '%"' + code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
            n = facts.count(k, lambda col, p=pattern: cast(col, Text).like(p, escape="\\"))
        else:
            n = facts.count(k, lambda col, c=code: col == c)
        if n:
            label = label_text(option.get("label"), facts.lang) if isinstance(option.get("label"), Mapping) else code
            facts.refuse((k[0], f"{k[1]}:{code}"), _text(
                new, facts.lang, "选项“{o}”（{c}）仍被 {n} 条记录使用，不能删除；请保留该选项（可改名为“停用”）",
                "the option '{o}' ({c}) is still used by {n} records and cannot be removed; keep the option "
                "(you may rename it, e.g. 'obsolete')", o=label, c=code, n=n))


def _reused_key(facts: Facts, k: Key, old_type: Any, new: Mapping) -> None:
    if k in facts.refused_keys or "subtable" in (old_type, new.get("type")):
        return
    n = facts.count(k)
    if n:
        facts.refuse(k, _text(new, facts.lang, "字段标识“{k}”以前用于“{a}”类型的字段，{n} 条记录的旧值仍保存在该列中；"
                              "请换一个字段标识", "the key '{k}' was used before by a {a} field and {n} records still "
                              "hold its old values; choose another key", k=k[1], a=type_name(old_type, facts.lang), n=n))


def _messages(facts: Facts, records: int, olds: dict, news: dict) -> None:
    lang, out = facts.lang, facts.messages
    added = [k for k in news if k not in olds]
    if records and added:
        out.append(Msg("{n} 条已有记录：新增的 {k} 个字段在这些记录上为空", "{n} existing records: the {k} new "
                       "field(s) stay empty on them").format(n=records, k=len(added)).get(lang))
    for k, raw in olds.items():
        if k not in news and (not k[0] or (k[0][:-1], k[0][-1]) in news):    # a removed sub-table: once
            n = facts.count(k) if raw.get("type") != "subtable" else _child_rows(facts, k)
            out.append(Msg("字段“{f}”被移除：它的数据列和数据会保留（{n} 条记录有值），只是不再显示",
                           "field '{f}' removed: its column and data are kept ({n} records have a value) but it "
                           "is no longer shown").format(f=field_name(raw, lang), n=n).get(lang))
    for k, raw in news.items():
        old = olds.get(k)
        if old is None or k in facts.refused_keys:
            continue
        _limit_message(facts, k, old, raw)
        if raw.get("required") is True and old.get("required") is not True and records:
            missing = records - facts.count(k) if not k[0] else None
            if missing:
                out.append(Msg("字段“{f}”改为必填：{n} 条已有记录没有值，下次编辑时需要填写",
                               "field '{f}' becomes required: {n} existing records have no value and must fill it "
                               "when next edited").format(f=field_name(raw, lang), n=missing).get(lang))


def _limit_message(facts: Facts, k: Key, old: Mapping, new: Mapping) -> None:
    limit = new.get("max_length")
    if new.get("type") not in TEXT_TYPES | {"textarea"} or not isinstance(limit, int) or isinstance(limit, bool):
        return
    if isinstance(old.get("max_length"), int) and old["max_length"] <= limit:
        return
    n = facts.count(k, lambda col: func.length(col) > limit)
    if n:
        facts.messages.append(Msg("字段“{f}”的最大长度改为 {m}：{n} 条记录的值更长，它们会原样保留（数据列不会缩短），"
                                  "但编辑这些记录时需要缩短", "field '{f}' max length becomes {m}: {n} records have "
                                  "longer values; they are kept as they are (the column is not narrowed) but must "
                                  "be shortened when edited").format(f=field_name(new, facts.lang), m=limit, n=n)
                              .get(facts.lang))
