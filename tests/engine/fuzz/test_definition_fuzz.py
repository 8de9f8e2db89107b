"""Fuzzing the import of app packages: mutations of the shipped IQC package.

Each case takes ``templates_qms/iqc`` and breaks it: keys deleted, types swapped, unicode,
huge strings and numbers, deep nesting, duplicated entries, hostile identifiers, 10k fields.
The import service raises nothing but :class:`DefinitionError` (every problem with a path and
both languages), ``POST /api/v1/apps/import`` answers 422 ``{"errors":[{"path","message"}]}``
(or 201 when the mutation happens to be valid), and a refused import leaves every table as it was.
"""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.errors import DefinitionError
from engine.services import apps as app_service
from engine.storage.db import session_scope
from templates_qms.catalog import install_all, load_package
from tests.engine.fuzz.support import db_snapshot
from tests.runtime.api.support import add_tenant, bearer
from tests.runtime.web_support import make_app

BASE = load_package("iqc")
BAD_NAMES = ["x; DROP TABLE users", "../../etc/passwd", "__class__", "select", "order", "group", "table", "id",
             "", " ", "A-B", "9lives", "ключ", "键", "a" * 300, "x\x00y", "'; --", "<script>", "$.forms"]
CASES = {"engine": 0, "api": 0, "refused": 0, "accepted": 0}


def _deep(depth: int):
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


NASTY = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 10**30, -(10**30), 1e308, 0.5, "", {}, [], [None], {"": None}]),
    st.sampled_from(BAD_NAMES),
    st.text(max_size=40),
    st.just("長" * 100_000),
    st.integers(min_value=50, max_value=600).map(_deep),      # JSON-encodable depths
    st.dictionaries(st.sampled_from(BAD_NAMES), st.integers(), max_size=3),
)


def _nodes(value, path=()):
    """Every (path, value) inside a JSON value."""
    yield path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        yield from _nodes(v, path + (k,))


_PATHS = [p for p, _ in _nodes(BASE) if p]


def _parent(doc, path):
    for k in path[:-1]:
        doc = doc[k]
    return doc


def _apply(doc, path, kind: str, value) -> None:
    try:
        parent = _parent(doc, path)
        key = path[-1]
        parent[key]
    except (KeyError, IndexError, TypeError):
        return                                      # an earlier mutation removed the place
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = value
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif kind == "rename" and isinstance(parent, dict):
        parent[value if isinstance(value, str) else str(value)[:50]] = parent.pop(key)


@st.composite
def mutated_packages(draw):
    doc = copy.deepcopy(BASE)
    if draw(st.integers(0, 9)) == 0:                 # 10k fields on the inspection form
        template = doc["forms"][0]["fields"][1]
        doc["forms"][0]["fields"] += [{**template, "key": f"f{i}"} for i in range(10_000)]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS))
        kind = draw(st.sampled_from(["delete", "replace", "replace", "duplicate", "rename"]))
        _apply(doc, path, kind, draw(NASTY))
    return doc


def _with(path: tuple, value) -> dict:
    doc = copy.deepcopy(BASE)
    _apply(doc, path, "replace", value)
    return doc


def _ten_thousand_fields() -> dict:
    doc = copy.deepcopy(BASE)
    template = doc["forms"][0]["fields"][1]
    doc["forms"][0]["fields"] += [{**template, "key": f"f{i}"} for i in range(10_000)]
    return doc


# found by this fuzzer: deep nesting crashed the import with RecursionError, 10k fields took 9-18 s to refuse
KNOWN = [_with(("description",), _deep(3000)), _with(("forms", 0, "fields", 2), _deep(900)), _ten_thousand_fields()]


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    """The app with ``qms_base`` installed (the IQC package requires it)."""
    app = make_app(tmp_path_factory.mktemp("defs"))
    tenant = add_tenant(app, "default")
    with session_scope(app.extensions["qms_db"]) as s:
        install_all(s, tenant.admin, only=["qms_base"])
    return app, tenant


def _check_problems(problems: list[dict]) -> None:
    assert problems
    for p in problems:
        assert isinstance(p["path"], str) and p["path"].startswith("$") and p["message"], p
        assert p["messages"]["zh-CN"] and p["messages"]["en"], p


FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@FUZZ
@example(package=KNOWN[0])
@example(package=KNOWN[1])
@example(package=KNOWN[2])
@given(package=mutated_packages())
def test_import_service_raises_only_definition_errors_and_stores_nothing(plant, package):
    app, tenant = plant
    engine = app.extensions["qms_db"]
    before = db_snapshot(engine)
    CASES["engine"] += 1
    try:
        with session_scope(engine) as s:
            app_service.import_app(s, tenant.admin, package)
    except DefinitionError as exc:
        CASES["refused"] += 1
        _check_problems([p.to_dict("en") for p in exc.problems])
        assert db_snapshot(engine) == before
    else:
        CASES["accepted"] += 1


@settings(FUZZ, max_examples=15)
@example(package=KNOWN[1])
@example(package=KNOWN[2])
@given(package=mutated_packages())
def test_import_api_answers_422_with_paths_or_201(plant, package):
    app, tenant = plant
    engine = app.extensions["qms_db"]
    before = db_snapshot(engine)
    CASES["api"] += 1
    body = json.dumps(package, ensure_ascii=False)
    res = app.test_client().post("/api/v1/apps/import", data=body, content_type="application/json",
                                 headers=bearer(tenant.admin_token, "zh-CN"))
    assert res.status_code in (201, 400, 422), res.get_data(as_text=True)[:500]
    reply = res.get_json()
    if res.status_code != 201:
        assert reply["error"]["code"] and reply["error"]["message"]
        if res.status_code == 422:
            _check_problems(reply["errors"])
        assert db_snapshot(engine) == before


def test_api_refuses_json_nested_far_beyond_the_parser(plant):
    app, tenant = plant
    engine = app.extensions["qms_db"]
    before = db_snapshot(engine)
    body = '{"key": "x", "description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    res = app.test_client().post("/api/v1/apps/import", data=body, content_type="application/json",
                                 headers=bearer(tenant.admin_token))
    assert res.status_code in (400, 422) and res.get_json()["error"]["message"]
    assert db_snapshot(engine) == before


def test_report_fuzz_case_counts():
    """Runs last in this module: the number of fuzz cases (for the CI log)."""
    print(f"definition fuzz: {CASES}")
