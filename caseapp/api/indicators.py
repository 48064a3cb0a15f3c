"""JSON API v1: policy products, their follow-up (seed 001 method) and anonymised, suppressed counts.

Coordinators (and admins, for the product catalogue) only. Nothing here names a case or a person.
Product codes such as 3.5 are used as they are in the URL.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from caseapp.api import bp
from caseapp.api.openapi import error_responses
from caseapp.services import indicators as ind
from caseapp.services.indicators import stats
from caseapp.services.indicators.dimensions import FAMILY_DIMS, FAMILY_UNITS

RESERVED = {"by", "period", "unit", "basis"}


@bp.route("/products")
def products():
    items = [ind.product_dict(p) for p in ind.list_products(current_user)]
    return jsonify(products=items)


@bp.route("/products/<path:code>/progress")
def product_progress(code: str):
    year = ind.parse_year(request.args.get("period"))
    as_of = ind.parse_as_of(request.args.get("as_of")) if request.args.get("as_of") else None
    status = ind.product_progress(current_user, code, year=year, as_of=as_of, policy=request.args.get("policy"))
    return jsonify(ind.status_dict(status))


@bp.route("/policies/<path:code>/summary")
def policy_summary(code: str):
    as_of = ind.parse_as_of(request.args.get("as_of"))
    summary = ind.policy_summary(current_user, code, as_of)
    return jsonify(ind.summary_dict(summary, as_of))


@bp.route("/stats/cases")
def stats_cases():
    filters = {k: v for k, v in request.args.items() if k not in RESERVED}
    table = stats.cases_table(current_user, request.args.get("by", ""), filters=filters,
                              period=request.args.get("period"), unit=request.args.get("unit", "cases"),
                              basis=request.args.get("basis", "identified"))
    return jsonify(table.as_json())


@bp.route("/stats/family")
def stats_family():
    """Family members who received assistance (indirect victims) and their steps, apart from the victims' counts."""
    filters = {k: v for k, v in request.args.items() if k not in RESERVED}
    table = stats.family_table(current_user, request.args.get("by") or "relationship", filters=filters,
                               period=request.args.get("period"), unit=request.args.get("unit", "members"))
    return jsonify(table.as_json())


_COUNT = {"type": ["integer", "null"], "minimum": 0,
          "description": "null when the count is reserved (suppressed): see `suppressed`."}
_FRACTION = {"type": ["number", "null"], "description": "A share: 0.75 is 75 %."}

SCHEMAS: dict = {
    "Product": {
        "type": "object",
        "required": ["code", "policy", "name", "indicator", "formula", "targets"],
        "properties": {
            "code": {"type": "string", "examples": ["3.5"]}, "policy": {"type": "string"},
            "territory": {"type": "string", "examples": ["13001"],
                          "description": "DIVIPOLA code of the policy's territory (CO: national)"},
            "objective": {"type": "string"}, "name": {"type": "string"}, "indicator": {"type": "string"},
            "formula": {"type": "string", "enum": list(ind.FORMULAS)},
            "formula_params": {
                "type": "object", "description": "What the formula counts: only the parameters it takes.",
                "properties": {"population": {"type": "string", "enum": list(ind.POPULATIONS)},
                               "step_kind": {"type": "string", "description": "code of a kind of assistance step"},
                               "provider_entity": {"type": "string", "description": "code of an entity"}}},
            "unit": {"type": "string"},
            "baseline": {"type": ["string", "null"]}, "baseline_year": {"type": ["integer", "null"]},
            "periodicity": {"type": "string", "enum": ["annual", "semiannual", "quarterly"]},
            "periods_count": {"type": "integer"}, "first_year": {"type": "integer"},
            "final_target": {"type": "number"}, "weight": {"type": "number"},
            "sector": {"type": ["string", "null"]}, "responsible_entity": {"type": ["string", "null"]},
            "co_responsible": {"type": ["string", "null"]}, "ods_code": {"type": ["string", "null"]},
            "targets": {"type": "array", "items": {"type": "object", "properties": {
                "period": {"type": "string"}, "target": {"type": "number"}}}},
        },
    },
    "ProductProgress": {
        "type": "object",
        "required": ["achieved", "target", "progress", "cumulative", "ideal_trajectory", "gap", "traffic_light"],
        "properties": {
            "code": {"type": "string"}, "policy": {"type": "string"}, "period": {"type": "string"},
            "as_of": {"type": "string", "format": "date"},
            "achieved": {"type": ["number", "null"], "description": "The year's value (provisional while open)."},
            "target": {"type": "number"}, "progress": _FRACTION, "cumulative": _FRACTION,
            "cumulative_achieved": {"type": "number"}, "cumulative_target": {"type": "number"},
            "final_target": {"type": "number"}, "ideal_trajectory": _FRACTION, "gap": _FRACTION,
            "progress_to_date": _FRACTION,
            "traffic_light": {"type": "string", "enum": ["green", "yellow", "red"]},
            "provisional": {"type": "boolean"},
        },
    },
    "PolicySummary": {
        "type": "object",
        "required": ["progress", "ideal_trajectory", "gap", "objectives", "traffic_lights", "products"],
        "properties": {
            "code": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
            "progress": _FRACTION, "ideal_trajectory": _FRACTION, "gap": _FRACTION,
            "progress_to_date": _FRACTION, "gap_to_date": _FRACTION,
            "objectives": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "name": {"type": "string"}, "progress": _FRACTION,
                "ideal_trajectory": _FRACTION, "gap": _FRACTION, "progress_to_date": _FRACTION,
                "gap_to_date": _FRACTION, "traffic_light": {"type": "string"}}}},
            "traffic_lights": {"type": "object", "properties": {
                "green": {"type": "integer"}, "yellow": {"type": "integer"}, "red": {"type": "integer"}}},
            "products": {"type": "array", "items": {"type": "object", "properties": {
                "code": {"type": "string"}, "objective": {"type": "string"}, "sector": {"type": ["string", "null"]},
                "progress": _FRACTION, "traffic_light": {"type": "string", "enum": ["green", "yellow", "red"]}}}},
        },
    },
    "CaseCounts": {
        "type": "object",
        "required": ["rows", "total"],
        "properties": {
            "rows": {"type": "array", "items": {"type": "object", "properties": {
                "count": _COUNT, "suppressed": {"type": "boolean"}},
                "additionalProperties": {"type": ["string", "integer", "boolean", "null"]}}},
            "total": _COUNT,
            "total_suppressed": {"type": "boolean"},
            "k": {"type": "integer", "description": "The threshold: no count from 1 to k-1 is published, nor one that "
                                                    "would let such a count be worked out."},
            "data_as_of": {"type": ["string", "null"], "format": "date",
                           "description": "The last day counted (the last closed month's end)."},
        },
    },
}


def _ok(schema: str, description: str) -> dict:
    return {"200": {"description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
         "description": "As written in the plan, dots included (3.5)."}
_POLICY = {"name": "policy", "in": "query", "schema": {"type": "string"},
           "description": "The policy code, when two policies have a product with the same code."}

PATHS: dict = {
    "/api/v1/products": {"get": {
        "summary": "Policy products and their targets", "tags": ["indicators"],
        "responses": {"200": {"description": "Products", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"products": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Product"}}}}}}},
                      **error_responses(401, 403)},
    }},
    "/api/v1/products/{code}/progress": {"get": {
        "summary": "A product's follow-up for a year (seed 001 method)", "tags": ["indicators"],
        "parameters": [_CODE, {"name": "period", "in": "query", "schema": {"type": "integer"},
                               "description": "The year (default: this year)."},
                       {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
                        "description": "Cut-off date (default: the end of the year, or today)."}, _POLICY],
        "responses": {**_ok("ProductProgress", "The product's figures"), **error_responses(401, 403, 404, 422)},
    }},
    "/api/v1/policies/{code}/summary": {"get": {
        "summary": "A policy's progress, objectives, traffic lights and products at a cut-off date",
        "tags": ["indicators"],
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"}}],
        "responses": {**_ok("PolicySummary", "The policy summary"), **error_responses(401, 403, 404, 422)},
    }},
    "/api/v1/stats/cases": {"get": {
        "summary": "Anonymised counts of cases by one or two dimensions, with disclosure control",
        "description": "Any other query parameter named like a dimension filters on it (e.g. sex=female). A "
                       "reserved count (from 1 to k-1, or hidden to protect one) is null, with `suppressed` true. "
                       "Two dimensions (a filter counts as one) are published over a year, one by any period; "
                       "the places (" + ", ".join(sorted(stats.YEAR_ALONE_DIMS)) + ") by themselves over a year "
                       "only. Any other combination is refused (422).",
        "tags": ["indicators"],
        "parameters": [
            {"name": "by", "in": "query", "required": True, "schema": {"type": "string"},
             "description": "One or two of: " + ", ".join(stats.DIMENSIONS), "example": "sex,age_group"},
            {"name": "period", "in": "query", "schema": {"type": "string"},
             "description": "2025, 2025-S1, 2025-B3, 2025-Q2 or 2025-03"},
            {"name": "unit", "in": "query", "schema": {"type": "string", "enum": list(stats.UNITS)}},
            {"name": "basis", "in": "query", "schema": {"type": "string", "enum": ["identified", "linked"]}},
        ],
        "responses": {**_ok("CaseCounts", "The protected counts"), **error_responses(401, 403, 422)},
    }},
    "/api/v1/stats/family": {"get": {
        "summary": "Anonymised counts of family members who received assistance (indirect victims) and of their "
                   "assistance steps, apart from the victims' counts, with the same disclosure control",
        "description": "Any other query parameter named like a dimension filters on it (e.g. relationship=mother). "
                       "A reserved count is null, with `suppressed` true.",
        "tags": ["indicators"],
        "parameters": [
            {"name": "by", "in": "query", "schema": {"type": "string", "default": "relationship"},
             "description": "One or two of: " + ", ".join(stats.TIME_DIMS + FAMILY_DIMS) + " (step_kind: steps "
                            "only)", "example": "relationship,department"},
            {"name": "period", "in": "query", "schema": {"type": "string"},
             "description": "2025, 2025-S1, 2025-B3, 2025-Q2 or 2025-03"},
            {"name": "unit", "in": "query", "schema": {"type": "string", "enum": list(FAMILY_UNITS),
                                                       "default": "members"},
             "description": "members: each family member once, in the month of her first service of the year; "
                            "steps: the services done for them."},
        ],
        "responses": {**_ok("CaseCounts", "The protected counts"), **error_responses(401, 403, 422)},
    }},
}
