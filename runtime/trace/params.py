"""Trace parameters from a query string, shared by the page and the API.

``direction=backward|forward|both``, ``depth=N``, ``max_nodes=N``, ``expand=form_a,form_b`` (or
repeated ``expand``): the forms to walk through. The engine checks the values
(:class:`engine.services.trace.TraceInputError`); here only their syntax is read.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.i18n import msg
from engine.services import trace as trace_service
from engine.services.trace import TraceInputError


def read_params(args) -> dict[str, Any]:
    """Keyword arguments for :func:`engine.services.trace.trace_record` (TraceInputError when unreadable)."""
    out: dict[str, Any] = {"direction": args.get("direction") or "both",
                           "depth": _int(args, "depth", trace_service.DEFAULT_DEPTH),
                           "max_nodes": _int(args, "max_nodes", trace_service.DEFAULT_MAX_NODES)}
    expand = [key.strip() for raw in args.getlist("expand") for key in raw.split(",") if key.strip()]
    if expand:
        out["expand"] = expand
    return out


def _int(args: Mapping, name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise TraceInputError(msg("参数“{k}”必须是整数", "The parameter '{k}' must be an integer", k=name)) from None
