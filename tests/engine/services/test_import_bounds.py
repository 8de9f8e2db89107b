"""App packages too deep or too long are refused at once with a DefinitionError (found by fuzzing)."""
from __future__ import annotations

import time

import pytest

from engine.errors import DefinitionError
from engine.services.apps import import_app
from engine.storage.db import session_scope
from engine.types import Actor
from tests.runtime.api.support import app_package


def _deep(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("mutate", [
    lambda p: p.update(description=_deep(5_000)),                     # was RecursionError in copy.deepcopy
    lambda p: p["forms"][0]["fields"].extend({"key": f"f{i}", "type": "number", "label": {"en": "n", "zh-CN": "n"}}
                                             for i in range(10_000)),  # took 9-18 s in the JSON Schema
])
def test_oversized_packages_are_refused_quickly(db_engine, actor, mutate):
    admin = Actor(tenant_id=actor.tenant_id, user_id=actor.user_id, lang="en", is_admin=True)
    package = app_package()
    mutate(package)
    started = time.perf_counter()
    with pytest.raises(DefinitionError) as info, session_scope(db_engine) as s:
        import_app(s, admin, package)
    assert time.perf_counter() - started < 1.0
    problem = info.value.problems[0]
    assert problem.path.startswith("$") and problem.message.zh and problem.message.en
