"""Field paths of a report's dataset, resolved against the form.

A path names a value a dataset can group, filter or aggregate by:

* ``supplier`` — a field of the form (or a system column: ``created_at``, ``status`` …);
* ``defects.qty`` — a column of a sub-table (``lots.readings.value`` for a nested one); the
  dataset's rows are then the sub-table's rows (its *grain*): one sub-table chain per dataset;
* ``supplier.name`` — a field of the record a reference field points to (one hop, joined).

Resolution never builds SQL; :mod:`engine.reports.query` turns a :class:`FieldRef` into a column.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from engine.definitions.model import FieldDef, FormDef
from engine.fields import field_type
from engine.fields.base import StorageKind
from engine.i18n import Msg, msg

SYSTEM_COLUMNS: dict[str, tuple[StorageKind, Msg]] = {
    "id": (StorageKind.INTEGER, Msg("记录ID", "Record id")),
    "serial_no": (StorageKind.TEXT, Msg("编号", "Number")),
    "title": (StorageKind.TEXT, Msg("标题", "Title")),
    "status": (StorageKind.TEXT, Msg("状态", "Status")),
    "flow_state": (StorageKind.TEXT, Msg("流程状态", "Flow state")),
    "created_by": (StorageKind.INTEGER, Msg("创建人", "Created by")),
    "created_at": (StorageKind.DATETIME, Msg("创建时间", "Created at")),
    "updated_by": (StorageKind.INTEGER, Msg("修改人", "Updated by")),
    "updated_at": (StorageKind.DATETIME, Msg("修改时间", "Updated at")),
}
NUMERIC = (StorageKind.INTEGER, StorageKind.DECIMAL)
DATES = (StorageKind.DATE, StorageKind.DATETIME)


class PathError(ValueError):
    """A path that does not name a usable value (``message`` is bilingual)."""

    def __init__(self, message: Msg):
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True)
class FieldRef:
    """Where a path's value lives: ``table`` = sub-table path of the form (() = the record),
    ``via`` = the reference field of that table joined to ``target`` (None: no join)."""

    path: str
    table: tuple[str, ...]
    column: str
    kind: StorageKind
    label: Msg
    field: FieldDef | None = None        # None: a system column
    via: str | None = None
    target: str | None = None            # the referenced form's key

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def is_date(self) -> bool:
        return self.kind in DATES

    @property
    def choices(self) -> dict[str, Msg]:
        """Option code → label of a choice field (empty for other fields)."""
        if self.field is None:
            return {}
        out = {}
        for c in self.field.shown_as().option("choices") or ():
            label = c.get("label") or {}
            out[str(c.get("code"))] = Msg(label.get("zh-CN", str(c.get("code"))), label.get("en", str(c.get("code"))))
        return out


def _scalar(f: FieldDef) -> StorageKind | None:
    ftype = field_type(f.type)
    if ftype.is_subtable:
        return None
    col = ftype.storage(f)
    return StorageKind(col.kind) if col is not None else None


def _field(fields, key: str) -> FieldDef | None:
    return next((f for f in fields if f.key == key), None)


def resolve(path: str, form: FormDef, forms: Mapping[str, FormDef]) -> FieldRef:
    """The FieldRef of ``path`` in ``form`` (``forms``: the tenant's published forms, for
    reference hops); PathError saying what is wrong otherwise."""
    parts = path.split(".")
    fields, table = form.fields, ()
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        f = _field(fields, part)
        if f is None:
            if not table and last and part in SYSTEM_COLUMNS and len(parts) == 1:
                kind, label = SYSTEM_COLUMNS[part]
                return FieldRef(path, (), part, kind, label)
            where = ".".join(parts[:i]) or form.key
            raise PathError(msg("“{w}”中没有字段“{k}”", "'{w}' has no field '{k}'", w=where, k=part))
        if field_type(f.type).is_subtable:
            if last:
                raise PathError(msg("“{p}”是子表，请选择它的一列，如 {p}.字段", "'{p}' is a sub-table; name one of its "
                                    "columns, e.g. {p}.<field>", p=path))
            fields, table = f.fields, table + (f.key,)
            continue
        kind = _scalar(f)
        if last:
            if kind is None or kind is StorageKind.JSON:
                raise PathError(msg("字段“{p}”（{t}）不能用于报表", "Field '{p}' ({t}) cannot be used in a report",
                                    p=path, t=f.type))
            return FieldRef(path, table, f.key, kind, f.label, f)
        if f.type != "reference" or table:
            raise PathError(msg("“{p}”不是子表或（主表的）引用字段，不能再取“{n}”",
                                "'{p}' is neither a sub-table nor a reference field of the record, so '{n}' cannot follow it",
                                p=".".join(parts[:i + 1]), n=parts[i + 1]))
        return _through(path, f, parts[i + 1:], forms)
    raise PathError(msg("路径“{p}”为空", "The path '{p}' is empty", p=path))


def _through(path: str, ref: FieldDef, rest: list[str], forms: Mapping[str, FormDef]) -> FieldRef:
    target_key = ref.option("form")
    target = forms.get(target_key) if isinstance(target_key, str) else None
    if target is None:
        raise PathError(msg("引用字段“{r}”指向的表单“{f}”尚未发布", "The form '{f}' that '{r}' references is not published",
                            r=ref.key, f=target_key))
    if len(rest) != 1:
        raise PathError(msg("经引用字段“{r}”只能取目标表单的一个字段，如 {r}.name",
                            "Through the reference '{r}' name one field of the target form, e.g. {r}.name", r=ref.key))
    inner = resolve(rest[0], target, {})
    if inner.table:
        raise PathError(msg("不能经引用字段取子表列", "A reference cannot lead into a sub-table"))
    return FieldRef(path, (), inner.column, inner.kind,
                    Msg(f"{ref.label.zh}·{inner.label.zh}", f"{ref.label.en} · {inner.label.en}"),
                    inner.field, via=ref.key, target=target.key)


def subtables(form: FormDef) -> set[tuple[str, ...]]:
    """Every sub-table path of the form (for finding a dataset's grain from expressions)."""
    out: set[tuple[str, ...]] = set()

    def visit(fields, prefix):
        for f in fields:
            if field_type(f.type).is_subtable:
                out.add(prefix + (f.key,))
                visit(f.fields, prefix + (f.key,))
    visit(form.fields, ())
    return out


def grain_of(tables: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The deepest table of ``tables`` if all lie on one chain (each a prefix of it), else None."""
    deepest: tuple[str, ...] = ()
    for t in tables:
        if len(t) > len(deepest):
            deepest = t
    return deepest if all(deepest[:len(t)] == t for t in tables) else None
