"""The route's administration page: the rule table of due dates, the kinds of step, the shelters and the policy
for a case closed while she is in a shelter (admins only)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.authz import action_required
from caseapp.labels import label
from caseapp.models.route import PHASES, STEP_SECTIONS
from caseapp.services import casework, route
from caseapp.web import flow
from caseapp.web.route import bp, forms
from caseapp.web.route.routes import _choices, _entities, _flash_unseen_errors, _kind_label

# --- administration: rule table, step kinds, shelters ---------------------------------------------------------------


def _closure_choices() -> list[tuple[str, str]]:
    return [(code, label("open_stay_policy", code)) for code in route.OPEN_STAY_CHOICES]


def _admin_page(status=200, rule_form=None, kind_form=None, shelter_form=None, closure_form=None):
    for submitted, expected in ((rule_form, forms.RuleForm), (kind_form, forms.StepKindForm),
                                (shelter_form, forms.ShelterForm), (closure_form, forms.ClosurePolicyForm)):
        if submitted is not None:
            _flash_unseen_errors(submitted, shown=type(submitted) is expected)
    rule_form = rule_form if isinstance(rule_form, forms.RuleForm) else forms.RuleForm(prefix="rule", formdata=None)
    kind_form = kind_form if isinstance(kind_form, forms.StepKindForm) else forms.StepKindForm(prefix="kind", formdata=None)
    shelter_form = shelter_form if isinstance(shelter_form, forms.ShelterForm) else None
    kind_form.phase.choices = _choices("phase", PHASES)
    kind_form.section.choices = _choices("section", STEP_SECTIONS)
    shelter_form = shelter_form or forms.ShelterForm(prefix="shelter", formdata=None)
    shelter_form.operator_entity.choices = [(e.code, f"{e.code} — {e.name}") for e in _entities()]
    toggles = {}
    kinds = casework.step_kinds(active_only=False)
    for kind in kinds:
        f = forms.StepKindToggleForm(prefix=f"k{kind.id}", formdata=None)
        f.version.data = kind.version
        toggles[kind.id] = f
    closure_form = closure_form if isinstance(closure_form, forms.ClosurePolicyForm) else forms.ClosurePolicyForm(
        prefix="closure", formdata=None, data={"policy": route.open_stay_policy(),
                                               "version": route.open_stay_setting_version()})
    closure_form.policy.choices = _closure_choices()
    return render_template("route/admin.html", rules=route.list_rules(), kinds=kinds, toggles=toggles,
                           closure_form=closure_form,
                           shelter_rows=casework.list_shelters(current_user, include_inactive=True),
                           rule_form=rule_form, kind_form=kind_form, shelter_form=shelter_form,
                           label=label, kind_label=_kind_label), status


@bp.route("/admin")
@action_required("admin.manage")
def admin_catalogues():
    return _admin_page()


def _admin_post(form_name: str, form, call, success: str):
    outcome = flow.submit(form, call, success=success)
    if outcome.ok:
        return redirect(url_for("route.admin_catalogues"))
    if outcome.status == 409:
        return _admin_page(409)
    return _admin_page(422, **{form_name: form})


@bp.route("/admin/rules", methods=["POST"])
@action_required("admin.manage")
def add_rule():
    form = forms.RuleForm(prefix="rule")
    return _admin_post("rule_form", form, lambda f: route.add_rule(
        current_user, effective_from=f.effective_from.data, immediate_days=f.immediate_days.data,
        immediate_extension_days=f.immediate_extension_days.data, mediate_months=f.mediate_months.data,
        mediate_extension_months=f.mediate_extension_months.data, legal_source=f.legal_source.data),
        _("Rule recorded. Cases with intake from its start date use it."))


@bp.route("/admin/step-kinds", methods=["POST"])
@action_required("admin.manage")
def add_step_kind():
    form = forms.StepKindForm(prefix="kind")
    form.phase.choices = _choices("phase", PHASES)
    form.section.choices = _choices("section", STEP_SECTIONS)
    return _admin_post("kind_form", form, lambda f: casework.save_step_kind(
        current_user, code=f.code.data, phase=f.phase.data, section=f.section.data, label_es=f.label_es.data,
        label_en=f.label_en.data), _("Kind of step added."))


@bp.route("/admin/step-kinds/<int:kind_id>/toggle", methods=["POST"])
@action_required("admin.manage")
def toggle_step_kind(kind_id):
    form = forms.StepKindToggleForm(prefix=f"k{kind_id}")
    return _admin_post("kind_form", form, lambda f: casework.toggle_step_kind(current_user, kind_id,
                                                                            version=f.version.data),
                       _("Kind of step updated."))


@bp.route("/admin/shelters", methods=["POST"])
@action_required("admin.manage")
def add_shelter():
    form = forms.ShelterForm(prefix="shelter")
    form.operator_entity.choices = [(e.code, e.code) for e in _entities()]
    return _admin_post("shelter_form", form, lambda f: casework.save_shelter(
        current_user, code=f.code.data, name=f.name.data, city=f.city.data, operator_entity=f.operator_entity.data,
        capacity=f.capacity.data), _("Shelter saved."))


@bp.route("/admin/closure-policy", methods=["POST"])
@action_required("admin.manage")
def closure_policy():
    form = forms.ClosurePolicyForm(prefix="closure")
    form.policy.choices = _closure_choices()
    return _admin_post("closure_form", form, lambda f: route.set_open_stay_policy(
        current_user, f.policy.data, version=f.version.data or 0), _("Setting saved."))
