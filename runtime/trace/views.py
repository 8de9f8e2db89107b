"""The trace page: the graph around a record, with toggles for direction, depth and the forms to
walk through (a GET form: the address is the state, so a trace can be bookmarked and shared).

The graph comes from :func:`engine.services.trace.trace_record` — read scopes and hidden fields
apply there. The server renders every card in layer columns (readable without script, stacked
lists on a phone); ``static/js/trace.js`` draws the edges between the columns as SVG paths from
the edge list embedded as JSON.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from engine.errors import NotFound
from engine.services import trace as trace_service
from engine.services.trace import TraceInputError
from runtime.auth import current_actor, login_required
from runtime.db import db
from runtime.i18n import current_lang, label, t
from runtime.records.display import link
from runtime.records.views import error_page
from runtime.trace import present
from runtime.trace.params import read_params

bp = Blueprint("trace", __name__)
DEPTH_CHOICES = tuple(range(1, 11))


@bp.get("/trace/<form_key>/<int:record_id>")
@login_required
def page(form_key: str, record_id: int):
    """The trace around a record (404 page when the viewer may not read it)."""
    actor = current_actor()
    error = None
    try:
        params = read_params(request.args)
        graph = trace_service.trace_record(db(), actor, form_key, record_id, **params)
    except TraceInputError as exc:        # a hand-edited address: say so, show the default trace
        error, params = exc.message.get(current_lang()), {"direction": "both", "depth": trace_service.DEFAULT_DEPTH}
        graph = _default_trace(form_key, record_id)
    except NotFound:
        return error_page(404)
    if graph is None:
        return error_page(404)
    data = present.with_urls(graph.to_json())
    start = next(n for n in data["nodes"] if n["key"] == data["start"])
    edges = [{"from": e["from"], "to": e["to"], "label": label(e["label"])} for e in data["edges"]]
    return render_template("trace/page.html", graph=data, columns=present.columns(data), start=present.card(start, []),
                           params=params, error=error, forms=_forms(data, params), depths=_depths(params["depth"]),
                           record_url=link("records.detail", form_key=form_key, record_id=record_id),
                           action=url_for("trace.page", form_key=form_key, record_id=record_id),
                           edges=edges, directions=_directions())


def _default_trace(form_key: str, record_id: int):
    try:
        return trace_service.trace_record(db(), current_actor(), form_key, record_id)
    except NotFound:
        return None


def _forms(graph: dict, params: dict) -> list[dict]:
    """The forms met in this trace, for the "expand through" choice (checked: walked through)."""
    chosen = set(params.get("expand") or ())
    seen: dict[str, str] = {}
    for node in graph["nodes"]:
        seen.setdefault(node["form"], label(node["form_label"]))
    return [{"key": k, "name": name, "checked": k in chosen} for k, name in sorted(seen.items(), key=lambda i: i[1])]


def _depths(current: int) -> list[int]:
    return sorted(set(DEPTH_CHOICES) | {current})


def _directions() -> list[tuple[str, str]]:
    return [("backward", t("反向追溯（来源）", "Backward (where from)")), ("both", t("双向", "Both")),
            ("forward", t("正向追溯（去向）", "Forward (where to)"))]
