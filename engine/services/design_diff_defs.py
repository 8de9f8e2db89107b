"""Readable changes of flows, rules, reports and dashboards (pure; forms are in design_diff).

One generic walk over the definition dicts: nested objects are compared property by property
(``deadline.hours: 8 → 24``), lists whose items have an identity are matched by it (flow
``nodes`` by ``id`` — the change path is the node id —, report ``dimensions``/``measures`` and
dashboard ``filters`` by ``key``, dashboard ``items`` by ``report``), rule ``actions`` and flow
``branches`` by position, and any other list (assignees, sort, targets) as one value.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.i18n import Msg, label_text
from engine.services.design_text import arrow, change, is_label, name, show

KEYED = {"nodes": ("id", "node"), "dimensions": ("key", "property"), "measures": ("key", "property"),
         "filters": ("key", "property"), "items": ("report", "property")}
INDEXED = {"actions": "action", "branches": "branch"}
UNORDERED = {"nodes", "items", "filters"}
NODE_TYPES = {"start": Msg("发起", "start"), "approval": Msg("审批", "approval"), "handle": Msg("办理", "handle"),
              "cc": Msg("抄送", "CC"), "exclusive": Msg("条件分支", "exclusive branch"),
              "parallel": Msg("并行分支", "parallel split"), "join": Msg("汇合", "join"),
              "automatic": Msg("自动节点", "automatic"), "end": Msg("结束", "end")}
PERMISSIONS = Msg("字段权限", "field permission")
SKIP = ("format", "key", "version")

def definition_changes(kind: str, old: Mapping, new: Mapping, lang: str) -> list[dict]:
    """Changes of a flow, rule, report or dashboard definition (``old`` {}: all added)."""
    out: list[dict] = []
    title = _text(new.get("label"), lang) or str(new.get("key") or "")
    if not old:
        _added_parts(kind, new, title, lang, out)
        return out
    _compare(_Walk(kind, lang, out), "", "", {k: v for k, v in old.items() if k not in SKIP},
             {k: v for k, v in new.items() if k not in SKIP}, "property", title, top=True)
    return out

def _added_parts(kind: str, new: Mapping, title: str, lang: str, out: list) -> None:
    """Nothing published yet: the definition, its nodes / actions / items are all new."""
    out.append(change("added", "property", str(new.get("key") or ""), title, Msg("新建", "new").get(lang)))
    for prop, (ident, what) in KEYED.items():
        items = new.get(prop) if prop != "dimensions" and prop != "measures" else \
            (new.get("dataset") or {}).get(prop) if isinstance(new.get("dataset"), Mapping) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, Mapping):
                where = str(item.get(ident)) if what == "node" else f"{prop}.{item.get(ident)}"
                out.append(change("added", what, where, _item_label(item, ident, lang), _summary(item, lang)))
    for i, action in enumerate(new.get("actions") or () if kind == "rule" else ()):
        if isinstance(action, Mapping):
            out.append(change("added", "action", f"actions[{i}]", _action_label(i, action), _summary(action, lang)))

class _Walk:
    def __init__(self, kind: str, lang: str, out: list):
        self.kind, self.lang, self.out = kind, lang, out

def _text(label: Any, lang: str) -> str:
    return label_text(label, lang) if isinstance(label, Mapping) else ""

def _is_obj(value: Any) -> bool:
    return isinstance(value, Mapping) and not is_label(value) and set(value) != {"expr"}

def _compare(w: _Walk, where: str, prop: str, a: Any, b: Any, what: str, label: str, top: bool = False) -> None:
    if a == b:
        return
    if not (_is_obj(a) and _is_obj(b)):
        w.out.append(change("changed", what, where or prop, label, _arrow(w, what, prop, a, b)))
        return
    for key in list(b) + [k for k in a if k not in b]:
        sub = f"{prop}.{key}" if prop else str(key)
        x, y = a.get(key), b.get(key)
        if key in KEYED and isinstance(x or [], list) and isinstance(y or [], list):
            _keyed(w, where, sub, key, x or [], y or [], label)
        elif key in INDEXED and isinstance(x or [], list) and isinstance(y or [], list):
            _indexed(w, where, sub, key, x or [], y or [])
        else:
            _compare(w, sub if top else where, sub, x, y, what, label)

def _arrow(w: _Walk, what: str, prop: str, a: Any, b: Any) -> str:
    if what == "node" and (prop == "fields" or prop.startswith("fields.")):
        rest = prop[len("fields."):] if prop != "fields" else ""
        shown = f"{PERMISSIONS.get(w.lang)}{' ' + ('*' if rest == '*' else rest) if rest else ''}"
        return f"{shown}: {show(a, w.lang)} → {show(b, w.lang)}"
    if prop == "type" and what == "node":
        return f"{name('type', w.lang)}: {_node_type(a, w.lang)} → {_node_type(b, w.lang)}"
    return arrow(prop, a, b, w.lang)

def _node_type(value: Any, lang: str) -> str:
    return NODE_TYPES[value].get(lang) if value in NODE_TYPES else show(value, lang)

def _item_label(item: Mapping, ident: str, lang: str) -> str:
    return _text(item.get("label"), lang) or str(item.get(ident) or item.get("field") or "")

def _action_label(i: int, action: Mapping) -> str:
    return f"#{i + 1} {action.get('type') or ''}".strip()

def _summary(item: Mapping, lang: str, ident: str = "key") -> str:
    if "type" in item and item.get("type") in NODE_TYPES:
        return f"{name('type', lang)}: {_node_type(item['type'], lang)}"
    return show({k: v for k, v in item.items() if k not in ("label", "id", "key", ident)}, lang)

def _keyed(w: _Walk, parent: str, prop: str, key: str, a: list, b: list, label: str) -> None:
    ident, what = KEYED[key]
    olds = {str(i.get(ident)): i for i in a if isinstance(i, Mapping)}
    news = {str(i.get(ident)): i for i in b if isinstance(i, Mapping)}

    def where(k: str) -> str:
        return k if what == "node" else f"{prop}.{k}"
    for k, item in news.items():
        if k not in olds:
            w.out.append(change("added", what, where(k), _item_label(item, ident, w.lang), _summary(item, w.lang, ident)))
    for k, item in olds.items():
        if k not in news:
            w.out.append(change("removed", what, where(k), _item_label(item, ident, w.lang),
                                _summary(item, w.lang, ident)))
    for k, item in news.items():
        if k in olds:
            _compare(w, where(k), "", {x: v for x, v in olds[k].items() if x != ident},
                     {x: v for x, v in item.items() if x != ident}, what, _item_label(item, ident, w.lang))
    kept = [k for k in olds if k in news]
    if key not in UNORDERED and kept != [k for k in news if k in olds]:
        w.out.append(change("changed", "property", prop, label,
                            f"{name(key, w.lang)}: " + Msg("顺序已调整", "order changed").get(w.lang)))

def _indexed(w: _Walk, parent: str, prop: str, key: str, a: list, b: list) -> None:
    what = INDEXED[key]
    base = f"{parent}.{key}" if parent else key
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        item = y if isinstance(y, Mapping) else x if isinstance(x, Mapping) else {}
        label = _text(item.get("label"), w.lang) or (_action_label(i, item) if what == "action" else f"#{i + 1}")
        where = f"{base}[{i}]"
        if x is None:
            w.out.append(change("added", what, where, label, _summary(item, w.lang)))
        elif y is None:
            w.out.append(change("removed", what, where, label, _summary(item, w.lang)))
        elif isinstance(x, Mapping) and isinstance(y, Mapping):
            _compare(w, where, "", x, y, what, label)
        elif x != y:
            w.out.append(change("changed", what, where, label, arrow(key, x, y, w.lang)))

