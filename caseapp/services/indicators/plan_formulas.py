"""The optional formula columns of an action plan (formula, population, step_kind, provider_entity): a plan can say
which formula of the registry the system computes a product with, and its parameters. A plan without these columns
imports as before; left empty, a product keeps its formula (a new one is entered by hand)."""
from __future__ import annotations

from flask_babel import gettext as _

from caseapp.extensions import db
from caseapp.models.indicators import Product
from caseapp.services.indicators.formulas import FORMULAS, check_params

FORMULA_COLUMNS = ("formula", "population", "step_kind", "provider_entity")


def _formula_settings(row) -> tuple[str, ...]:
    return tuple(row.data.get(c, "") for c in FORMULA_COLUMNS)


def check_formulas(rows: list) -> dict[tuple, str]:
    """The optional formula columns, checked by the registry's one rule (`check_params`): the formula of each
    product the plan sets it for. A product's rows that give a formula must all give the same one."""
    formulas: dict[tuple, str] = {}
    settings: dict[tuple, tuple] = {}
    checked: dict[tuple, dict] = {}
    for row in rows:
        given = _formula_settings(row)
        if not any(given):
            continue
        formula, population, step_kind, provider = given
        if not formula:
            row.errors.append(_("Row %(line)s: say the formula the population, step kind or provider entity are "
                                "for.", line=row.line))
            continue
        if formula not in FORMULAS:
            row.errors.append(_("Row %(line)s: there is no formula \"%(value)s\"; the formulas are: %(all)s.",
                                line=row.line, value=formula[:40], all=", ".join(FORMULAS)))
            continue
        if given not in checked:
            checked[given] = check_params(formula, population, step_kind, provider)[1]
        for message in checked[given].values():
            row.errors.append(_("Row %(line)s: %(message)s", line=row.line, message=message))
        key = (row.data.get("policy"), row.data.get("product"))
        if key in settings and settings[key] != given:
            row.errors.append(_("Row %(line)s: product %(product)s has a different formula or formula parameters "
                                "than in an earlier row.", line=row.line, product=row.data.get("product")))
        settings.setdefault(key, given)
        formulas.setdefault(key, formula)
    return formulas


def set_formula(product: Product, rows: list) -> None:
    """The plan's formula for the product, with its parameters, when it gives one (validated already)."""
    given = next((_formula_settings(r) for r in rows if any(_formula_settings(r))), None)
    if given is None:
        return
    with db.session.no_autoflush:  # a new product is not complete yet
        values, _errors = check_params(*given)
    if product.id is None and FORMULAS[given[0]].is_share:  # a new product measured as a share
        product.unit, product.accumulation = "percent", "latest"
    product.formula = given[0]
    for key, value in values.items():
        setattr(product, key, value)
