"""The product catalogue an admin edits: names, formula, baseline, weight, responsible entity.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Invalid, NotFound
from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.indicators import Objective, Policy, Product
from caseapp.models.route import StepKind
from caseapp.services.indicators.formulas import FORMULAS, PARAMS, check_params, stored_params
from caseapp.services.indicators.periods import parse_period
from caseapp.services.indicators.products import _product_query, parse_decimal
from caseapp.services.indicators.scope import policies_visible
from caseapp.services.primitives import commit, require_version

EDITABLE = ("name", "indicator", "formula", "formula_text", "baseline", "baseline_year", "baseline_source", "unit",
            "sector", "responsible_entity", "co_responsible", "target_population", "ods_code", "ods_name", "weight",
            "first_year", "population", "step_kind", "provider_entity")


def list_all_products(actor) -> list[Product]:
    authz.require(actor, "admin.manage")
    return list(db.session.scalars(_product_query().where(*policies_visible(actor))
                                   .order_by(Policy.code, Objective.sort_order, Product.sort_order, Product.code)))


def step_kind_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """The kinds of assistance step a formula can count, for the product sheet (inactive ones too: a product may
    still count a kind no longer offered)."""
    kinds = db.session.scalars(select(StepKind).order_by(StepKind.sort_order, StepKind.code))
    return [(k.code, k.label(locale)) for k in kinds]


def get_product_by_id(actor, product_id: int) -> Product:
    authz.require(actor, "admin.manage")
    product = db.session.scalar(_product_query().where(Product.id == product_id, *policies_visible(actor)))
    if product is None:
        raise NotFound(_("There is no product with that code."))
    return product


def update_product(actor, product_id: int, data: dict, version) -> Product:
    """An admin edits a product's sheet. Changing the first year of an annual product moves its periods with it."""

    product = get_product_by_id(actor, product_id)
    require_version(product, version, stale=_("Someone else changed this product while you were editing it. "
                                              "Reload it and try again; nothing was saved."))
    errors: dict[str, str] = {}
    clean: dict = {}
    for key in ("name", "indicator"):
        value = (data.get(key) or "").strip()
        if not value:
            errors[key] = _("This field is required.")
        clean[key] = value
    formula = data.get("formula") or product.formula
    if formula not in FORMULAS:
        errors["formula"] = _("Choose a formula from the list.")
    clean["formula"] = formula
    current = stored_params(product)  # a parameter left out of `data` stays as it is
    params, param_errors = check_params(formula, *(data[k] if k in data else current[k] for k in PARAMS))
    clean.update(params)
    errors.update(param_errors)
    for key, limit in (("formula_text", 2000), ("baseline", 40), ("baseline_source", 200), ("unit", 40),
                       ("sector", 200), ("co_responsible", 300), ("target_population", 200), ("ods_code", 8),
                       ("ods_name", 120)):
        value = (data.get(key) or "").strip()
        if len(value) > limit:
            errors[key] = _("At most %(n)s characters.", n=limit)
        clean[key] = value or None
    clean["unit"] = clean["unit"] or "number"
    for key in ("baseline_year", "first_year"):
        raw = str(data.get(key) or "").strip()
        if not raw:
            clean[key] = None
            continue
        try:
            clean[key] = int(raw)
            if not 1990 <= clean[key] <= 2100:
                raise ValueError
        except ValueError:
            errors[key] = _("Enter a year such as 2025.")
    if clean.get("first_year") is None:
        clean["first_year"] = product.first_year
    try:
        clean["weight"] = parse_decimal(data.get("weight", product.weight))
        if clean["weight"] < 0:
            errors["weight"] = _("The value cannot be negative.")
    except ValueError:
        errors["weight"] = _("Enter a number, e.g. 42 or 42,5.")
    entity_code = (data.get("responsible_entity") or "").strip()
    clean["responsible_entity_id"] = None
    if entity_code:
        entity_id = db.session.scalar(select(Entity.id).where(Entity.code == entity_code))
        if entity_id is None:
            errors["responsible_entity"] = _("There is no entity with that code.")
        clean["responsible_entity_id"] = entity_id
    shift = clean["first_year"] - product.first_year
    if shift and product.periodicity != "annual":
        errors["first_year"] = _("Only an annual product's first year can be changed here; import its plan again.")
    if shift and product.values:
        errors["first_year"] = _("The product already has values entered; its periods cannot move.")
    if errors:
        raise Invalid(_("Please correct the highlighted fields. Nothing was saved."), field_errors=errors)
    changed = []
    for key in ("name", "indicator", "formula", "formula_text", "baseline", "baseline_year", "baseline_source", "unit",
                "sector", "responsible_entity_id", "co_responsible", "target_population", "ods_code", "ods_name",
                "weight", "first_year", "formula_population", "formula_step_kind_id", "formula_provider_id"):
        if getattr(product, key) != clean[key]:
            changed.append(key)
            setattr(product, key, clean[key])
    if shift:
        for target in sorted(product.targets, key=lambda t: t.starts_on, reverse=shift > 0):
            period = parse_period(str(int(target.period) + shift))
            target.period, target.starts_on, target.ends_on = period.label, period.starts_on, period.ends_on
            db.session.flush()
    audit.record("indicator.product.update", object_type="product", object_ref=product.code,
                 detail={"policy": product.objective.policy.code, "fields": changed})
    commit(_("Someone else changed this product while you were editing it. Reload it and try again; nothing was "
             "saved."))
    return product
