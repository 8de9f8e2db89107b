"""Who a node's tasks go to: one registered resolver per assignee kind (docs/flows.md).

A resolver gets the spec's value and an :class:`AssigneeContext` and returns user ids. The
directory (users, roles, departments) is behind a small protocol so this module stays pure;
the service passes a database-backed one. Adding a kind = one decorated function here plus its
name in ``engine.flows.model.ASSIGNEE_KINDS`` and the flow schema.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol

from engine.flows.model import Assignee
from engine.registry import Registry


class Directory(Protocol):
    """What resolvers may ask about the tenant's people."""

    def users_with_role(self, role_key: str) -> list[int]: ...
    def department_head(self, user_id: int, level: int) -> int | None: ...
    def active_users(self, ids: Iterable[int]) -> list[int]: ...


@dataclass
class AssigneeContext:
    submitter_id: int | None
    values: Mapping[str, Any]                        # the record's current values
    directory: Directory
    evaluate: Callable[[str, Mapping[str, Any]], Any]  # expression, values → value


Resolver = Callable[[Any, AssigneeContext], list[int]]
RESOLVERS: Registry[Resolver] = Registry("assignee kind")
resolver = RESOLVERS.decorator


def resolve(specs: Iterable[Assignee], ctx: AssigneeContext) -> list[int]:
    """Active users named by ``specs``, in spec order, each once."""
    found: list[int] = []
    for spec in specs:
        found.extend(RESOLVERS.get(spec.kind)(spec.value, ctx))
    unique = list(dict.fromkeys(i for i in found if _is_user_id(i)))
    active = set(ctx.directory.active_users(unique))
    return [i for i in unique if i in active]


def _is_user_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _ids(value: Any) -> list[int]:
    """A user id, a whole-number float, or a list of them → ids (anything else is ignored)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if _is_user_id(item):
            out.append(item)
    return out


@resolver("user")
def _user(value: Any, ctx: AssigneeContext) -> list[int]:
    return _ids(value)


@resolver("role")
def _role(value: Any, ctx: AssigneeContext) -> list[int]:
    return ctx.directory.users_with_role(value) if isinstance(value, str) else []


@resolver("department_head")
def _department_head(value: Any, ctx: AssigneeContext) -> list[int]:
    if ctx.submitter_id is None:
        return []
    head = ctx.directory.department_head(ctx.submitter_id, value if isinstance(value, int) and value > 0 else 1)
    return [head] if head else []


@resolver("field")
def _field(value: Any, ctx: AssigneeContext) -> list[int]:
    return _ids(ctx.values.get(value)) if isinstance(value, str) else []


@resolver("expression")
def _expression(value: Any, ctx: AssigneeContext) -> list[int]:
    from engine.errors import ExpressionError
    try:
        return _ids(ctx.evaluate(value, ctx.values))
    except ExpressionError:
        return []


@resolver("submitter")
def _submitter(value: Any, ctx: AssigneeContext) -> list[int]:
    return [ctx.submitter_id] if ctx.submitter_id else []
