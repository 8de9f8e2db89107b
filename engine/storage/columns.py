"""Column specs of record tables: StorageKind ⇄ SQLAlchemy types, reflection and safe widening.

A :class:`ColumnSpec` is the database-independent description of one field column. The
widening order (what a republish may change without touching stored values):

* TEXT(n) → TEXT(m ≥ n) → TEXT (unbounded)
* INTEGER → DECIMAL(p, s)    (integer part kept: BIGINT needs 19 digits)
* DECIMAL(p, s) → DECIMAL with at least as many integer digits and scale digits

A narrower definition (TEXT(80) → TEXT(40), DECIMAL → INTEGER) keeps a column wide enough for
both: the definition limits new input, stored values stay. Any other change of kind is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from engine.fields.base import Column as FieldColumn
from engine.fields.base import StorageKind

BIGINT_DIGITS = 19          # a BIGINT holds 19 decimal digits
MAX_PRECISION = 1000        # PostgreSQL's NUMERIC limit
VARCHAR_LIMIT = 10_485_760  # PostgreSQL's VARCHAR limit; longer means TEXT


@dataclass(frozen=True)
class ColumnSpec:
    """One field column: name + storage kind with length / precision / scale, and an index flag."""

    name: str
    kind: StorageKind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    indexed: bool = False

    @classmethod
    def of_field(cls, name: str, col: FieldColumn, indexed: bool = False) -> "ColumnSpec":
        """From a field type's storage description."""
        kind = StorageKind(col.kind)
        if kind is StorageKind.DECIMAL:
            scale = col.scale or 0
            precision = max(col.precision or (BIGINT_DIGITS + scale), scale + 1)
            return cls(name, kind, precision=min(precision, MAX_PRECISION), scale=scale, indexed=indexed)
        length = col.length if kind is StorageKind.TEXT and col.length and col.length <= VARCHAR_LIMIT else None
        return cls(name, kind, length=length, indexed=indexed)

    def to_json(self) -> dict:
        out = {"name": self.name, "kind": self.kind.value}
        for key in ("length", "precision", "scale"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.indexed:
            out["indexed"] = True
        return out

    @classmethod
    def from_json(cls, data: dict) -> "ColumnSpec":
        return cls(data["name"], StorageKind(data["kind"]), data.get("length"), data.get("precision"),
                   data.get("scale"), bool(data.get("indexed")))

    def describe(self) -> str:
        """Short type text for messages: ``text(40)``, ``decimal(18,4)``, ``integer``."""
        if self.kind is StorageKind.TEXT and self.length:
            return f"text({self.length})"
        if self.kind is StorageKind.DECIMAL:
            return f"decimal({self.precision},{self.scale})"
        return self.kind.value


def sa_type(spec: ColumnSpec) -> TypeEngine:
    """The SQLAlchemy type of a field column."""
    kind = spec.kind
    if kind is StorageKind.TEXT:
        return String(spec.length) if spec.length else Text()
    if kind is StorageKind.INTEGER:
        return BigInteger()
    if kind is StorageKind.DECIMAL:
        return Numeric(spec.precision, spec.scale, asdecimal=False)
    if kind is StorageKind.BOOLEAN:
        return Boolean()
    if kind is StorageKind.DATE:
        return Date()
    if kind is StorageKind.DATETIME:
        return DateTime(timezone=True)
    return JSON().with_variant(JSONB(), "postgresql")


def reflected_spec(name: str, type_: TypeEngine) -> ColumnSpec | None:
    """The ColumnSpec of a reflected column type, or None when it is not one we generate."""
    if isinstance(type_, Boolean):
        return ColumnSpec(name, StorageKind.BOOLEAN)
    if isinstance(type_, Integer):
        return ColumnSpec(name, StorageKind.INTEGER)
    if isinstance(type_, Numeric):
        return ColumnSpec(name, StorageKind.DECIMAL, precision=type_.precision, scale=type_.scale or 0)
    if isinstance(type_, DateTime):
        return ColumnSpec(name, StorageKind.DATETIME)
    if isinstance(type_, Date):
        return ColumnSpec(name, StorageKind.DATE)
    if isinstance(type_, JSON):
        return ColumnSpec(name, StorageKind.JSON)
    if isinstance(type_, String):
        return ColumnSpec(name, StorageKind.TEXT, length=type_.length)
    return None


def _digits(spec: ColumnSpec) -> tuple[int, int]:
    """(integer digits, scale digits) of a number column."""
    if spec.kind is StorageKind.INTEGER:
        return BIGINT_DIGITS, 0
    scale = spec.scale or 0
    return (spec.precision or BIGINT_DIGITS + scale) - scale, scale


def widen(old: ColumnSpec, new: ColumnSpec) -> ColumnSpec | None:
    """The column that holds both old values and new input, or None if no safe one exists.

    The result keeps ``new``'s index flag. Equal to ``old`` (ignoring the flag) = no change.
    """
    if old.kind is StorageKind.TEXT and new.kind is StorageKind.TEXT:
        length = None if old.length is None or new.length is None else max(old.length, new.length)
        return replace(old, length=length, indexed=new.indexed)
    numbers = (StorageKind.INTEGER, StorageKind.DECIMAL)
    if old.kind in numbers and new.kind in numbers:
        if old.kind is StorageKind.INTEGER and new.kind is StorageKind.INTEGER:
            return replace(old, indexed=new.indexed)
        (oi, os_), (ni, ns) = _digits(old), _digits(new)
        whole, scale = max(oi, ni), max(os_, ns)
        return ColumnSpec(old.name, StorageKind.DECIMAL, precision=min(whole + scale, MAX_PRECISION),
                          scale=scale, indexed=new.indexed)
    if old.kind is new.kind:
        return replace(old, indexed=new.indexed)
    return None


def same_type(a: ColumnSpec, b: ColumnSpec) -> bool:
    """True if both describe the same SQL type (index flags ignored)."""
    return (a.kind, a.length, a.precision, a.scale) == (b.kind, b.length, b.precision, b.scale)
