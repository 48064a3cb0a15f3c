"""Action-plan import: planning offices keep their plans in spreadsheets (CSV or XLSX), one row per product and period.

Columns (exactly): policy, objective, objective_name, product, product_name, indicator, sector, weight, periodicity,
period, target, achieved, source; optionally formula, population, step_kind, provider_entity (the registry's
formula the system computes the product with, and its parameters). Every row is checked first; any error (reported row by row, in Spanish) means
nothing is written. Re-importing the same plan updates policies, objectives, products, targets and values in
place - keyed by policy code, objective code, product code (within the policy) and period - and never duplicates.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit, authz
from caseapp.errors import Invalid
from caseapp.extensions import db
from caseapp.models import territory as territories
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product, ProductTarget
from caseapp.services.indicators.formulas import FORMULAS
from caseapp.services.indicators.periods import parse_period
from caseapp.services.indicators.plan_formulas import FORMULA_COLUMNS, check_formulas, set_formula
from caseapp.services.indicators.products import parse_decimal
from caseapp.services.indicators.scope import policy_territory, viewer_territory
from caseapp.timeutil import utcnow

COLUMNS = ("policy", "objective", "objective_name", "product", "product_name", "indicator", "sector", "weight",
           "periodicity", "period", "target", "achieved", "source")
PERIODICITY_ALIASES = {"annual": "annual", "anual": "annual", "semiannual": "semiannual", "semestral": "semiannual",
                       "quarterly": "quarterly", "trimestral": "quarterly"}
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class PlanRow:
    line: int
    data: dict
    errors: list[str] = field(default_factory=list)
    period: str | None = None
    weight: Decimal | None = None
    target: Decimal | None = None
    achieved: Decimal | None = None
    periodicity: str | None = None


@dataclass
class Preview:
    rows: list[PlanRow]
    errors: list[str]  # file-level errors
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not any(r.errors for r in self.rows)

    def payload(self) -> str:
        return json.dumps([r.data for r in self.rows], ensure_ascii=False)


def read_table(content: bytes, filename: str) -> list[dict]:
    """The rows of a CSV or XLSX file as dicts keyed by the (normalised) header; Invalid when unreadable."""
    if len(content) > MAX_BYTES:
        raise Invalid(_("The file is too large (at most 5 MB)."))
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - any unreadable workbook is the same user error
            raise Invalid(_("The file could not be read as an Excel workbook (.xlsx).")) from None
        sheet = book.worksheets[0]
        raw = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    elif name.endswith(".csv") or name.endswith(".txt"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("latin-1")
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        raw = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    else:
        raise Invalid(_("Upload a CSV or XLSX file."))
    raw = [r for r in raw if any(str(c).strip() for c in r)]
    if not raw:
        raise Invalid(_("The file is empty."))
    header = [str(h).strip().lower() for h in raw[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise Invalid(_("Missing columns: %(cols)s. The columns must be: %(all)s.",
                        cols=", ".join(missing), all=", ".join(COLUMNS)))
    if len(raw) - 1 > MAX_ROWS:
        raise Invalid(_("Too many rows (at most %(n)s).", n=MAX_ROWS))
    rows = []
    for values in raw[1:]:
        cells = {h: values[i] if i < len(values) else "" for i, h in enumerate(header)}
        rows.append({c: _cell_text(cells.get(c, "")) for c in COLUMNS + FORMULA_COLUMNS})
    return rows


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(row: PlanRow, column: str, label: str, required: bool) -> Decimal | None:
    text = row.data.get(column, "")
    if text == "":
        if required:
            row.errors.append(_("Row %(line)s: %(col)s is required.", line=row.line, col=label))
        return None
    try:
        value = parse_decimal(text)
    except ValueError:
        row.errors.append(_("Row %(line)s: %(col)s must be a number (got \"%(value)s\").",
                            line=row.line, col=label, value=text[:40]))
        return None
    if value < 0:
        row.errors.append(_("Row %(line)s: %(col)s cannot be negative.", line=row.line, col=label))
        return None
    return value


def validate(rows: list[dict]) -> Preview:
    """Check every row; nothing touches the database except reading what exists."""
    preview = Preview(rows=[], errors=[])
    seen_periods: dict[tuple, int] = {}
    product_facts: dict[tuple, tuple] = {}
    objective_names: dict[tuple, str] = {}
    for i, data in enumerate(rows, start=2):
        row = PlanRow(line=i, data=data)
        preview.rows.append(row)
        for column, label in (("policy", "policy"), ("objective", "objective"), ("product", "product"),
                              ("product_name", "product_name"), ("indicator", "indicator"),
                              ("periodicity", "periodicity"), ("period", "period")):
            if not data.get(column):
                row.errors.append(_("Row %(line)s: %(col)s is required.", line=i, col=label))
        for column, limit in (("policy", 40), ("objective", 20), ("product", 20), ("sector", 200), ("source", 300)):
            if len(data.get(column, "")) > limit:
                row.errors.append(_("Row %(line)s: %(col)s is too long (at most %(n)s characters).",
                                    line=i, col=column, n=limit))
        periodicity = PERIODICITY_ALIASES.get(data.get("periodicity", "").lower())
        if data.get("periodicity") and periodicity is None:
            row.errors.append(_("Row %(line)s: periodicity must be annual, semiannual or quarterly.", line=i))
        row.periodicity = periodicity
        if data.get("period") and periodicity:
            try:
                period = parse_period(data["period"], periodicity)
                if period.kind != periodicity:
                    raise ValueError(data["period"])
                row.period = period.label
            except ValueError:
                row.errors.append(_("Row %(line)s: the period \"%(value)s\" does not fit a %(kind)s product "
                                    "(e.g. 2022, 2022-S1, 2022-Q3).", line=i, value=data["period"][:20],
                                    kind=periodicity))
        row.weight = _number(row, "weight", "weight", True)
        row.target = _number(row, "target", "target", True)
        row.achieved = _number(row, "achieved", "achieved", False)
        if row.achieved is not None and not data.get("source"):
            row.errors.append(_("Row %(line)s: say the source of the achieved value.", line=i))
        key = (data.get("policy"), data.get("product"))
        if row.period:
            if (key, row.period) in seen_periods:
                row.errors.append(_("Row %(line)s: product %(product)s, period %(period)s is repeated (row %(first)s).",
                                    line=i, product=data.get("product"), period=row.period,
                                    first=seen_periods[(key, row.period)]))
            else:
                seen_periods[(key, row.period)] = i
        facts = (data.get("objective"), data.get("product_name"), data.get("indicator"), data.get("sector"),
                 str(row.weight), periodicity)
        if key in product_facts and product_facts[key] != facts and all(facts):
            row.errors.append(_("Row %(line)s: product %(product)s has different objective, name, indicator, sector, "
                                "weight or periodicity than in an earlier row.", line=i, product=data.get("product")))
        product_facts.setdefault(key, facts)
        okey = (data.get("policy"), data.get("objective"))
        if data.get("objective_name"):
            if okey in objective_names and objective_names[okey] != data["objective_name"]:
                row.errors.append(_("Row %(line)s: objective %(objective)s has a different name than in an "
                                    "earlier row.", line=i, objective=data.get("objective")))
            objective_names.setdefault(okey, data["objective_name"])
    for row in preview.rows:
        okey = (row.data.get("policy"), row.data.get("objective"))
        if row.data.get("objective") and okey not in objective_names and _existing_objective(*okey) is None:
            row.errors.append(_("Row %(line)s: objective_name is required for a new objective.", line=row.line))
    formulas = check_formulas(preview.rows)
    # products computed by the system take no achieved values
    for row in preview.rows:
        if row.achieved is None or not row.data.get("policy") or not row.data.get("product"):
            continue
        key = (row.data["policy"], row.data["product"])
        product = _existing_product(*key)
        formula = formulas.get(key) or (product.formula if product is not None else "manual")
        if FORMULAS[formula].computed:
            row.errors.append(_("Row %(line)s: product %(product)s is computed by the system from the cases; leave "
                                "achieved blank.", line=row.line, product=row.data["product"]))
    preview.counts = _counts(preview) if preview.ok else {}
    return preview


def _existing_policy(code: str) -> Policy | None:
    return db.session.scalar(select(Policy).where(Policy.code == code))


def _existing_objective(policy_code: str, code: str) -> Objective | None:
    return db.session.scalar(select(Objective).join(Policy).where(Policy.code == policy_code, Objective.code == code))


def _existing_product(policy_code: str, code: str) -> Product | None:
    return db.session.scalar(
        select(Product).join(Objective).join(Policy).where(Policy.code == policy_code, Product.code == code))


def _counts(preview: Preview) -> dict:
    policies = {r.data["policy"] for r in preview.rows}
    objectives = {(r.data["policy"], r.data["objective"]) for r in preview.rows}
    products = {(r.data["policy"], r.data["product"]) for r in preview.rows}
    return {
        "rows": len(preview.rows),
        "policies_new": sum(1 for p in policies if _existing_policy(p) is None),
        "policies": len(policies),
        "objectives_new": sum(1 for o in objectives if _existing_objective(*o) is None),
        "objectives": len(objectives),
        "products_new": sum(1 for p in products if _existing_product(*p) is None),
        "products": len(products),
        "values": sum(1 for r in preview.rows if r.achieved is not None),
    }


def preview_file(actor, content: bytes, filename: str) -> Preview:
    if actor is not None:
        authz.require(actor, "admin.manage")
    return validate(read_table(content, filename))


def preview_payload(actor, payload: str) -> Preview:
    if actor is not None:
        authz.require(actor, "admin.manage")
    try:
        rows = json.loads(payload or "[]")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError
        rows = [{c: str(r.get(c, "") or "").strip() for c in COLUMNS + FORMULA_COLUMNS} for r in rows][:MAX_ROWS]
    except ValueError:
        raise Invalid(_("The preview expired or was altered; upload the file again.")) from None
    if not rows:
        raise Invalid(_("The file is empty."))
    return validate(rows)


def apply(actor, preview: Preview, *, filename: str = "", system_actor: str | None = None,
          territory: str | None = None) -> dict:
    """Write a validated plan in one transaction (all rows or none). A new policy belongs to `territory`, by default
    the importing user's entity's (an operator's: the nation); a policy of another territory is not touched."""
    if actor is not None:
        authz.require(actor, "admin.manage")
    if not preview.ok:
        raise Invalid(_("The plan has errors; nothing was written."))
    territory = _plan_territory(actor, territory)
    counts = dict(preview.counts)
    now = utcnow()
    by_product: dict[tuple, list[PlanRow]] = {}
    for row in preview.rows:
        by_product.setdefault((row.data["policy"], row.data["product"]), []).append(row)
    try:
        policies: dict[str, Policy] = {}
        objectives: dict[tuple, Objective] = {}
        for row in preview.rows:
            pcode = row.data["policy"]
            if pcode not in policies:
                policy = _existing_policy(pcode)
                if policy is not None and not territories.contains(viewer_territory(actor),
                                                                    policy_territory(policy)):
                    raise Invalid(_("The policy %(code)s belongs to another territory; nothing was written.",
                                    code=pcode))
                if policy is None:
                    policy = Policy(code=pcode, name=pcode, territory_code=territory)
                    db.session.add(policy)
                    db.session.flush()
                policies[pcode] = policy
            okey = (pcode, row.data["objective"])
            if okey not in objectives:
                objective = _existing_objective(*okey)
                if objective is None:
                    objective = Objective(policy=policies[pcode], code=row.data["objective"],
                                          name=row.data["objective_name"], sort_order=_sort_key(row.data["objective"]))
                    db.session.add(objective)
                    db.session.flush()
                objectives[okey] = objective
            if row.data["objective_name"] and objectives[okey].name != row.data["objective_name"]:
                objectives[okey].name = row.data["objective_name"]
        for (pcode, code), rows in by_product.items():
            first = rows[0]
            objective = objectives[(pcode, first.data["objective"])]
            product = _existing_product(pcode, code)
            if product is None:
                indicator = first.data["indicator"]
                product = Product(code=code, formula="manual", first_year=0, final_target=0,
                                  accumulation="latest" if indicator.lower().startswith("porcentaje") else "sum",
                                  unit="percent" if indicator.lower().startswith("porcentaje") else "number",
                                  sort_order=_sort_key(code, minor=True))
                db.session.add(product)
            set_formula(product, rows)
            product.objective = objective
            product.name = first.data["product_name"]
            product.indicator = first.data["indicator"]
            product.sector = first.data["sector"] or None
            product.weight = first.weight
            product.periodicity = first.periodicity
            db.session.flush()
            targets = {t.period: t for t in db.session.scalars(
                select(ProductTarget).where(ProductTarget.product_id == product.id))}
            values = {v.period: v for v in db.session.scalars(
                select(AchievedValue).where(AchievedValue.product_id == product.id))}
            for row in rows:
                period = parse_period(row.period, product.periodicity)
                target = targets.get(period.label)
                if target is None:
                    target = ProductTarget(product_id=product.id, period=period.label, starts_on=period.starts_on,
                                           ends_on=period.ends_on, target=row.target)
                    db.session.add(target)
                    targets[period.label] = target
                elif target.target != row.target:
                    target.target = row.target
                if row.achieved is not None:
                    value = values.get(period.label)
                    entered_by = getattr(actor, "id", None)
                    if value is None:
                        db.session.add(AchievedValue(product_id=product.id, period=period.label, value=row.achieved,
                                                     source=row.data["source"], entered_by_id=entered_by,
                                                     entered_at=now, origin="import"))
                    elif value.value != row.achieved or value.source != row.data["source"]:
                        value.value, value.source = row.achieved, row.data["source"]
                        value.entered_by_id, value.entered_at, value.origin = entered_by, now, "import"
            ordered = sorted(targets.values(), key=lambda t: t.starts_on)
            product.periods_count = len(ordered)
            product.first_year = ordered[0].starts_on.year
            product.final_target = (ordered[-1].target if product.accumulation == "latest"
                                    else sum((Decimal(t.target) for t in ordered), Decimal(0)))
        audit.record("plans.import", object_type="plan", object_ref=",".join(sorted(policies))[:64],
                     detail={"file": (filename or "")[-80:], **counts},
                     actor=_log_actor(actor, system_actor))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return counts


def _plan_territory(actor, territory: str | None) -> str:
    if territory is None:
        return viewer_territory(actor)
    code, error = territories.clean(territory)
    if error is None and not territories.contains(viewer_territory(actor), code):
        error = _("The territory %(code)s is outside yours; nothing was written.", code=code)
    if error:
        raise Invalid(error, field_errors={"territory": [error]})
    return code


def _log_actor(actor, system_actor):
    """The access log's actor: a system operator by name; a signed-in user is taken from the request."""
    if actor is None:
        return system_actor
    if getattr(actor, "id", None) is None:
        return getattr(actor, "username", system_actor)
    return actor


def _sort_key(code: str, minor: bool = False) -> int:
    parts = [p for p in str(code).replace("-", ".").split(".") if p.isdigit()]
    if not parts:
        return 0
    if minor and len(parts) > 1:
        return int(parts[0]) * 1000 + int(parts[1])
    return int(parts[-1]) if minor else int(parts[0])


def import_file(actor, content: bytes, filename: str, *, system_actor: str | None = None,
                territory: str | None = None) -> tuple[Preview, dict]:
    """Validate then write; on any error nothing is written and the preview carries the errors."""
    preview = validate(read_table(content, filename)) if actor is None else preview_file(actor, content, filename)
    if not preview.ok:
        return preview, {}
    return preview, apply(actor, preview, filename=filename, system_actor=system_actor, territory=territory)
