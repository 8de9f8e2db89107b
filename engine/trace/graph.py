"""The trace graph being built: nodes on layers, edges with the field they come from, and bounds.

Layers: the start record is layer 0, records found walking backward get negative layers and
records found walking forward positive ones (each node keeps the first layer it was found on,
so a cycle or a diamond never duplicates a node). The node bound is enforced here: once
``max_nodes`` nodes exist, further nodes are refused and the graph says it was cut.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.trace.links import Link

# why a node was not expanded further (None: it was, or the depth bound ended the walk there)
STOP_HUB = "hub"                # more than the hub limit of forward links: shown with their count
STOP_FILTERED = "filtered"      # its form is not among the forms the caller expands through
STOP_CONTEXT = "context"        # referenced by a forward record (its customer, part …): shown, not walked


def node_key(form_key: str, record_id: int) -> str:
    """``batch:12``: how nodes are named in edges and in the JSON."""
    return f"{form_key}:{record_id}"


@dataclass
class Node:
    """One record in the graph. ``row`` (internal) holds the columns the walk reads; ``info`` the
    JSON-ready display data (no hidden field ever reaches it)."""

    form: str
    id: int
    layer: int
    row: Mapping[str, Any] = field(repr=False, default_factory=dict)
    info: dict = field(default_factory=dict)
    stop: str | None = None
    links: int | None = None
    arrived: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return node_key(self.form, self.id)

    @property
    def expandable(self) -> bool:
        return self.stop is None

    def to_json(self) -> dict:
        return {"key": self.key, "form": self.form, "id": self.id, "layer": self.layer, **self.info,
                "expanded": self.stop is None, "stop": self.stop, "links": self.links}


@dataclass(frozen=True)
class Edge:
    """``source`` references ``target`` through ``link`` (a reference field of the source's form)."""

    source: str
    target: str
    link: Link

    def to_json(self) -> dict:
        return {"from": self.source, "to": self.target, "field": self.link.field_path,
                "label": self.link.label.to_dict()}


class TraceGraph:
    """Nodes by key, edges without duplicates, and whether a bound cut the walk."""

    def __init__(self, start: tuple[str, int], max_nodes: int, depth: int, direction: str):
        self.start = node_key(*start)
        self.max_nodes = max_nodes
        self.depth = depth
        self.direction = direction
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str, str], Edge] = {}
        self.truncated = False

    def get(self, form_key: str, record_id: int) -> Node | None:
        return self.nodes.get(node_key(form_key, record_id))

    @property
    def full(self) -> bool:
        return len(self.nodes) >= self.max_nodes

    def add_node(self, form_key: str, record_id: int, layer: int, row: Mapping, info: dict) -> Node | None:
        """The node (the existing one when known); None when the node bound refuses it (marks the cut)."""
        known = self.get(form_key, record_id)
        if known is not None:
            return known
        if self.full:
            self.truncated = True
            return None
        node = self.nodes[node_key(form_key, record_id)] = Node(form_key, record_id, layer, row, info)
        return node

    def add_edge(self, source: str, target: str, link: Link) -> None:
        """Record that ``source`` references ``target`` (only between nodes in the graph)."""
        if source in self.nodes and target in self.nodes:
            self.edges.setdefault((source, target, link.source, link.field_path), Edge(source, target, link))

    def to_json(self) -> dict:
        """Nodes ordered by layer, form and id; edges in a stable order."""
        nodes = sorted(self.nodes.values(), key=lambda n: (n.layer, n.form, n.id))
        edges = [self.edges[k] for k in sorted(self.edges)]
        return {"start": self.start, "direction": self.direction, "depth": self.depth,
                "max_nodes": self.max_nodes, "truncated": self.truncated,
                "nodes": [n.to_json() for n in nodes], "edges": [e.to_json() for e in edges]}
