"""The trace graph as the page shows it: columns by layer, card texts, addresses, and for each card
the links that tie it to the column nearer the start (the phone layout has no lines to draw)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import url_for

from runtime.i18n import label, t
from runtime.records.display import link, when

VIA_SHOWN = 3


def with_urls(graph: dict) -> dict:
    """The graph JSON with ``url`` (record page, None while that page is not installed) and
    ``trace_url`` on each node."""
    for node in graph["nodes"]:
        node["url"] = link("records.detail", form_key=node["form"], record_id=node["id"])
        node["trace_url"] = url_for("trace.page", form_key=node["form"], record_id=node["id"])
    return graph


def heading(layer: int) -> str:
    if layer == 0:
        return t("起点", "Start")
    if layer < 0:
        return t(f"反向追溯 · 第 {-layer} 层", f"Backward · step {-layer}")
    return t(f"正向追溯 · 第 {layer} 层", f"Forward · step {layer}")


def columns(graph: dict) -> list[dict]:
    """One column per layer, left (backward) to right (forward), each with its cards."""
    by_key = {n["key"]: n for n in graph["nodes"]}
    via = _via(graph, by_key)
    layers: dict[int, list[dict]] = defaultdict(list)
    for node in graph["nodes"]:
        layers[node["layer"]].append(node)
    _order(layers, graph["edges"])
    return [{"layer": layer, "heading": heading(layer), "cards": [card(n, via.get(n["key"], [])) for n in nodes]}
            for layer, nodes in sorted(layers.items())]


def _order(layers: dict[int, list[dict]], edges: list[dict]) -> None:
    """Sort each column by the mean position of its neighbours in the column nearer the start (the
    barycenter heuristic), working outward from the start: fewer crossing lines, related cards level."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        neighbours[e["from"]].add(e["to"])
        neighbours[e["to"]].add(e["from"])
    for side in (-1, 1):
        layer = side
        while layer in layers:
            inner = {n["key"]: i for i, n in enumerate(layers[layer - side])} if layer - side in layers else {}
            def centre(node, inner=inner):
                at = [inner[k] for k in neighbours[node["key"]] if k in inner]
                return (sum(at) / len(at) if at else len(inner), node["form"], node["id"])
            layers[layer].sort(key=centre)
            layer += side


def card(node: dict, via: list[dict]) -> dict:
    """What one card shows: title, form, status, values, why it stops, and how it is linked."""
    return {**node, "name": node.get("title") or node.get("serial_no") or f"#{node['id']}",
            "form_name": label(node["form_label"]), "created": when(_parsed(node.get("created_at"))),
            "shown_values": [(label(v["label"]), _value(v)) for v in node.get("values", []) if _value(v) != ""],
            "via": via[:VIA_SHOWN], "via_more": max(0, len(via) - VIA_SHOWN)}


def _via(graph: dict, by_key: dict) -> dict[str, list[dict]]:
    """For each node, the edges to nodes one layer nearer the start, as (field, other record) texts."""
    out: dict[str, list[dict]] = defaultdict(list)
    for edge in graph["edges"]:
        a, b = by_key[edge["from"]], by_key[edge["to"]]
        for this, other in ((a, b), (b, a)):
            step = -1 if this["layer"] > 0 else 1
            if this["layer"] != 0 and other["layer"] == this["layer"] + step:
                out[this["key"]].append({"text": _via_text(this is a, _name(other), label(edge["label"]))})
    return out


def _via_text(refers: bool, other: str, field: str) -> str:
    if refers:
        return t(f"引用 {other}（{field}）", f"References {other} ({field})")
    return t(f"被 {other} 引用（{field}）", f"Referenced by {other} ({field})")


def _name(node: dict) -> str:
    return node.get("title") or node.get("serial_no") or f"#{node['id']}"


def _value(v: dict) -> str:
    if v.get("choice"):
        return label(v["choice"])
    value = v.get("value")
    if isinstance(value, bool):
        return t("是", "Yes") if value else t("否", "No")
    if value is None:
        return ""
    return when(value) if isinstance(value, str) and "T" in value and value[:4].isdigit() else str(value)


def _parsed(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
