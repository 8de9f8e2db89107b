"""The OpenAPI 3.1 document of a tenant's REST API: the generic routes plus typed record routes per form.

Every published form of the tenant gets ``<form_key>_data`` (its fields' JSON Schemas, from
:meth:`engine.fields.base.FieldType.json_schema`), ``<form_key>_record`` (``{id, version, data}``)
and the record routes of product.md's contract under ``/forms/<form_key>/records``. Only the
tenant's own forms appear: the document is built from its published definitions alone; given the
reader's Actor, only the forms they may use, without the fields hidden from them.
The data schemas list no ``required`` properties: blank required fields come back as 422 with
every field error (required may depend on other values), and PATCH sends only changed fields.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from sqlalchemy.orm import Session

from engine.access import form_access

from engine.definitions.model import FormDef
from engine.fields import field_type
from engine.i18n import Msg, msg
from engine.services.forms import published_forms
from engine.services.records import DEFAULT_PER_PAGE, MAX_PER_PAGE
from engine.types import Actor

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
JSON = "application/json"
MAX_ROW_ID = 2**63 - 1      # ids in URLs are 64-bit database integers (larger ones are 404)


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _body(schema: dict, description: str = "") -> dict:
    out: dict = {"content": {JSON: {"schema": schema}}}
    if description:
        out["description"] = description
    return out


class _Text:
    """Bilingual texts of the document in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, zh: str, en: str, **kw: Any) -> str:
        return msg(zh, en, **kw).get(self.lang)

    def label(self, label: Msg | None) -> str:
        return label.get(self.lang) if label is not None else ""


# ---------------------------------------------------------------------------- shared components

def _error_schemas(t: _Text) -> dict:
    problem = {"type": "object", "properties": {
        "field": {"type": "string", "description": t("字段路径，如 items[2].qty", "Field path such as items[2].qty")},
        "path": {"type": "string", "description": t("定义中的 JSON 路径", "JSON path in a definition")},
        "line": {"type": "integer"}, "column": {"type": "integer"},
        "message": {"type": "string"}}, "required": ["message"]}
    error = {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "object", "required": ["code", "message"],
                  "properties": {"code": {"type": "string", "description": t("稳定的错误代码", "Stable error code")},
                                 "message": {"type": "string"}}},
        "errors": {"type": "array", "items": _ref("schemas", "Problem")}}}
    return {"Problem": problem, "Error": error}


def _responses(t: _Text) -> dict:
    def err(zh: str, en: str) -> dict:
        return _body(_ref("schemas", "Error"), t(zh, en))
    return {
        "BadRequest": err("请求格式有误（JSON 或参数形状不对）", "Malformed request (JSON or parameter shape)"),
        "Unauthorized": err("未登录或令牌无效", "Missing or invalid token"),
        "Forbidden": err("没有权限", "Not allowed for this user"),
        "NotFound": err("不存在，或在本租户中不可见", "Does not exist (or is not visible in this tenant)"),
        "Conflict": err("版本已过期：记录已被他人修改", "Stale version: the record was changed by someone else"),
        "Invalid": err("数据有误；errors 列出全部问题", "Invalid input; errors lists every problem"),
        "TooManyRequests": err("登录失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"),
    }


def _parameters(t: _Text) -> dict:
    def query(name: str, schema: dict, zh: str, en: str) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema, "description": t(zh, en)}
    return {
        "filter": query("filter", {"type": "string"}, "筛选表达式，如 lot_result = \"NG\"",
                        "Filter expression, e.g. lot_result = \"NG\""),
        "sort": query("sort", {"type": "string"}, "排序字段；加 - 表示降序，如 -created_at",
                      "Field to sort by; prefix - for descending, e.g. -created_at"),
        "page": query("page", {"type": "integer", "minimum": 1, "default": 1}, "页码，从 1 开始", "Page number, from 1"),
        "per_page": query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                       "default": DEFAULT_PER_PAGE}, "每页条数", "Records per page"),
        "record_id": {"name": "id", "in": "path", "required": True,
                      "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                      "description": t("记录 ID", "Record id")},
    }


# ---------------------------------------------------------------------------- per form

def _data_schema(form: FormDef, t: _Text) -> dict:
    properties = {f.key: field_type(f.type).json_schema(f, t.lang) for f in form.fields}
    schema = {"type": "object", "title": t.label(form.label), "properties": properties,
              "x-label-zh": form.label.zh, "x-label-en": form.label.en, "x-form-version": form.version}
    if form.description is not None:
        schema["description"] = t.label(form.description)
    return schema


def _form_schemas(form: FormDef, t: _Text) -> dict:
    key, data = form.key, _ref("schemas", f"{form.key}_data")
    record = {"type": "object", "required": ["id", "version", "data"], "properties": {
        "id": {"type": "integer"},
        "version": {"type": "integer",
                    "description": t("乐观锁版本号；修改时需带上", "Optimistic-lock version; send it back on PATCH")},
        "data": data}}
    return {
        f"{key}_data": _data_schema(form, t),
        f"{key}_record": record,
        f"{key}_list": {"type": "object", "required": ["items", "total"], "properties": {
            "items": {"type": "array", "items": _ref("schemas", f"{key}_record")}, "total": {"type": "integer"}}},
        f"{key}_create": {"type": "object", "required": ["data"], "properties": {"data": data}},
        f"{key}_update": {"type": "object", "required": ["version", "data"],
                          "properties": {"version": {"type": "integer"}, "data": data}},
    }


def _op(op_id: str, tag: str, summary: str, responses: dict, **extra: Any) -> dict:
    return {"operationId": op_id, "tags": [tag], "summary": summary, "responses": responses, **extra}


def _common(*names: str) -> dict:
    codes = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404", "Conflict": "409",
             "Invalid": "422", "TooManyRequests": "429"}
    return {codes[n]: _ref("responses", n) for n in names}


def _form_paths(form: FormDef, t: _Text) -> dict:
    key, tag, name = form.key, form.key, t.label(form.label) or form.key
    record = _body(_ref("schemas", f"{key}_record"))
    params = [_ref("parameters", p) for p in ("filter", "sort", "page", "per_page")]
    collection = {
        "get": _op(f"list_{key}_records", tag, t("查询{n}记录", "List {n} records", n=name),
                   {"200": _body(_ref("schemas", f"{key}_list"), t("一页记录与总数", "One page and the total")),
                    **_common("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Invalid")}, parameters=params),
        "post": _op(f"create_{key}_record", tag, t("新建{n}记录", "Create a {n} record", n=name),
                    {"201": {**record, "description": t("已保存的记录（含计算字段）",
                                                        "The stored record, computed fields included")},
                     **_common("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Invalid")},
                    requestBody={**_body(_ref("schemas", f"{key}_create")), "required": True}),
    }
    version = {"name": "version", "in": "query", "required": False, "schema": {"type": "integer"},
               "description": t("期望的记录版本；已过期则返回 409", "Expected record version; 409 when stale")}
    item = {
        "parameters": [_ref("parameters", "record_id")],
        "get": _op(f"get_{key}_record", tag, t("读取{n}记录", "Read a {n} record", n=name),
                   {"200": {**record, "description": t("记录", "The record")}, **_common("Unauthorized", "NotFound")}),
        "patch": _op(f"update_{key}_record", tag, t("修改{n}记录", "Update a {n} record", n=name),
                     {"200": {**record, "description": t("修改后的记录", "The updated record")},
                      **_common("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "Invalid")},
                     requestBody={**_body(_ref("schemas", f"{key}_update")), "required": True}),
        "delete": _op(f"delete_{key}_record", tag, t("删除{n}记录", "Delete a {n} record", n=name),
                      {"204": {"description": t("已删除", "Deleted")},
                       **_common("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict")},
                      parameters=[version]),
    }
    bulk = {action: {"post": _op(f"bulk_{action}_{key}_records", tag, t(zh, en, n=name),
                                 {"200": _body(_ref("schemas", "BulkReport"), t("每条记录的结果", "What happened to each record")),
                                  **_common("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Invalid")},
                                 requestBody={**_body(_ref("schemas", schema)), "required": True})}
            for action, schema, zh, en in (
                ("update", "BulkUpdate", "批量修改{n}记录（逐条校验、触发规则）", "Change many {n} records (each validated, rules fire)"),
                ("delete", "BulkDelete", "批量删除{n}记录", "Delete many {n} records"))}
    return {f"/forms/{key}/records": collection, f"/forms/{key}/records/{{id}}": item,
            f"/forms/{key}/records/bulk-update": bulk["update"], f"/forms/{key}/records/bulk-delete": bulk["delete"]}


# ---------------------------------------------------------------------------- generic routes

def _generic_schemas() -> dict:
    """Request and response bodies of the generic routes (components/schemas)."""
    string, obj = {"type": "string"}, {"type": "object"}
    problems = {"type": "array", "items": _ref("schemas", "Problem")}
    return {
        "TokenRequest": {"type": "object", "required": ["email", "password"],
                         "properties": {"email": string, "password": string}},
        "Token": {"type": "object", "required": ["token"], "properties": {"token": string}},
        "AppList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": obj}}},
        "AppPackage": {"type": "object", "required": ["key", "version", "label", "forms"]},
        "ImportResult": obj,
        "FormDefinition": {"type": "object", "required": ["key", "label", "fields"]},
        "ExpressionCheck": {"type": "object", "required": ["form", "expression"],
                            "properties": {"form": string, "expression": string}},
        "ExpressionCheckResult": {"type": "object", "required": ["ok", "type", "errors"], "properties": {
            "ok": {"type": "boolean"}, "type": {"type": ["string", "null"]}, "errors": problems}},
        "ExpressionEvaluate": {"type": "object", "required": ["expression"],
                               "properties": {"form": string, "expression": string, "data": obj}},
        "ExpressionValue": {"type": "object", "required": ["value", "type"],
                            "properties": {"value": {}, "type": string}},
        "BulkUpdate": {"type": "object", "required": ["data"], "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}}, "filter": string, "data": obj, "reason": string,
            "versions": obj}},
        "BulkDelete": {"type": "object", "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}}, "filter": string, "reason": string, "versions": obj}},
        "BulkReport": obj,
        "RuleDefinition": {"type": "object", "required": ["key", "label", "trigger", "actions"]},
        "RuleList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": obj}}},
        "RunList": {"type": "object", "required": ["items", "total"], "properties": {
            "items": {"type": "array", "items": obj}, "total": {"type": "integer"}}},
        "HookRequest": {"type": "object", "properties": {"secret": string}},
        "HookUrl": {"type": "object", "required": ["url", "token"], "properties": {"url": string, "token": string}},
        "NotificationList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": obj}}},
        "MarkRead": {"type": "object", "properties": {"ids": {"type": "array", "items": {"type": "integer"}},
                                                      "all": {"type": "boolean"}}},
        **_report_schemas(),
    }


def _report_schemas() -> dict:
    """Bodies of the report and dashboard routes."""
    string, obj, items = {"type": "string"}, {"type": "object"}, {"type": "array", "items": {"type": "object"}}
    condition = {"type": "object", "required": ["field", "op"], "properties": {
        "field": string, "op": {"type": "string", "enum": ["=", "!=", ">", ">=", "<", "<=", "in", "not_in", "between",
                                                          "blank", "not_blank", "contains"]},
        "value": {}, "bucket": {"type": "string", "enum": ["day", "week", "month", "quarter", "year"]}}}
    period = {"type": "object", "properties": {"from": {"type": ["string", "null"], "format": "date"},
                                               "to": {"type": ["string", "null"], "format": "date"}}}
    run = {"filters": {"type": "array", "items": _ref("schemas", "ReportCondition")}, "period": period,
           "period_field": string}
    return {
        "ReportCondition": condition,
        "ReportDefinition": {"type": "object", "required": ["key", "label", "dataset", "chart"]},
        "DashboardDefinition": {"type": "object", "required": ["key", "label", "items"]},
        "Published": {"type": "object", "required": ["key", "version"],
                      "properties": {"key": string, "version": {"type": ["integer", "null"]}}},
        "ReportList": {"type": "object", "required": ["items"], "properties": {"items": items}},
        "DashboardList": {"type": "object", "required": ["items"], "properties": {"items": items}},
        "ReportCheckResult": {"type": "object", "required": ["ok", "errors"], "properties": {
            "ok": {"type": "boolean"}, "errors": {"type": "array", "items": _ref("schemas", "Problem")}}},
        "ReportRun": {"type": "object", "properties": run},
        "ReportDrill": {"type": "object", "required": ["point"], "properties": {**run, "point": obj}},
        "ReportResult": {"type": "object", "required": ["key", "chart", "data", "chart_data", "figure"], "properties": {
            "key": string, "label": string, "chart": string, "form": string,
            "data": {"type": ["object", "null"], "properties": {"columns": items, "rows": {"type": "array"},
                                                                "labels": {"type": "array"},
                                                                "truncated": {"type": "boolean"}}},
            "chart_data": obj, "figure": obj, "ms": {"type": "number"}}},
        "DrillResult": {"type": "object", "required": ["form", "total", "records"], "properties": {
            "form": string, "total": {"type": "integer"}, "conditions": items, "records": items}},
        "DashboardRun": {"type": "object", "properties": {"values": obj}},
        "DashboardDrill": {"type": "object", "required": ["report", "point"],
                           "properties": {"report": string, "point": obj, "values": obj}},
        "DashboardResult": {"type": "object", "required": ["key", "items"], "properties": {
            "key": string, "label": string, "refresh": {"type": "integer"}, "filters": items, "items": items}},
    }


# path, method, operationId, summary (zh, en), request body, success code, response body, error responses
_GENERIC = (
    ("/auth/token", "post", "create_token", ("用邮箱和密码换取 API 令牌", "Get an API token for e-mail and password"),
     "TokenRequest", "200", "Token", ("Unauthorized", "TooManyRequests")),
    ("/openapi.json", "get", "openapi", ("本文档", "This document"), None, "200", None, ("Unauthorized",)),
    ("/apps", "get", "list_apps", ("已安装的应用", "Installed apps"), None, "200", "AppList", ("Unauthorized",)),
    ("/apps/import", "post", "import_app", ("导入应用包", "Import an app package"), "AppPackage", "201", "ImportResult",
     ("Unauthorized", "Forbidden", "Invalid")),
    ("/apps/{app_key}/export", "get", "export_app", ("导出应用包", "Export an app package"), None, "200", "AppPackage",
     ("Unauthorized", "Forbidden", "NotFound")),
    ("/forms/{form_key}", "get", "get_form", ("已发布的表单定义", "Published form definition"), None, "200",
     "FormDefinition", ("Unauthorized", "NotFound")),
    ("/expressions/check", "post", "check_expression", ("检查表达式", "Check an expression"), "ExpressionCheck", "200",
     "ExpressionCheckResult", ("Unauthorized", "NotFound")),
    ("/expressions/evaluate", "post", "evaluate_expression", ("用示例值计算表达式", "Evaluate with sample values"),
     "ExpressionEvaluate", "200", "ExpressionValue", ("Unauthorized", "NotFound", "Invalid")),
    ("/rules", "get", "list_rules", ("规则及最近运行状态", "Rules and their last run"), None, "200", "RuleList",
     ("Unauthorized",)),
    ("/rules", "post", "publish_rule", ("发布规则（逐项列出问题）", "Publish a rule (every problem listed)"),
     "RuleDefinition", "201", None, ("Unauthorized", "Forbidden", "Invalid")),
    ("/rules/{rule_key}", "get", "get_rule", ("规则定义", "A rule's definition"), None, "200", "RuleDefinition",
     ("Unauthorized", "NotFound")),
    ("/rules/{rule_key}/enable", "post", "enable_rule", ("启用规则", "Switch a rule on"), None, "200", None,
     ("Unauthorized", "Forbidden", "NotFound")),
    ("/rules/{rule_key}/disable", "post", "disable_rule", ("停用规则", "Switch a rule off"), None, "200", None,
     ("Unauthorized", "Forbidden", "NotFound")),
    ("/rules/{rule_key}/hook", "post", "new_hook", ("生成 Webhook 地址（只显示一次）", "New webhook URL (shown once)"),
     "HookRequest", "201", "HookUrl", ("Unauthorized", "Forbidden", "NotFound")),
    ("/rule-runs", "get", "list_rule_runs", ("规则运行记录（?status=failed&rule=）", "Rule runs (?status=failed&rule=)"),
     None, "200", "RunList", ("Unauthorized",)),
    ("/rule-runs/{run_id}", "get", "get_rule_run", ("一次运行：输入与每个动作的结果", "One run: inputs and each action's outcome"),
     None, "200", None, ("Unauthorized", "NotFound")),
    ("/rule-runs/{run_id}/retry", "post", "retry_rule_run", ("重试失败的运行", "Retry a failed run"), None, "202", None,
     ("Unauthorized", "Forbidden", "NotFound")),
    ("/hooks/{token}", "post", "inbound_hook", ("外部系统推送（令牌即凭证，可选 X-QMS-Signature）",
                                               "Inbound webhook (the token is the credential; optional X-QMS-Signature)"),
     None, "202", None, ("NotFound", "Invalid")),
    ("/notifications", "get", "list_notifications", ("我的通知（?unread=1）", "My notifications (?unread=1)"), None, "200",
     "NotificationList", ("Unauthorized",)),
    ("/notifications/read", "post", "mark_notifications_read", ("标为已读", "Mark as read"), "MarkRead", "200", None,
     ("Unauthorized",)),
    ("/reports", "get", "list_reports", ("可查看的报表（?app=）", "Reports you may see (?app=)"), None, "200", "ReportList",
     ("Unauthorized",)),
    ("/reports", "post", "publish_report", ("发布报表（逐项列出问题）", "Publish a report (every problem listed)"),
     "ReportDefinition", "201", "Published", ("Unauthorized", "Forbidden", "Invalid")),
    ("/reports/check", "post", "check_report", ("检查报表定义（不发布）", "Check a report definition (no publishing)"),
     "ReportDefinition", "200", "ReportCheckResult", ("Unauthorized",)),
    ("/reports/{report_key}", "get", "get_report", ("报表定义", "A report's definition"), None, "200", "ReportDefinition",
     ("Unauthorized", "NotFound")),
    ("/reports/{report_key}", "put", "replace_report", ("发布报表的新版本（key 须与地址相同）",
                                                        "Publish a new version (its key must equal the address's)"),
     "ReportDefinition", "200", "Published", ("Unauthorized", "Forbidden", "NotFound", "Invalid")),
    ("/reports/{report_key}", "delete", "delete_report", ("删除报表", "Delete a report"), None, "204", None,
     ("Unauthorized", "Forbidden", "NotFound")),
    ("/reports/{report_key}/data", "get", "report_data", ("报表数据与图形（?filters=JSON&from=&to=&period_field=）",
                                                         "The report's numbers and figure (?filters=JSON&from=&to=&period_field=)"),
     None, "200", "ReportResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/reports/{report_key}/data", "post", "report_data_post", ("报表数据与图形（筛选放在请求体）",
                                                               "The report's numbers and figure (filters in the body)"),
     "ReportRun", "200", "ReportResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/reports/{report_key}/drill", "post", "report_drill", ("图中一点背后的记录", "The records behind one point of the chart"),
     "ReportDrill", "200", "DrillResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/reports/{report_key}/export.xlsx", "get", "report_export", ("导出 Excel（需导出权限；筛选同 data）",
                                                                  "Export to Excel (needs export; filters as for data)"),
     None, "200", "xlsx", ("Unauthorized", "Forbidden", "NotFound", "Invalid")),
    ("/dashboards", "get", "list_dashboards", ("可查看的看板（?app=）", "Dashboards you may see (?app=)"), None, "200",
     "DashboardList", ("Unauthorized",)),
    ("/dashboards", "post", "publish_dashboard", ("发布看板", "Publish a dashboard"), "DashboardDefinition", "201",
     "Published", ("Unauthorized", "Forbidden", "Invalid")),
    ("/dashboards/{dashboard_key}", "get", "get_dashboard", ("看板定义", "A dashboard's definition"), None, "200",
     "DashboardDefinition", ("Unauthorized", "NotFound")),
    ("/dashboards/{dashboard_key}", "put", "replace_dashboard", ("发布看板的新版本", "Publish a new version of a dashboard"),
     "DashboardDefinition", "200", "Published", ("Unauthorized", "Forbidden", "NotFound", "Invalid")),
    ("/dashboards/{dashboard_key}", "delete", "delete_dashboard", ("删除看板（管理员）", "Delete a dashboard (admins)"),
     None, "204", None, ("Unauthorized", "Forbidden", "NotFound")),
    ("/dashboards/{dashboard_key}/data", "get", "dashboard_data", ("看板各报表的数据（?values=JSON）",
                                                                  "Every report of the dashboard (?values=JSON)"),
     None, "200", "DashboardResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/dashboards/{dashboard_key}/data", "post", "dashboard_data_post", ("看板各报表的数据（共享筛选值放在请求体）",
                                                                        "Every report of the dashboard (shared filter values in the body)"),
     "DashboardRun", "200", "DashboardResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/dashboards/{dashboard_key}/drill", "post", "dashboard_drill", ("看板上某报表一点背后的记录",
                                                                     "The records behind a point of one of its reports"),
     "DashboardDrill", "200", "DrillResult", ("Unauthorized", "NotFound", "Invalid")),
    ("/dashboards/{dashboard_key}/export.xlsx", "get", "dashboard_export", ("导出 Excel（每个可导出的报表一个工作表）",
                                                                           "Export to Excel (one sheet per report you may export)"),
     None, "200", "xlsx", ("Unauthorized", "Forbidden", "NotFound", "Invalid")),
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _generic_paths(t: _Text) -> dict:
    paths: dict = {}
    for path, method, op_id, (zh, en), request, code, response, errors in _GENERIC:
        if response == "xlsx":              # a file, not JSON
            body = {"description": t("Excel 文件", "An Excel file"),
                    "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}
        elif code == "204":
            body = {"description": t("成功（无内容）", "Done (no content)")}
        else:
            body = _body(_ref("schemas", response) if response else {"type": "object"}, t("成功", "Success"))
        bad = ("BadRequest",) if request else ()     # a body of the wrong shape is refused with 400
        op = _op(op_id, "platform", t(zh, en), {code: body, **_common(*bad, *errors)})
        if request:
            op["requestBody"] = {**_body(_ref("schemas", request)), "required": True}
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID} if name == "run_id"
                   else {"type": "string"}}
                  for name in ("app_key", "form_key", "rule_key", "run_id", "token", "report_key", "dashboard_key")
                  if "{" + name + "}" in path]
        if params:
            op["parameters"] = params
        if op_id in ("create_token", "inbound_hook"):
            op["security"] = []                 # a password, or the secret in the URL, is the credential
        paths.setdefault(path, {})[method] = op
    return paths


def usable_forms(session: Session, actor: Actor, forms: Mapping[str, FormDef]) -> dict[str, FormDef]:
    """The forms the actor may use (read, create or design, as ``GET /forms/<key>`` allows), each
    without the fields hidden from them unless they design it."""
    out = {}
    for key, form in forms.items():
        allowed = form_access(session, actor, key)
        if not (allowed.read.allows_any or allowed.can_create or allowed.can_design):
            continue
        if allowed.hidden_fields and not allowed.can_design:
            form = dataclasses.replace(form, fields=tuple(f for f in form.fields if f.key not in allowed.hidden_fields))
        out[key] = form
    return out


def openapi_document(session: Session, tenant_id: int, base_url: str = "/api/v1", lang: str = "en",
                     actor: Actor | None = None) -> dict:
    """OpenAPI 3.1 for the tenant's published forms (texts in ``lang``), ready to serialise as JSON;
    with ``actor``, only the forms (and fields) that actor may use."""
    t = _Text(lang)
    forms = published_forms(session, tenant_id)
    if actor is not None:
        forms = usable_forms(session, actor, forms)
    paths, schemas = _generic_paths(t), {**_error_schemas(t), **_generic_schemas()}
    for key in sorted(forms):
        paths.update(_form_paths(forms[key], t))
        schemas.update(_form_schemas(forms[key], t))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": t("质量管理平台 API", "QMS platform API"), "version": API_VERSION,
                 "description": t("记录接口按本租户已发布的表单生成；使用 Authorization: Bearer <令牌>。",
                                  "Record routes are generated from this tenant's published forms; "
                                  "send Authorization: Bearer <token>.")},
        "servers": [{"url": base_url}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "platform", "description": t("平台接口", "Platform routes")}]
        + [{"name": k, "description": t.label(forms[k].label)} for k in sorted(forms)],
        "paths": paths,
        "components": {"schemas": schemas, "responses": _responses(t), "parameters": _parameters(t),
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }
