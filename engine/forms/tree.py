"""Step 1 of validating a record: submitted JSON → a tree of nodes holding coerced values.

A *node* is the form itself or one sub-table row (at any depth). The builder checks the shape
of the input (an object, known keys, sub-tables as lists of objects, row ids), coerces every
submitted value with its field type, merges with the stored record where the update is
partial, and keeps readonly values. Problems about a single field are parked on the node
(``bad``) so the check step reports them in field order; shape problems are reported at once.

Row ids: on an update, a row carrying the ``id`` of a stored row updates that row (storage
matches child rows by it); ids not among the stored rows are a problem. On a new record or a
new parent row there is nothing to match, so submitted ids are dropped.
"""
from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping

from engine.errors import FieldProblem
from engine.fields.subtable import MAX_ROWS
from engine.forms import messages
from engine.forms.plan import Env, ExprProp, FieldPlan, TablePlan, coerce, flag
from engine.i18n import Msg


#: System columns of a stored record that expressions may name (see engine.definitions.scopes).
SYSTEM_KEYS = ("id", "serial_no", "title", "status", "flow_state", "created_by", "created_at",
               "updated_by", "updated_at")
#: Rows of all sub-tables of one record together; bounds the work one save can cause.
MAX_NODES = 100_000


@dataclass(eq=False)
class Node:
    """The form or one sub-table row while it is being validated."""

    table: TablePlan
    values: dict[str, Any]
    env: Env                         # what expressions see: these values, then the enclosing levels
    prefix: str                      # "" or "characteristics[2]." (0-based row indexes)
    order: tuple                     # sort key of its problems: field positions and row indexes
    old: Mapping[str, Any] | None    # the stored record/row this node updates; None = new
    old_env: Env | None              # the same for the stored values (readonly is judged there)
    parent: "Node | None" = None
    sub_key: str | None = None       # key of the sub-table holding this row
    given: set[str] = dc_field(default_factory=set)     # submitted keys: these get validated
    locked: set[str] = dc_field(default_factory=set)    # readonly keys: kept, never validated
    bad: dict[str, Msg] = dc_field(default_factory=dict)  # key → problem found before checking
    cleared: set[str] = dc_field(default_factory=set)   # sub-tables emptied because readonly
    hidden: set[str] = dc_field(default_factory=set)    # sub-tables whose rows skip checks
    dropped: bool = False
    skip: bool = False


class Problems:
    """Collects field problems with a sort key, so they come out in form order."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple, int, FieldProblem]] = []

    def add(self, order: tuple, path: str, message: Msg) -> None:
        self._items.append((order, len(self._items), FieldProblem(path, message)))

    def sorted(self) -> list[FieldProblem]:
        return [p for _o, _n, p in sorted(self._items, key=lambda t: (t[0], t[1]))]

    def __bool__(self) -> bool:
        return bool(self._items)


def _with_system(values: dict[str, Any], old: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The record's values, plus the stored system columns (id, serial_no, created_at …) that
    expressions may name; those are never part of the clean result."""
    system = {k: old[k] for k in SYSTEM_KEYS if old is not None and k in old}
    return ChainMap(values, system) if system else values


def _is_row_id(value: Any) -> bool:
    return type(value) is int and value > 0


class TreeBuilder:
    """Builds the node tree; ``nodes`` lists every node parents-first."""

    def __init__(self, ctx: Any, problems: Problems, partial: bool):
        self.ctx = ctx
        self.problems = problems
        self.partial = partial
        self.nodes: list[Node] = []

    def build(self, table: TablePlan, data: Any, old: Mapping[str, Any] | None) -> Node:
        """The root node from the submitted record ``data`` (and the stored ``old`` one)."""
        if not isinstance(data, Mapping):
            self.problems.add((), "", messages.not_an_object())
            data = {}
        return self._node(table, data, old, None, None, "", (), merge=self.partial)

    def _node(self, table: TablePlan, submitted: Mapping, old: Mapping | None, parent: Node | None,
              sub_key: str | None, prefix: str, order: tuple, merge: bool) -> Node:
        values: dict[str, Any] = {}
        if parent is not None and old is not None and _is_row_id(old.get("id")):
            values["id"] = old["id"]
        if parent is None:
            env, old_env = Env(_with_system(values, old)), None if old is None else Env(old)
        else:
            env = parent.env.inner(values)
            old_env = None if old is None or parent.old_env is None else parent.old_env.inner(old)
        node = Node(table=table, values=values, prefix=prefix, order=order, old=old, parent=parent,
                    sub_key=sub_key, env=env, old_env=old_env)
        self.nodes.append(node)
        self._unknown_keys(node, submitted)
        for fp in table.fields:
            self._field(node, fp, submitted, merge)
        return node

    def _unknown_keys(self, node: Node, submitted: Mapping) -> None:
        extra = len(node.table.fields)
        for key in submitted:
            if key in node.table.by_key or (node.parent is not None and key == "id"):
                continue
            self.problems.add(node.order + (extra,), node.prefix + str(key), messages.unknown_field(str(key)))

    def _field(self, node: Node, fp: FieldPlan, submitted: Mapping, merge: bool) -> None:
        key, old = fp.key, node.old
        if fp.computed:                       # produced here or by storage; input is ignored
            node.values[key] = old.get(key) if old is not None else None
            return
        present = key in submitted
        if merge and not present and old is not None:
            node.values[key] = self._carry(node, fp) if fp.table else old.get(key)
            return
        if self._readonly(node, fp):
            node.locked.add(key)
            if old is None:                   # new record/row: the default goes in later
                node.values[key] = [] if fp.table else None
            else:
                node.values[key] = self._carry(node, fp) if fp.table else old.get(key)
            return
        node.given.add(key)
        raw = submitted.get(key)
        if fp.table is not None:
            node.values[key] = self._rows(node, fp, raw)
        else:
            node.values[key] = self._coerce(node, fp, raw)

    def _readonly(self, node: Node, fp: FieldPlan) -> bool:
        """Readonly of a stored record/row is judged on its stored values (what the user saw);
        that of a new one later, on the new values (see engine.forms.record)."""
        prop = fp.props["readonly"]
        if isinstance(prop, ExprProp) and node.old_env is None:
            return False
        locked, error = flag(prop, node.old_env, self.ctx, on_error=True)
        if error is not None:
            node.bad[fp.key] = messages.condition_failed(fp.label, error)
        return locked

    def _coerce(self, node: Node, fp: FieldPlan, raw: Any) -> Any:
        value, reason = coerce(fp, raw)
        if reason is not None:
            node.bad[fp.key] = messages.bad_value(fp.label, reason)
        return value

    def _carry(self, node: Node, fp: FieldPlan) -> list[dict]:
        """Stored rows kept as they are (a partial update that leaves the sub-table alone)."""
        rows = node.old.get(fp.key) if node.old is not None else None
        out = []
        for i, row in enumerate(rows if isinstance(rows, list) else ()):
            if isinstance(row, Mapping):
                child = self._node(fp.table, {}, row, node, fp.key, f"{node.prefix}{fp.key}[{i}].",
                                   node.order + (fp.index, i), merge=True)
                out.append(child.values)
        return out

    def _rows(self, node: Node, fp: FieldPlan, raw: Any) -> list[dict]:
        path, order = node.prefix + fp.key, node.order + (fp.index,)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            self.problems.add(order, path, messages.not_rows(fp.label))
            return []
        if len(raw) > MAX_ROWS or len(self.nodes) + len(raw) > MAX_NODES:
            self.problems.add(order, path, messages.too_many_rows(fp.label, MAX_ROWS, MAX_NODES))
            return []
        stored = self._stored_rows(node, fp)
        seen: set[int] = set()
        out = []
        for i, row in enumerate(raw):
            if not isinstance(row, Mapping):
                self.problems.add(order + (i,), f"{path}[{i}]", messages.row_not_object(fp.label))
                continue
            old_row = self._match_row(fp, row, stored, seen, order + (i, -1), f"{path}[{i}].id")
            child = self._node(fp.table, row, old_row, node, fp.key, f"{path}[{i}].", order + (i,),
                               merge=self.partial and old_row is not None)
            out.append(child.values)
        return out

    @staticmethod
    def _stored_rows(node: Node, fp: FieldPlan) -> dict[int, Mapping] | None:
        """Stored rows by id, or None when the parent is new (nothing to match)."""
        if node.old is None:
            return None
        rows = node.old.get(fp.key)
        return {r["id"]: r for r in rows if isinstance(r, Mapping) and _is_row_id(r.get("id"))} \
            if isinstance(rows, list) else {}

    def _match_row(self, fp: FieldPlan, row: Mapping, stored: dict | None, seen: set,
                   order: tuple, path: str) -> Mapping | None:
        row_id = row.get("id")
        if row_id is None:
            return None
        if not _is_row_id(row_id):
            self.problems.add(order, path, messages.bad_row_id(fp.label))
            return None
        if stored is None:
            return None
        if row_id in seen:
            self.problems.add(order, path, messages.duplicate_row_id(fp.label, row_id))
            return None
        if row_id not in stored:
            self.problems.add(order, path, messages.unknown_row_id(fp.label, row_id))
            return None
        seen.add(row_id)
        return stored[row_id]
