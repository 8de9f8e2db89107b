"""Rule actions that summarise records into other records: ``aggregate_into``.

A monthly supplier scorecard or a KPI snapshot is a GROUP BY over one form written into another:
the action runs a report dataset (the format of docs/reports.md, one SQL statement) and upserts
one record of the target form per result row, found by ``match``. The expressions of ``match``
and ``values`` see the row: each dimension and measure by its key.
"""
from __future__ import annotations

from typing import Any, Mapping

from engine.errors import Problem
from engine.expressions.types import ANY, NUMBER, Scope
from engine.i18n import Msg, msg
from engine.rules.actions import Action, _target_form, action, mapping_problems

MAX_ROWS = 2000            # result rows one run may write


def dataset_problems(data: Any, ctx, path: str) -> list[Problem]:
    """Problems of the dataset against the published forms (fields, grain, expressions)."""
    from engine.reports.definition import _dataset_problems, dataset_from, dry_compile
    form = ctx.forms.get(data.get("form")) if isinstance(data, Mapping) else None
    if form is None:
        return [Problem(f"{path}.form", msg("表单“{k}”不存在或未发布", "Form '{k}' does not exist or is not published",
                                            k=data.get("form") if isinstance(data, Mapping) else None))]
    dataset = dataset_from(data)
    found = [Problem(path + p.path[len("$.dataset"):] if p.path.startswith("$.dataset") else path, p.message)
             for p in _dataset_problems(dataset, form, ctx.forms)]
    if found:
        return found
    return [Problem(path + p.path[len("$.dataset"):] if p.path.startswith("$.dataset") else path, p.message)
            for p in dry_compile(dataset, form, ctx.forms, "$.dataset")]


def row_scope(data: Mapping[str, Any], forms) -> Scope:
    """The names a result row offers: dimensions (the field's type; a bucket or bin is a number) and
    measures (numbers)."""
    from engine.definitions import form_types
    from engine.reports.definition import dataset_from
    dataset = dataset_from(data)
    form = forms.get(dataset.form)
    types = form_types(form).types if form is not None else {}
    members = [(d.key, NUMBER if (d.bucket or d.bin_width) else types.get((d.field,), ANY)) for d in dataset.dimensions]
    members += [(m.key, NUMBER) for m in dataset.measures]
    return Scope.of(members)


@action
class AggregateInto(Action):
    """Run a dataset and upsert one record of ``form`` per result row (found by ``match``)."""

    type = "aggregate_into"
    label = Msg("汇总写入记录", "Summarise into records")
    options_schema = {"dataset": {"$ref": "report.schema.json#/properties/dataset"},
                      "form": {"$ref": "common.schema.json#/$defs/identifier"},
                      "match": {"type": "object", "minProperties": 1, "maxProperties": 10,
                                "propertyNames": {"$ref": "common.schema.json#/$defs/identifier"},
                                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4000}},
                      "values": {"type": "object", "maxProperties": 200,
                                 "propertyNames": {"$ref": "common.schema.json#/$defs/identifier"},
                                 "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4000}}}
    required_options = ("dataset", "form", "match")

    def check(self, action, ctx):
        found = dataset_problems(action.option("dataset"), ctx, f"{ctx.path}.dataset")
        yield from found
        target, problems = _target_form(ctx, action.option("form"), f"{ctx.path}.form")
        yield from problems
        if target is None or found:
            return
        scope = row_scope(action.option("dataset"), ctx.forms)
        yield from mapping_problems(target, action.option("match") or {}, scope, f"{ctx.path}.match")
        yield from mapping_problems(target, action.option("values") or {}, scope, f"{ctx.path}.values")

    def run(self, action, run):
        rows = run.aggregate(action.option("dataset"))
        scope = run.row_scope(action.option("dataset"))
        form_key, created, updated = action.option("form"), 0, 0
        for row in rows[:MAX_ROWS]:
            match = {k: run.evaluate_with(v, scope, row) for k, v in action.option("match").items()}
            data = {**match, **{k: run.evaluate_with(v, scope, row) for k, v in (action.option("values") or {}).items()}}
            found = run.find_records(form_key, match, None, 1)
            if found:
                updated += int(run.update_record(form_key, found[0], data))
            else:
                run.create_record(form_key, data)
                created += 1
        return {"form": form_key, "rows": len(rows), "created": created, "updated": updated,
                "truncated": len(rows) > MAX_ROWS}
