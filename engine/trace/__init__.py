"""Traceability as a graph: which records a record references (backward, "what went into it")
and which records reference it (forward, "where did it go"), computed from the reference fields
of any published forms — nothing here knows about lots, batches or shipments.

* :mod:`engine.trace.links` — the reference fields of a set of forms, as typed links
* :mod:`engine.trace.graph` — the bounded graph being built (nodes, edges, layers, cut marks)

The walk itself (SQL per hop, read scopes, hidden fields) is the use case
:func:`engine.services.trace.trace_record`.
"""
from engine.trace.graph import Edge, Node, TraceGraph, node_key
from engine.trace.links import Link, reference_links

__all__ = ["Edge", "Link", "Node", "TraceGraph", "node_key", "reference_links"]
