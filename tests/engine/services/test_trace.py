"""Trace graph over five small forms published here (material lot → production batch with a
materials sub-table → finished lot → shipment with an items sub-table → customer, plus the
supplier of the material lots): both directions, read scopes and hidden fields, cycles, bounds,
hubs, and a statement count that does not grow with the records. Re-run on PostgreSQL by
tests/integration/test_trace_pg.py."""
from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
from sqlalchemy import event, inspect

from engine.errors import NotFound
from engine.services import accounts
from engine.services import forms as form_service
from engine.services import records as record_service
from engine.services import trace as trace_service
from engine.storage import naming
from engine.storage.db import session_scope

_emails = itertools.count(1)


def _l(zh: str, en: str) -> dict:
    return {"zh-CN": zh, "en": en}


def _ref(key: str, zh: str, en: str, target: str) -> dict:
    return {"key": key, "type": "reference", "label": _l(zh, en), "form": target}


def _text(key: str, zh: str, en: str) -> dict:
    return {"key": key, "type": "text", "label": _l(zh, en)}


def _qty() -> dict:
    return {"key": "qty", "type": "number", "label": _l("数量", "Quantity"), "precision": 0}


SUPPLIER = {"format": 1, "key": "supplier", "label": _l("供应商", "Supplier"), "title_template": "{name}",
            "fields": [_text("name", "供应商名称", "Supplier name"), _text("code", "供应商代码", "Supplier code")]}
CUSTOMER = {"format": 1, "key": "customer", "label": _l("客户", "Customer"), "title_template": "{name}",
            "fields": [_text("name", "客户名称", "Customer name")]}
MATERIAL_LOT = {"format": 1, "key": "material_lot", "label": _l("来料批次", "Material lot"), "title_template": "{lot_no}",
                "fields": [_text("lot_no", "批号", "Lot number"), _ref("supplier", "供应商", "Supplier", "supplier"),
                           _qty(), {"key": "result", "type": "select", "label": _l("检验结果", "Result"),
                                    "choices": [{"code": "OK", "label": _l("合格", "Pass")},
                                                {"code": "NG", "label": _l("不合格", "Fail")}]}]}


def batch_definition(with_rework: bool = False) -> dict:
    fields = [_text("batch_no", "生产批号", "Batch number"), _text("line", "生产线", "Production line"),
              {"key": "materials", "type": "subtable", "label": _l("投料明细", "Materials"), "fields": [
                  _ref("material_lot", "来料批次", "Material lot", "material_lot"), _qty()]}]
    if with_rework:
        fields.append(_ref("rework_of", "返工来源成品批", "Rework of finished lot", "finished_lot"))
    return {"format": 1, "key": "batch", "label": _l("生产批次", "Production batch"), "title_template": "{batch_no}",
            "fields": fields}


FINISHED_LOT = {"format": 1, "key": "finished_lot", "label": _l("成品批次", "Finished lot"), "title_template": "{lot_no}",
                "fields": [_text("lot_no", "成品批号", "Finished lot number"),
                           _ref("batch", "生产批次", "Production batch", "batch"), _qty()]}
SHIPMENT = {"format": 1, "key": "shipment", "label": _l("发货单", "Shipment"), "title_template": "{ship_no}",
            "fields": [_text("ship_no", "发货单号", "Shipment number"), _ref("customer", "客户", "Customer", "customer"),
                       {"key": "items", "type": "subtable", "label": _l("发货明细", "Items"), "fields": [
                           _ref("finished_lot", "成品批次", "Finished lot", "finished_lot"), _qty()]}]}
FORMS = ("supplier", "customer", "material_lot", "batch", "finished_lot", "shipment")


class Plant:
    """The published forms of one tenant and helpers to add records and trace."""

    def __init__(self, engine, admin):
        self.engine, self.admin = engine, admin
        with session_scope(engine) as s:
            for d in (SUPPLIER, CUSTOMER, MATERIAL_LOT, batch_definition(), FINISHED_LOT, SHIPMENT,
                      batch_definition(with_rework=True)):
                form_service.publish_form(s, admin, d)
                self.indexed = trace_service.index_links(s, admin.tenant_id, d["key"])

    def add(self, form_key: str, actor=None, **data) -> int:
        with session_scope(self.engine) as s:
            return record_service.create_record(s, actor or self.admin, form_key, data).id

    def trace(self, form_key: str, record_id: int, actor=None, **kw) -> dict:
        with session_scope(self.engine) as s:
            return trace_service.trace_record(s, actor or self.admin, form_key, record_id, **kw).to_json()

    def chain(self, supplier: int, customer: int, tag: str, lots: int = 2) -> dict:
        """``lots`` material lots → one batch → one finished lot → one shipment: their ids."""
        lot_ids = [self.add("material_lot", lot_no=f"ML-{tag}-{i}", supplier=supplier, qty=100, result="OK")
                   for i in range(lots)]
        batch = self.add("batch", batch_no=f"B-{tag}", line="L1",
                         materials=[{"material_lot": lot, "qty": 10} for lot in lot_ids])
        finished = self.add("finished_lot", lot_no=f"FG-{tag}", batch=batch, qty=90)
        ship = self.add("shipment", ship_no=f"SH-{tag}", customer=customer, items=[{"finished_lot": finished, "qty": 90}])
        return {"lots": lot_ids, "batch": batch, "finished": finished, "shipment": ship}

    def role_user(self, **targets):
        key = f"r{next(_emails)}"
        with session_scope(self.engine) as s:
            accounts.create_role(s, self.admin.tenant_id, key, _l(key, key))
            for form_key in FORMS:
                accounts.set_permissions(s, self.admin.tenant_id, key, f"form:{form_key}",
                                         targets.get(form_key, {"read": "all", "create": True}))
            uid = accounts.create_user(s, self.admin.tenant_id, f"trace{next(_emails)}@example.com", "U", None,
                                       roles=[key])
            return accounts.actor_for_user(s, uid, lang="en")


@pytest.fixture
def plant(db_engine, actor):
    return Plant(db_engine, actor)


@pytest.fixture
def world(plant):
    """Two suppliers, one customer each side; lot ML-A-0 feeds batch A (→ FG-A → SH-A → Acme),
    and a second batch B uses ML-A-0 too (→ FG-B → SH-B → Beta)."""
    sup1 = plant.add("supplier", name="Steel Co", code="S1")
    sup2 = plant.add("supplier", name="Resin Co", code="S2")
    acme = plant.add("customer", name="Acme")
    beta = plant.add("customer", name="Beta")
    a = plant.chain(sup1, acme, "A")
    extra = plant.add("material_lot", lot_no="ML-R-1", supplier=sup2, qty=5, result="NG")
    batch_b = plant.add("batch", batch_no="B-B", line="L2",
                        materials=[{"material_lot": a["lots"][0], "qty": 1}, {"material_lot": extra, "qty": 2},
                                   {"material_lot": a["lots"][0], "qty": 3}])
    fg_b = plant.add("finished_lot", lot_no="FG-B", batch=batch_b, qty=7)
    sh_b = plant.add("shipment", ship_no="SH-B", customer=beta, items=[{"finished_lot": fg_b, "qty": 7}])
    return {"sup1": sup1, "sup2": sup2, "acme": acme, "beta": beta, "a": a, "extra": extra, "batch_b": batch_b,
            "fg_b": fg_b, "sh_b": sh_b}


def keys(graph: dict) -> set[str]:
    return {n["key"] for n in graph["nodes"]}


def node(graph: dict, key: str) -> dict:
    return next(n for n in graph["nodes"] if n["key"] == key)


def test_backward_from_a_shipment_reaches_the_supplier_lots(plant, world):
    a = world["a"]
    g = plant.trace("shipment", a["shipment"], direction="backward")
    assert keys(g) == {f"shipment:{a['shipment']}", f"customer:{world['acme']}", f"finished_lot:{a['finished']}",
                       f"batch:{a['batch']}", *(f"material_lot:{i}" for i in a["lots"]), f"supplier:{world['sup1']}"}
    layers = {n["key"]: n["layer"] for n in g["nodes"]}
    assert layers[f"shipment:{a['shipment']}"] == 0 and layers[f"finished_lot:{a['finished']}"] == -1
    assert layers[f"material_lot:{a['lots'][0]}"] == -3 and layers[f"supplier:{world['sup1']}"] == -4
    edges = {(e["from"], e["to"], e["field"]) for e in g["edges"]}
    assert (f"shipment:{a['shipment']}", f"finished_lot:{a['finished']}", "items.finished_lot") in edges
    assert (f"batch:{a['batch']}", f"material_lot:{a['lots'][1]}", "materials.material_lot") in edges
    edge = next(e for e in g["edges"] if e["field"] == "materials.material_lot")
    assert edge["label"] == {"zh-CN": "来料批次", "en": "Material lot"}
    assert g["truncated"] is False and g["start"] == f"shipment:{a['shipment']}"


def test_forward_from_a_supplier_lot_reaches_the_customers(plant, world):
    a = world["a"]
    lot = a["lots"][0]
    g = plant.trace("material_lot", lot, direction="forward")
    found = keys(g)
    assert {f"customer:{world['acme']}", f"customer:{world['beta']}"} <= found
    assert {f"shipment:{a['shipment']}", f"shipment:{world['sh_b']}", f"batch:{world['batch_b']}"} <= found
    # the batch's other material lots went in beside this one: they are not "where it went"
    assert f"material_lot:{world['extra']}" not in found and f"material_lot:{a['lots'][1]}" not in found
    assert f"supplier:{world['sup1']}" not in found              # forward only: nothing upstream
    customer = node(g, f"customer:{world['acme']}")
    assert customer["stop"] == "context" and customer["layer"] == 4 and customer["expanded"] is False
    assert node(g, f"batch:{world['batch_b']}")["layer"] == 1
    # a batch using the lot on two rows is one referrer, one edge
    assert sum(1 for e in g["edges"] if e["from"] == f"batch:{world['batch_b']}"
               and e["to"] == f"material_lot:{lot}") == 1


def test_both_directions_and_node_cards(plant, world):
    a = world["a"]
    g = plant.trace("batch", a["batch"], direction="both")
    layers = {n["key"]: n["layer"] for n in g["nodes"]}
    assert layers[f"material_lot:{a['lots'][0]}"] == -1 and layers[f"finished_lot:{a['finished']}"] == 1
    assert layers[f"customer:{world['acme']}"] == 3
    card = node(g, f"material_lot:{a['lots'][0]}")
    assert card["form_label"] == {"zh-CN": "来料批次", "en": "Material lot"} and card["title"] == "ML-A-0"
    assert card["status"] == "active" and card["created_at"]
    values = {v["key"]: v for v in card["values"]}
    assert "lot_no" not in values                                # already the title
    assert values["qty"]["value"] == 100 and values["result"]["choice"] == {"zh-CN": "合格", "en": "Pass"}


def test_a_record_outside_the_read_scope_is_neither_shown_nor_counted(plant, world):
    a = world["a"]
    viewer = plant.role_user(batch={"read": "own"})             # batches made by others are invisible
    g = plant.trace("shipment", a["shipment"], actor=viewer, direction="backward")
    assert keys(g) == {f"shipment:{a['shipment']}", f"customer:{world['acme']}", f"finished_lot:{a['finished']}"}
    assert all(not e["to"].startswith("batch:") for e in g["edges"])
    g = plant.trace("material_lot", a["lots"][0], actor=viewer, direction="forward", hub_limit=1)
    assert keys(g) == {f"material_lot:{a['lots'][0]}"}
    assert node(g, f"material_lot:{a['lots'][0]}")["links"] is None
    with pytest.raises(NotFound):
        plant.trace("batch", a["batch"], actor=viewer)
    nobody = plant.role_user(shipment={"read": "none"})
    with pytest.raises(NotFound):
        plant.trace("shipment", a["shipment"], actor=nobody)


def test_a_hidden_reference_field_is_not_followed_and_hidden_values_stay_hidden(plant, world):
    a = world["a"]
    viewer = plant.role_user(finished_lot={"read": "all", "fields": {"batch": "hidden", "qty": "hidden"}},
                             batch={"read": "all", "fields": {"materials": "hidden"}})
    g = plant.trace("finished_lot", a["finished"], actor=viewer, direction="both")
    assert f"batch:{a['batch']}" not in keys(g)                   # the link itself is hidden
    assert [v["key"] for v in node(g, f"finished_lot:{a['finished']}")["values"]] == []
    g = plant.trace("batch", a["batch"], actor=viewer, direction="backward")
    assert keys(g) == {f"batch:{a['batch']}"}                     # its materials sub-table is hidden
    g = plant.trace("material_lot", a["lots"][0], actor=viewer, direction="forward")
    assert f"batch:{a['batch']}" not in keys(g)


def test_cycles_end_and_every_record_appears_once(plant, world):
    a = world["a"]
    rework = plant.add("batch", batch_no="B-RW", line="L1", rework_of=a["finished"],
                       materials=[{"material_lot": a["lots"][1], "qty": 1}])
    fg_rw = plant.add("finished_lot", lot_no="FG-RW", batch=rework, qty=1)
    with session_scope(plant.engine) as s:     # close the loop: the first batch reworks its own output
        rec = record_service.get_record(s, plant.admin, "batch", a["batch"])
        record_service.update_record(s, plant.admin, "batch", a["batch"], rec.version,
                                     {**rec.data, "rework_of": fg_rw})
    for direction in ("backward", "forward", "both"):
        g = plant.trace("finished_lot", a["finished"], direction=direction, depth=20)
        assert len(g["nodes"]) == len(keys(g))
    g = plant.trace("finished_lot", a["finished"], direction="backward", depth=20)
    edges = {(e["from"], e["to"]) for e in g["edges"]}
    assert (f"batch:{a['batch']}", f"finished_lot:{fg_rw}") in edges
    assert (f"finished_lot:{fg_rw}", f"batch:{rework}") in edges
    assert (f"batch:{rework}", f"finished_lot:{a['finished']}") in edges      # back to the start


def test_depth_and_node_bounds(plant, world):
    a = world["a"]
    g = plant.trace("shipment", a["shipment"], direction="backward", depth=1)
    assert keys(g) == {f"shipment:{a['shipment']}", f"customer:{world['acme']}", f"finished_lot:{a['finished']}"}
    g = plant.trace("shipment", a["shipment"], direction="backward", max_nodes=4)
    assert len(g["nodes"]) == 4 and g["truncated"] is True
    assert all(e["from"] in keys(g) and e["to"] in keys(g) for e in g["edges"])
    g = plant.trace("material_lot", a["lots"][0], direction="forward", depth=2)
    assert max(n["layer"] for n in g["nodes"]) == 2 and f"customer:{world['acme']}" not in keys(g)


def test_hubs_are_shown_with_their_count_and_not_expanded(plant, world):
    a = world["a"]
    for i in range(4):
        plant.add("finished_lot", lot_no=f"FG-A{i}", batch=a["batch"], qty=1)
    g = plant.trace("material_lot", a["lots"][1], direction="forward", hub_limit=3)
    hub = node(g, f"batch:{a['batch']}")
    assert (hub["stop"], hub["links"], hub["expanded"]) == ("hub", 5, False)
    assert not any(k.startswith("finished_lot:") for k in keys(g))
    g = plant.trace("batch", a["batch"], direction="forward", hub_limit=3)      # the start is always expanded
    assert sum(k.startswith("finished_lot:") for k in keys(g)) == 5
    viewer = plant.role_user(finished_lot={"read": "own"})
    g = plant.trace("material_lot", a["lots"][1], actor=viewer, direction="forward", hub_limit=3)
    assert node(g, f"batch:{a['batch']}")["links"] is None        # unreadable lots are not counted


def test_expand_through_chosen_forms_only(plant, world):
    a = world["a"]
    g = plant.trace("shipment", a["shipment"], direction="backward", expand=["shipment", "finished_lot"])
    assert node(g, f"batch:{a['batch']}")["stop"] == "filtered"
    assert not any(k.startswith("material_lot:") for k in keys(g))


def test_bad_parameters_are_refused(plant, world):
    for kw in ({"direction": "sideways"}, {"depth": 0}, {"max_nodes": 10**6}, {"expand": ["Bad Key"]}):
        with pytest.raises(trace_service.TraceInputError):
            plant.trace("shipment", world["a"]["shipment"], **kw)
    with pytest.raises(NotFound):
        plant.trace("shipment", 10**9)
    with pytest.raises(NotFound):
        plant.trace("no_such_form", 1)


def test_reference_columns_are_indexed(plant, db_engine, actor):
    insp = inspect(db_engine)
    sub = naming.record_table_name(actor.tenant_id, "batch", ("materials",))
    top = naming.record_table_name(actor.tenant_id, "shipment")
    assert ["tenant_id", "material_lot"] in [i["column_names"] for i in insp.get_indexes(sub)]
    assert ["tenant_id", "customer"] in [i["column_names"] for i in insp.get_indexes(top)]
    with session_scope(db_engine) as s:
        assert trace_service.index_links(s, actor.tenant_id, "batch") == []       # idempotent


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _fan_out(plant, lots_per_batch: int, batches: int) -> int:
    """A supplier lot used by ``batches`` batches, each → finished lot → shipment; the lot's id."""
    sup = plant.add("supplier", name="Fan Co", code="F")
    cust = plant.add("customer", name="Fan customer")
    first = None
    for b in range(batches):
        ids = plant.chain(sup, cust, f"F{batches}-{b}", lots=lots_per_batch)
        if first is None:
            first = ids["lots"][0]
        else:
            with session_scope(plant.engine) as s:
                rec = record_service.get_record(s, plant.admin, "batch", ids["batch"])
                rows = rec.data["materials"] + [{"material_lot": first, "qty": 1}]
                record_service.update_record(s, plant.admin, "batch", ids["batch"], rec.version,
                                             {**rec.data, "materials": rows})
    return first


@pytest.mark.parametrize("direction", ["forward", "both"])
def test_statement_count_does_not_grow_with_the_records(plant, db_engine, direction):
    small, large = _fan_out(plant, 2, 2), _fan_out(plant, 3, 9)
    viewer = plant.role_user(batch={"read": "own"})
    counts = {}
    for name, start in (("small", small), ("large", large)):
        for who in (plant.admin, viewer):
            plant.trace("material_lot", start, actor=who, direction=direction)     # warm the caches
            with counting(db_engine) as statements:
                g = plant.trace("material_lot", start, actor=who, direction=direction)
            counts[(name, who.user_id)] = len(statements)
        assert len(g["nodes"]) >= 1
    big = plant.trace("material_lot", large, direction=direction)
    assert sum(k.startswith("customer:") for k in keys(big)) == 1 and sum(k.startswith("shipment:") for k in keys(big)) == 9
    assert counts[("small", plant.admin.user_id)] == counts[("large", plant.admin.user_id)]
    assert counts[("small", viewer.user_id)] == counts[("large", viewer.user_id)]


PACKING = {"format": 1, "key": "packing_list", "label": _l("装箱单", "Packing list"), "title_template": "{pack_no}",
           "fields": [_text("pack_no", "装箱单号", "Packing list number"),
                      {"key": "cartons", "type": "subtable", "label": _l("箱", "Cartons"), "fields": [
                          _text("carton_no", "箱号", "Carton number"),
                          {"key": "contents", "type": "subtable", "label": _l("箱内批次", "Contents"), "fields": [
                              _ref("finished_lot", "成品批次", "Finished lot", "finished_lot"), _qty()]}]}]}


def test_references_in_nested_sub_tables_are_followed(plant, world):
    with session_scope(plant.engine) as s:
        form_service.publish_form(s, plant.admin, PACKING)
        # publishing indexed the nested reference column already; asking again makes nothing new
        assert trace_service.index_links(s, plant.admin.tenant_id, "packing_list") == []
        from sqlalchemy import inspect
        names = {t for t in inspect(s.connection()).get_table_names() if "packing_list" in t}
        indexed = [ix for t in names for ix in inspect(s.connection()).get_indexes(t)
                   if ix["column_names"] == ["tenant_id", "finished_lot"]]
        assert indexed
    a = world["a"]
    pack = plant.add("packing_list", pack_no="PK-1", cartons=[
        {"carton_no": "C1", "contents": [{"finished_lot": a["finished"], "qty": 10}]},
        {"carton_no": "C2", "contents": [{"finished_lot": world["fg_b"], "qty": 3}]}])
    g = plant.trace("packing_list", pack, direction="backward", depth=1)
    assert keys(g) == {f"packing_list:{pack}", f"finished_lot:{a['finished']}", f"finished_lot:{world['fg_b']}"}
    assert {e["field"] for e in g["edges"]} == {"cartons.contents.finished_lot"}
    g = plant.trace("finished_lot", a["finished"], direction="forward", depth=1)
    assert f"packing_list:{pack}" in keys(g)
