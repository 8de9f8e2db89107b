"""Trace use case: from one record, the graph of records linked to it through reference fields.

``trace_record(session, actor, "shipment", 7, direction="backward")`` walks what the shipment
references (its finished lots, their production batch, the batch's material lots, their
supplier …); ``direction="forward"`` walks what references the record (the batches that used a
material lot, the finished lots of those batches, the shipments that carried them) and shows,
for each record found forward, the other records it references (the shipment's customer) as
context. Nothing is specific to any form: the links come from the published definitions
(:mod:`engine.trace.links`), at any sub-table depth.

Cost: one statement per hop per (form, reference column) batch, with IN lists
(:mod:`engine.trace.fetch`) — the number of statements depends on the forms, never on the
number of records. Bounds: ``depth`` hops each way, ``max_nodes`` nodes (the graph says when
it was cut), and a *hub* rule: a record with more than ``hub_limit`` forward links (a supplier,
a part) is shown with its count but not expanded. ``expand`` limits the forms walked through.

Access: every node is read through the viewer's read scope in SQL; a record outside it is not
shown and is not counted. A reference field hidden from the viewer is not followed either way,
and hidden fields never reach a node's display values.
"""
from __future__ import annotations

import weakref
from collections import defaultdict
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from engine import access as access_control
from engine.access import FormAccess
from engine.errors import NotFound, QMSError
from engine.i18n import msg
from engine.definitions.model import FormDef
from engine.storage import form_store, naming, records
from engine.storage.form_store import PublishedForm
from engine.trace import fetch
from engine.trace.graph import STOP_CONTEXT, STOP_FILTERED, STOP_HUB, Node, TraceGraph, node_key
from engine.storage.record_tables import ensure_index
from engine.trace.links import Link, links_from, links_to, reference_fields, reference_links
from engine.types import Actor

DIRECTIONS = ("backward", "forward", "both")
DEFAULT_DEPTH, MAX_DEPTH = 6, 20
DEFAULT_MAX_NODES, MAX_NODES = 500, 2000
HUB_LIMIT = 50


class TraceInputError(QMSError):
    """A trace parameter that cannot be used (direction, depth, node bound, forms to expand)."""

    code = "invalid_trace"


def trace_record(session: Session, actor: Actor, form_key: str, record_id: int, direction: str = "both",
                 depth: int = DEFAULT_DEPTH, max_nodes: int = DEFAULT_MAX_NODES,
                 expand: Iterable[str] | None = None, hub_limit: int = HUB_LIMIT) -> TraceGraph:
    """The trace graph around a record the actor may read (NotFound otherwise, never revealing it).

    ``expand``: form keys to walk through (None: every form); records of other forms are shown
    but not expanded. The start record is always expanded. TraceInputError for bad parameters.
    """
    expand = _checked(direction, depth, max_nodes, expand, hub_limit)
    reader = _Reader(session, actor)
    if form_key not in reader.keys or not reader.access(form_key).read.allows_any:
        raise form_store.not_found(form_key)
    graph = TraceGraph((form_key, record_id), max_nodes, depth, direction)
    if not reader.attach(graph, [(form_key, record_id)], 0):
        raise NotFound(msg("记录 {i} 不存在", "Record {i} does not exist", i=record_id))
    walk = _Walk(reader, graph, expand, hub_limit)
    if direction in ("backward", "both"):
        walk.backward()
    if direction in ("forward", "both"):
        walk.forward()
    return graph


def _checked(direction, depth, max_nodes, expand, hub_limit) -> frozenset[str] | None:
    """The forms to expand through (None: all), after checking every parameter."""
    if direction not in DIRECTIONS:
        raise TraceInputError(msg("方向只能是 backward（反向追溯）、forward（正向追溯）或 both（双向）",
                                  "direction must be backward, forward or both"))
    for name, value, top in (("depth", depth, MAX_DEPTH), ("max_nodes", max_nodes, MAX_NODES),
                             ("hub_limit", hub_limit, MAX_NODES)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            raise TraceInputError(msg("{n} 必须是 1 到 {m} 之间的整数", "{n} must be an integer from 1 to {m}",
                                      n=name, m=top))
    if expand is None:
        return None
    keys = frozenset(expand)
    bad = sorted(k for k in keys if not isinstance(k, str) or not naming.KEY_RE.match(k))
    if bad:
        raise TraceInputError(msg("要展开的表单标识无效：{k}", "Invalid form key(s) to expand: {k}",
                                  k=", ".join(map(str, bad))[:200]))
    return keys


def index_links(session: Session, tenant_id: int, form_key: str) -> list[str]:
    """Index every reference column of a published form, so tracing forward is an index range.

    For the publisher (idempotent; inside its transaction, after the record tables exist).
    Every column gets ``(tenant_id, column)``, in sub-tables too: the forward query filters on
    both, and with a tenant-only index beside it SQLite's planner would otherwise pick that one.
    Returns the indexes created, as ``table.column``.
    """
    pub = form_store.load_published(session, tenant_id, form_key)
    tables = records.sa_tables(pub.spec)
    made = []
    for path, f in reference_fields(pub.form):
        table = tables.get(path)
        if table is None or f.key not in table.c:
            continue
        if ensure_index(session.connection(), table.name, ("tenant_id", f.key)):
            made.append(f"{table.name}.{f.key}")
    return made


# links per database (the engine's pool: test databases never mix) and tenant, for one set of
# published versions: a trace reads one small list of versions instead of every definition
_LINKS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_LINKS_MAX = 256


def _published_links(session: Session, tenant_id: int) -> tuple[frozenset[str], tuple[Link, ...]]:
    """The tenant's published form keys and the reference links between those forms."""
    rows = form_store.list_published(session, tenant_id)
    versions = tuple((r["key"], r["current_version"]) for r in rows)
    bind = session.get_bind()
    cache = _LINKS.setdefault(getattr(bind, "pool", None) or bind.engine.pool, {})
    hit = cache.get((tenant_id, versions))
    if hit is None:
        pubs = {key: form_store.load_published(session, tenant_id, key) for key, _ in versions}

        def has_column(form_key: str, path: tuple[str, ...], column: str) -> bool:
            table = records.sa_tables(pubs[form_key].spec).get(path)
            return table is not None and column in table.c
        hit = tuple(reference_links({k: p.form for k, p in pubs.items()}, has_column))
        if len(cache) >= _LINKS_MAX:
            cache.clear()
        cache[(tenant_id, versions)] = hit
    return frozenset(k for k, _ in versions), hit


class _Reader:
    """What the walk reads for one actor: published forms, their links, access, and rows."""

    def __init__(self, session: Session, actor: Actor):
        self.session, self.actor, self.tenant_id = session, actor, actor.tenant_id
        self.keys, self.links = _published_links(session, actor.tenant_id)
        self._columns: dict[str, tuple[str, ...]] = {}

    def pub(self, form_key: str) -> PublishedForm:
        """The form's newest definition and layout (asked once per unit of work, see form_store)."""
        return form_store.load_published(self.session, self.tenant_id, form_key)

    def form(self, form_key: str) -> FormDef:
        return self.pub(form_key).form

    def access(self, form_key: str) -> FormAccess:
        return access_control.form_access(self.session, self.actor, form_key)

    def visible(self, link: Link) -> bool:
        """Whether the reader may follow ``link``: both forms readable, no hidden field on its path."""
        source, target = self.access(link.source), self.access(link.target)
        return source.read.allows_any and target.read.allows_any and not link.hidden_by(source.hidden_fields)

    def columns(self, form_key: str) -> tuple[str, ...]:
        """Top-level columns a node of the form needs: its visible references and display fields."""
        if form_key not in self._columns:
            hidden = self.access(form_key).hidden_fields
            refs = [lk.column for lk in links_from(self.links, form_key) if not lk.path and self.visible(lk)]
            shown = [f.key for f in fetch.display_fields(self.form(form_key), hidden)]
            self._columns[form_key] = tuple(dict.fromkeys(refs + shown))
        return self._columns[form_key]

    def attach(self, graph: TraceGraph, wanted: Sequence[tuple[str, int]], layer: int,
               stop: str | None = None) -> list[Node]:
        """Add the readable records among ``wanted`` (not yet in the graph) as nodes; the new nodes."""
        by_form: dict[str, set[int]] = defaultdict(set)
        for form_key, record_id in wanted:
            if graph.get(form_key, record_id) is None:
                by_form[form_key].add(record_id)
        added = []
        for form_key in sorted(by_form):
            access = self.access(form_key)
            rows = fetch.read_rows(self.session, self.tenant_id, self.pub(form_key), access.read,
                                   by_form[form_key], self.columns(form_key))
            for record_id in sorted(rows):
                info = fetch.node_info(self.form(form_key), access.hidden_fields, rows[record_id])
                node = graph.add_node(form_key, record_id, layer, rows[record_id], info)
                if node is None:
                    return added
                node.stop = stop
                added.append(node)
        return added

    def outgoing(self, nodes: Sequence[Node], skip_arrived: bool = False) -> list[tuple[Node, Link, int]]:
        """(node, link, referenced id) for every visible reference value of ``nodes``.

        ``skip_arrived``: leave out the links a node was reached through (a batch reached from
        one of its material lots does not list its other material lots as context)."""
        by_form: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            by_form[node.form].append(node)
        out: list[tuple[Node, Link, int]] = []
        for form_key, group in sorted(by_form.items()):
            links = [lk for lk in links_from(self.links, form_key) if self.visible(lk)]
            out += self._top_refs(group, [lk for lk in links if not lk.path], skip_arrived)
            out += self._sub_refs(form_key, group, [lk for lk in links if lk.path], skip_arrived)
        return out

    def _top_refs(self, group: Sequence[Node], links: Sequence[Link], skip_arrived: bool):
        return [(node, lk, int(node.row[lk.column])) for node in group for lk in links
                if node.row.get(lk.column) is not None and not (skip_arrived and lk.field_path in node.arrived)]

    def _sub_refs(self, form_key: str, group: Sequence[Node], links: Sequence[Link], skip_arrived: bool):
        by_path: dict[tuple[str, ...], list[Link]] = defaultdict(list)
        for lk in links:      # a column every node was reached through has nothing new to show
            if not skip_arrived or any(lk.field_path not in n.arrived for n in group):
                by_path[lk.path].append(lk)
        nodes = {n.id: n for n in group}
        out = []
        for path, path_links in sorted(by_path.items()):
            found = fetch.sub_table_refs(self.session, self.tenant_id, self.pub(form_key), path, path_links, nodes)
            out += [(nodes[rid], lk, tid) for rid, lk, tid in found
                    if not (skip_arrived and lk.field_path in nodes[rid].arrived)]
        return out

    def incoming(self, nodes: Sequence[Node], per_target: int) -> list[tuple[Link, int, Node, int]]:
        """(link, referring id, referenced node, count of referrers through the link) for ``nodes``."""
        by_form: dict[str, dict[int, Node]] = defaultdict(dict)
        for node in nodes:
            by_form[node.form][node.id] = node
        out = []
        for form_key, group in sorted(by_form.items()):
            for lk in links_to(self.links, form_key):
                if not self.visible(lk):
                    continue
                found = fetch.referrers(self.session, self.tenant_id, self.pub(lk.source),
                                        self.access(lk.source).read, lk, group, per_target)
                out += [(lk, src, group[dst], n) for src, dst, n in found]
        return out


class _Walk:
    """The breadth-first walk in each direction, one hop at a time, within the graph's bounds."""

    def __init__(self, reader: _Reader, graph: TraceGraph, expand: frozenset[str] | None, hub_limit: int):
        self.reader, self.graph, self.expand, self.hub_limit = reader, graph, expand, hub_limit
        self.start = graph.nodes[graph.start]

    def _stop_for(self, form_key: str) -> str | None:
        return None if self.expand is None or form_key in self.expand else STOP_FILTERED

    def backward(self) -> None:
        """Follow what the records reference, hop by hop (layers -1, -2 …)."""
        frontier = [self.start]
        for hop in range(1, self.graph.depth + 1):
            found = self.reader.outgoing(frontier)
            frontier = [n for n in self._link_targets(found, -hop, context=False) if n.expandable]
            if not frontier:
                return

    def _link_targets(self, found, layer: int, context: bool) -> list[Node]:
        """Add the referenced records of ``found`` as nodes on ``layer`` and their edges; the new nodes."""
        added: list[Node] = []
        for form_key in sorted({lk.target for _, lk, _ in found}):
            wanted = [(form_key, tid) for _, lk, tid in found if lk.target == form_key]
            stop = STOP_CONTEXT if context else self._stop_for(form_key)
            added += self.reader.attach(self.graph, wanted, layer, stop)
        for node, lk, tid in found:
            self.graph.add_edge(node.key, node_key(lk.target, tid), lk)
        return added

    def forward(self) -> None:
        """Follow what references the records, hop by hop (layers 1, 2 …), with context targets."""
        frontier = [self.start]
        for hop in range(1, self.graph.depth + 1):
            per_target = self.graph.max_nodes + 1 if hop == 1 else self.hub_limit + 1
            found = self._without_hubs(self.reader.incoming(frontier, per_target))
            added = self._link_sources(found, hop)
            frontier = [n for n in added if n.expandable]
            if hop < self.graph.depth and frontier:
                self._link_targets(self.reader.outgoing(frontier, skip_arrived=True), hop + 1, context=True)
            if not frontier:
                return

    def _without_hubs(self, found):
        """Drop the referrers of hubs (more than ``hub_limit`` readable forward links), marking them."""
        totals: dict[str, int] = defaultdict(int)
        counted: set[tuple[str, str]] = set()
        for lk, _src, node, n in found:
            if (node.key, lk.source + "." + lk.field_path) not in counted:
                counted.add((node.key, lk.source + "." + lk.field_path))
                totals[node.key] += n
        hubs = {key for key, total in totals.items() if total > self.hub_limit and key != self.graph.start}
        for lk, _src, node, _n in found:
            if node.key in hubs:
                node.stop, node.links = STOP_HUB, totals[node.key]
        return [item for item in found if item[2].key not in hubs]

    def _link_sources(self, found, hop: int) -> list[Node]:
        """Add the referring records as nodes on layer ``hop`` and their edges; the new nodes."""
        added: list[Node] = []
        for form_key in sorted({lk.source for lk, _, _, _ in found}):
            wanted = [(form_key, src) for lk, src, _, _ in found if lk.source == form_key]
            added += self.reader.attach(self.graph, wanted, hop, self._stop_for(form_key))
        new = {n.key for n in added}
        for lk, src, node, _n in found:
            key = node_key(lk.source, src)
            if key in new:
                self.graph.nodes[key].arrived.add(lk.field_path)
            self.graph.add_edge(key, node.key, lk)
        return added
