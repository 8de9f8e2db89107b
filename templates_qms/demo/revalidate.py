"""Validating many similar records fast: the engine's ``validate_record`` once per *shape*, then
only what differs is recomputed with the engine's own compiled formulas and checks.

Bulk incoming lots differ in a few plain fields (lot number, dates, inspector, the measured
readings) while the expensive part of an inspection — lookups of supplier and part, the ISO 2859-1
plan (code letter, sample sizes, Ac/Re from the switching state), the defect sums and the lot
decision — depends only on supplier, part, lot size, defects and the switching state. So a
:class:`Revalidator` keeps, per *key* (every input except the declared ``varying`` fields, plus
the switching-state facts of the key's supplier × part), the values a full ``validate_record``
returned, and for another record with the same key:

1. copies them and puts in the varying fields (coerced by their field types);
2. re-runs, in the plan's dependency order, every formula whose inputs include a varying field
   (transitively) — at the top level and in the sub-table rows that hold varying fields;
3. re-checks every field whose value or rule expressions involve a varying field or a re-run
   formula (visibility first, then ``check_value``, as ``validate_record`` does).

Any problem, a blank varying field with a default, or a different row count falls back to the full
``validate_record`` (which raises with all problems). The result is the same as a full validation —
``tests/templates_qms/test_demo.py`` compares both on a sample of generated lots.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping

from engine.forms import validate_record
from engine.forms.checks import check_value, is_visible
from engine.forms.plan import Env, ExprProp, FieldPlan, TablePlan, coerce, plan_for, run


def _props_names(fp: FieldPlan) -> set[str]:
    """Every name the field's rule expressions (required, visible, bounds, validations) read."""
    names: set[str] = set()
    for prop in fp.props.values():
        if isinstance(prop, ExprProp):
            names |= prop.names
    for expr, _msg in fp.validations:
        names |= expr.names
    return names


class Revalidator:
    """``validate(data)`` for one form, reusing full validations of records of the same key.

    ``varying``: top-level input keys that differ record by record; ``rows``: sub-table key →
    the row input keys that differ (the rest of each row is part of the key); ``facts(data)``:
    a hashable summary of database state the formulas read (e.g. the switching state), added to
    the key; the cache is only valid while that state is what ``facts`` returns.
    """

    def __init__(self, form, ctx, lookups: Callable, varying: Iterable[str],
                 rows: Mapping[str, Iterable[str]] | None = None, facts: Callable[[dict, Any], Any] | None = None):
        self.form, self.ctx, self.lookups, self.facts = form, ctx, lookups, facts
        self.plan = plan_for(form)
        root = self.plan.root
        self.varying = [root.by_key[k] for k in varying]
        self.rows = {key: [root.by_key[key].table.by_key[k] for k in keys] for key, keys in (rows or {}).items()}
        self.dirty_tasks = self._dirty_tasks()
        dirty = set(varying) | set(self.rows) | {fp.key for t, fp in self.dirty_tasks if t is root}
        self.recheck = [fp for fp in root.fields if fp.key in dirty or _props_names(fp) & dirty]
        self.templates: dict[str, dict] = {}
        self.hits = self.misses = 0

    def _dirty_tasks(self) -> list[tuple[TablePlan, FieldPlan]]:
        """Formula tasks to re-run: row formulas of the varying sub-tables, and every top-level
        formula that reads a varying field, such a sub-table, or another re-run formula."""
        root = self.plan.root
        dirty_names = {fp.key for fp in self.varying} | set(self.rows)
        out = []
        for table, fp in self.plan.tasks:
            names = fp.formula.names if fp.formula else frozenset()
            if table is not root:
                if table.path[:1] and table.path[0] in self.rows:
                    out.append((table, fp))
                continue
            if names & dirty_names:
                dirty_names.add(fp.key)
                out.append((table, fp))
        return out

    def _key(self, data: Mapping[str, Any]) -> str:
        plain = {k: v for k, v in data.items() if k not in {fp.key for fp in self.varying} and k not in self.rows}
        rows = {key: [{k: v for k, v in row.items() if k not in {fp.key for fp in fps}} for row in data.get(key) or []]
                for key, fps in self.rows.items()}
        facts = self.facts(data, self.ctx) if self.facts else None
        return json.dumps([plain, rows, facts], sort_keys=True, default=str)

    def validate(self, data: dict) -> dict:
        """Clean values of ``data`` (as ``validate_record`` returns them); RecordValidationError if invalid."""
        key = self._key(data)
        template = self.templates.get(key)
        if template is not None:
            values = self._from_template(template, data)
            if values is not None:
                self.hits += 1
                return values
        self.misses += 1
        values = validate_record(self.form, data, self.ctx, lookups=self.lookups)
        self.templates[key] = values
        return _copy(values, self.rows)

    def _from_template(self, template: dict, data: dict) -> dict | None:
        values = _copy(template, self.rows)
        for fp in self.varying:
            raw = data.get(fp.key)
            if fp.ftype.is_blank(raw) and fp.props.get("default") is not None:
                return None                      # the default would apply: let the full path do it
            value, error = coerce(fp, raw) if raw is not None else (None, None)
            if error is not None:
                return None
            values[fp.key] = value
        for sub, fps in self.rows.items():
            given = data.get(sub) or []
            if len(given) != len(values.get(sub) or []):
                return None
            for row, raw_row in zip(values[sub], given):
                for fp in fps:
                    value, error = coerce(fp, raw_row.get(fp.key)) if raw_row.get(fp.key) is not None else (None, None)
                    if error is not None:
                        return None
                    row[fp.key] = value
        if not self._rerun(values) or not self._checks_pass(values):
            return None
        return values

    def _rerun(self, values: dict) -> bool:
        root = self.plan.root
        for table, fp in self.dirty_tasks:
            envs = [(values, Env(values))] if table is root else \
                [(row, Env(row, (values,))) for row in values.get(table.path[0]) or []]
            for target, env in envs:
                value, error = run(fp.formula, env, self.ctx)
                value, error = (None, None) if error is not None else coerce(fp, value)
                if error is not None:
                    return False
                target[fp.key] = value
        return True

    def _checks_pass(self, values: dict) -> bool:
        env = Env(values)
        for fp in self.recheck:
            out: list = []
            if fp.table is not None or fp.kind == "serial":
                continue
            if not is_visible(fp, env, self.ctx, out):
                if out:
                    return False
                continue
            if check_value(fp, values.get(fp.key), env, self.ctx):
                return False
        for sub, fps in self.rows.items():
            table = self.plan.root.by_key[sub].table
            for row in values.get(sub) or []:
                row_env = Env(row, (values,))
                for fp in table.fields:
                    if fp.has_rules and check_value(fp, row.get(fp.key), row_env, self.ctx):
                        return False
        return True


def _copy(values: dict, rows: Mapping[str, Any]) -> dict:
    """A copy safe to change: the top level and the rows of the varying sub-tables."""
    out = dict(values)
    for sub in rows:
        out[sub] = [dict(r) for r in values.get(sub) or []]
    for key, value in out.items():
        if isinstance(value, list) and key not in rows:
            out[key] = [dict(r) if isinstance(r, dict) else r for r in value]
    return out
