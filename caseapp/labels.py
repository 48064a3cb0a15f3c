"""The label of every coded value, in one catalogue: screens, exports, the access-log console and the OpenAPI
enums read their labels here (Spanish through Babel, English from the message ids), never a raw code.

Models keep their code tuples; this module names each code once, by group. Short words whose Spanish depends on
the noun they qualify ("Other", "Requested", "Done"...) carry a message context, so that one message id has one
translation per context (the translation check fails otherwise). `label("nationality", code)` names a country
in the current language, and a nationality left blank "not stated"; `action_label(code)` names access-log actions.
"""
from __future__ import annotations

from babel import Locale
from flask import has_request_context
from flask.globals import _cv_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_babel.speaklater import LazyString

from caseapp.models import territory as territories

NOT_STATED = _l("Not stated")

LABELS = {
    # --- the case and its route -----------------------------------------------------------------------------
    "status": {"identified": _l("Identified"), "in_immediate_assistance": _l("In immediate assistance"),
               "in_mediate_assistance": _l("In mediate assistance"), "closed": _l("Closed")},
    "phase": {"immediate": _l("Immediate assistance"), "mediate": _l("Mediate assistance")},
    "step_status": {"planned": _lp("assistance step", "Planned"), "in_progress": _l("In progress"),
                    "done": _lp("assistance step", "Done"), "not_provided": _l("Not provided")},
    "closure": {"goals_met": _l("Goals of the life plan met"), "voluntary_withdrawal": _l("Voluntary withdrawal"),
                "transferred": _l("Transferred to another entity"), "lost_contact": _l("Lost contact"),
                "death": _l("Death"), "other": _lp("closure reason", "Other")},
    "reopen": {"needs_assistance_again": _l("She asks for assistance again"), "new_risk": _l("A new risk to her"),
               "closed_in_error": _l("Closed in error"), "other": _lp("reopen reason", "Other")},
    "stage": {"complaint": _l("Complaint"), "inquiry": _l("Inquiry"), "investigation": _l("Investigation"),
              "trial": _l("Trial"), "judgment": _l("Judgment"), "closed": _lp("criminal process", "Closed")},
    "representation": {"none": _lp("legal representation", "None"),
                       "public_defender": _l("Public defender (Defensoría)"),
                       "entity_lawyer": _l("Lawyer of the entity"), "private_lawyer": _l("Private lawyer"),
                       "other": _lp("legal representation", "Other")},
    "attachment_kind": {"consent": _l("Signed consent"), "acta_unica": _l("Acta única"),
                        "identity_document": _l("Identity document"), "court_order": _l("Court order"),
                        "other": _l("Other document")},
    "goal_area": {"health": _l("Health"), "education": _l("Education"), "employment": _l("Employment"),
                  "income": _l("Income"), "housing": _l("Housing"), "family": _l("Family"),
                  "legal": _l("Legal"), "other": _lp("life plan area", "Other")},
    "goal_status": {"agreed": _l("Agreed"), "in_progress": _l("In progress"),
                    "achieved": _lp("life plan goal", "Achieved"), "dropped": _l("Dropped")},
    "event_kind": {"hearing": _l("Hearing"), "stage_change": _l("Change of stage"),
                   "other": _lp("legal event", "Other")},
    "protection": {"witness_protection": _l("Witness protection"), "police_measures": _l("Police measures"),
                   "other": _lp("protection measure", "Other")},
    "protection_status": {"requested": _lp("protection measure", "Requested"),
                          "granted": _lp("protection measure", "Granted"),
                          "denied": _lp("protection measure", "Denied"),
                          "ended": _lp("protection measure", "Ended")},
    # --- legal follow-up (issue 13): kinds of proceeding and the stages of each kind but the criminal one -------
    "proceeding_kind": {"criminal": _l("Criminal proceeding"),
                        "protection_action": _l("Protection action (acción de tutela)"),
                        "migratory": _l("Migratory regularisation (PEP/PPT)"),
                        "reparation": _l("Reparation incident (incidente de reparación integral)")},
    "stage_protection_action": {"filed": _lp("protection action", "Filed"), "admitted": _l("Admitted"),
                                "first_ruling": _l("First-instance ruling"), "challenged": _l("Challenged"),
                                "second_ruling": _l("Second-instance ruling"),
                                "compliance": _l("Compliance with the ruling"),
                                "closed": _lp("protection action", "Closed")},
    "stage_migratory": {"requested": _lp("migratory regularisation", "Requested"),
                        "in_process": _lp("migratory regularisation", "In process"),
                        "granted": _lp("migratory regularisation", "Granted"),
                        "denied": _lp("migratory regularisation", "Denied"),
                        "closed": _lp("migratory regularisation", "Closed")},
    "stage_reparation": {"requested": _lp("reparation incident", "Requested"),
                         "opened": _lp("reparation incident", "Opened"), "conciliation": _l("Conciliation hearing"),
                         "evidence": _l("Evidence"), "ruling": _lp("reparation incident", "Ruling"),
                         "closed": _lp("reparation incident", "Closed")},
    "referral_status": {"sent": _l("Sent"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
                        "done": _lp("referral", "Done"), "withdrawn": _l("Withdrawn"), "ended": _l("Access ended")},
    "section": {"identity": _l("Identity and contact"), "account": _l("Account of events"),
                "summary": _l("Case summary"), "psychosocial": _l("Psychosocial"),
                "legal": _l("Legal")},
    # --- registration: the victim, the case, consents, screening --------------------------------------------
    "document_type": {"CC": _l("Citizenship card (CC)"), "TI": _l("Identity card (TI)"),
                      "RC": _l("Civil registry (RC)"), "CE": _l("Foreigner ID card (CE)"),
                      "PEP": _l("Special stay permit (PEP)"), "PPT": _l("Temporary protection permit (PPT)"),
                      "PASSPORT": _l("Passport"), "NONE": _l("No document")},
    "sex": {"female": _l("Female"), "male": _l("Male"), "intersex": _l("Intersex"), "unknown": NOT_STATED},
    "gender_identity": {"woman": _l("Woman"), "man": _l("Man"), "trans_woman": _l("Trans woman"),
                        "trans_man": _l("Trans man"), "non_binary": _l("Non-binary"),
                        "other": _lp("gender identity", "Other"), "unknown": NOT_STATED},
    # Age ranges read the same in both languages.
    "age_group": {"0-8": "0-8", "9-17": "9-17", "18-20": "18-20", "21-23": "21-23", "24-26": "24-26",
                  "27-29": "27-29", "30-38": "30-38", "39-47": "39-47", "48+": _l("48 or older"),
                  "unknown": NOT_STATED},
    # DANE's wording of ethnic self-recognition; Rrom as Colombian institutions write it.
    "ethnic_group": {"none": _l("No ethnic self-recognition"), "afrocolombian": _l("Afro-Colombian, Black"),
                     "indigenous": _l("Indigenous"), "raizal": _l("Raizal"), "palenquero": _l("Palenquero"),
                     "rrom": _l("Rrom"), "other": _lp("ethnic group", "Other"), "unknown": NOT_STATED},
    "yes_no": {"yes": _l("Yes"), "no": _l("No"), "unknown": NOT_STATED},
    "migrant_status": {"national": _l("Colombian national"), "regular_migrant": _l("Migrant with regular status"),
                       "irregular_migrant": _l("Migrant with irregular status"),
                       "returnee": _l("Returning Colombian"), "refugee_or_asylum": _l("Refugee or asylum seeker"),
                       "unknown": NOT_STATED},
    "identification_source": {
        "coat": _l("COAT — free line 01 8000 522020"), "fiscalia": _l("Attorney General's Office (Fiscalía)"),
        "policia": _l("Police"), "migracion": _l("Migración Colombia"), "icbf": _l("ICBF"),
        "health": _l("Health sector"), "ngo": _l("NGO"), "self_referral": _l("Came on her own"),
        "other": _lp("identification source", "Other")},
    "trafficking_scope": {"internal": _l("Internal (within Colombia)"), "external": _l("External (across borders)")},
    "victim_status": {"victim": _l("Victim"), "possible_victim": _l("Possible victim")},
    # HTCDS methods of control (the former codes' mapping: "control_method_former" below).
    "control_method": {
        "debt_bondage": _l("Debt bondage"), "takes_earnings": _l("Takes her earnings"), "threats": _l("Threats"),
        "restricts_financial_access": _l("Restricts her access to money"), "uses_children": _l("Uses her children"),
        "withholds_necessities": _l("Withholds food, water or other necessities"),
        "psychological_abuse": _l("Psychological abuse"), "physical_abuse": _l("Physical abuse"),
        "sexual_abuse": _l("Sexual abuse"), "false_promises": _l("False promises"),
        "psychoactive_substances": _l("Psychoactive substances"), "restricts_movement": _l("Restricts movement"),
        "restricts_medical_care": _l("Restricts medical care"), "withholds_documents": _l("Withholds documents"),
        "threat_of_law_enforcement": _l("Threat of denunciation to the authorities"),
        "excessive_working_hours": _l("Excessive working hours"), "other": _lp("control method", "Other")},
    "consent_kind": {"assistance": _l("Assistance"),
                     "data_processing": _l("Processing of sensitive data (Law 1581 of 2012)"),
                     "sharing": _l("Sharing with another entity")},
    "consent_method": {"written": _l("Written, signed"), "verbal_witnessed": _l("Verbal, before a witness"),
                       "digital": _l("Digital"), "legal_representative": _l("Legal representative (child)"),
                       "child_protection_authority": _l("Child-protection authority (ICBF)")},
    "screening_act": {"recruitment": _l("Recruitment (captación)"), "transport": _l("Transport"),
                      "transfer": _l("Transfer"), "harbouring": _l("Harbouring"), "receipt": _l("Receipt")},
    "screening_means": {
        "threat": _l("Threat"), "force": _l("Use of force"), "coercion": _l("Other forms of coercion"),
        "abduction": _l("Abduction"), "fraud": _l("Fraud"), "deception": _l("Deception"),
        "abuse_of_power": _l("Abuse of power"), "abuse_of_vulnerability": _l("Abuse of a position of vulnerability"),
        "payments_or_benefits": _l("Giving payments or benefits"), "none_identified": _l("None identified")},
    "erasure_reason": {"victim_request": _l("She asked for her data to be erased"),
                       "legal_order": _l("Court or legal order"), "registered_in_error": _l("Registered in error"),
                       "retention_expired": _l("Retention period expired"),
                       "other": _lp("erasure reason", "Other")},
    # --- accounts ------------------------------------------------------------------------------------------
    "role": {"social_worker": _l("Social worker (psychosocial)"), "lawyer": _l("Lawyer (legal)"),
             "coordinator": _l("Coordinator"), "auditor": _l("Auditor"), "admin": _l("Administrator")},
    "entity_kind": {"government": _l("Government"), "justice": _l("Justice"), "police": _l("Police"),
                    "health": _l("Health"), "child_protection": _l("Child protection"),
                    "ngo": _l("Non-governmental organisation"), "international": _l("International organisation")},
    # --- indicators ----------------------------------------------------------------------------------------
    "periodicity": {"annual": _l("Annual"), "semiannual": _l("Half-yearly"), "quarterly": _l("Quarterly")},
    "accumulation": {"sum": _l("Sum of the periods"), "latest": _l("Latest value reported")},
    "product_unit": {"number": _l("Number"), "percent": _l("Percentage")},
    "value_origin": {"screen": _l("Entered on screen"), "import": _l("Imported from an action plan")},
    "formula": {"women_linked": _l("Women linked to the programme"), "victims_attended": _l("Victims attended"),
                "victims_with_step": _l("Victims with a step of a given kind done"),
                "victims_attended_by_provider": _l("Victims attended by a given provider entity"),
                "coverage": _l("Coverage: victims identified who were attended"),
                "women_with_complaint": _l("Women accompanied who filed a criminal complaint"),
                "referrals_answered_share": _l("Share of referrals answered and done"),
                "referrals_on_time_share": _l("Share of referrals answered by their due date"),
                "immediate_within_term_share": _l("Share of cases with immediate assistance within the legal term"),
                "manual": _l("Entered by hand")},
    # Whom a product's formula counts (the differential approach of the plans).
    "formula_population": {"all": _l("Everyone"), "women": _l("Women (including trans women)"),
                           "migrants": _l("Migrants (regular, irregular, refugees or asylum seekers)"),
                           "children": _l("Children and adolescents (under 18 at identification)"),
                           "ethnic_groups": _l("People of an ethnic group (self-recognised)"),
                           "lgbtiq": _l("LGBTIQ+ people"), "disability": _l("People with a disability")},
    "open_stay_policy": {"refuse": _l("is refused until her departure is recorded"),
                         "end": _l("ends her stay on the closure date")},
    "traffic_light": {"green": _l("Green (high)"), "yellow": _l("Yellow (medium)"), "red": _l("Red (low)")},
    # --- family members and safety flags -------------------------------------------------------------------
    "relationship": {"mother": _l("Mother"), "father": _l("Father"), "partner": _l("Partner"),
                     "child": _l("Son or daughter"), "sibling": _l("Brother or sister"),
                     "grandparent": _l("Grandmother or grandfather"), "other_relative": _l("Other relative"),
                     "other": _lp("family relationship", "Other")},
    "family_step_status": {"planned": _lp("family step", "Planned"), "done": _lp("family step", "Done")},
    "safety_flag": {"high_risk": _l("High risk"), "threats_received": _l("Threats received"),
                    "no_phone_contact": _l("Do not contact by phone"),
                    "no_contact_relatives": _l("Do not contact relatives"),
                    "contact_only_through": _l("Contact only through a named professional")},
    "stats_dimension": {
        "year": _l("Year"), "semester": _l("Half-year"), "bimester": _l("Two-month period"), "quarter": _l("Quarter"),
        "month": _l("Month"), "entity": _l("Entity"), "exploitation_purpose": _l("Purpose of exploitation"),
        "trafficking_scope": _l("Internal or external"), "age_group": _l("Age group"), "sex": _l("Sex"),
        "nationality": _l("Nationality"), "ethnic_group": _l("Ethnic group"), "phase": _l("Phase"),
        "status": _l("Status"), "provider_entity": _l("Provider entity"), "identification_source": _l("Identified by"),
        "victim_status": _l("Victim or possible victim"), "gender_identity": _l("Gender identity"),
        "migrant_status": _l("Migrant status"), "disability": _l("Disability"), "lgbtiq": _l("LGBTIQ+")},
    # The phase a case is in, as the counts derive it from its status.
    "stats_phase": {"identification": _l("Identification"), "immediate": _l("Immediate assistance"),
                    "mediate": _l("Mediate assistance"), "closed": _l("Closed")},
    "stats_unit": {"cases": _l("Cases"), "victims": _l("Victims")},
    # A value the counts found missing (a case without a purpose of exploitation, a column left empty).
    "stats_missing": {"unknown": _l("Unknown")},
    # --- the committee's reports (caseapp.services.indicators.committee) -------------------------------------
    "report_dimension": {"step_kind": _l("Kind of step"), "provider_entity": _l("Provider entity"),
                         "to_entity": _l("Entity asked"), "term": _l("Legal term"), "entity": _l("Entity"),
                         "phase": _l("Phase"), "closure_reason": _l("Reason for closure"),
                         "protection_kind": _l("Protection measure")},
    "phase_term": {"within_term": _l("Ended within the legal term"), "ended_late": _l("Ended after its due date"),
                   "open_overdue": _l("Still open past its due date")},
    "referral_event": {"sent": _l("Sent"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
                       "done": _lp("referral", "Done"), "overdue": _l("Not answered by its due date")},
    # --- the access log ------------------------------------------------------------------------------------
    "audit_outcome": {"allowed": _lp("access-log outcome", "Allowed"),
                      "denied": _lp("access-log outcome", "Denied"), "error": _l("Error")},
    "alert_kind": {"many_cases": _l("Many distinct cases in a short time"),
                   "off_hours": _l("Access outside working hours"), "denied": _l("Repeated denied requests"),
                   "cross_entity": _l("Case of another entity without an accepted referral"),
                   "new_address": _l("Sign-in from a new address"),
                   "case_role_grant": _l("Case role given to an account"),
                   "duplicate_probe": _l("Repeated warnings that another entity holds a case"),
                   "stats_burst": _l("Many statistics queries in a short time")},
    "audit_object": {
        "case": _l("Case"), "user": _l("User"), "entity": _l("Entity"), "setting": _l("Setting"),
        "report": _l("Report"), "export": _l("Export"), "agenda": _l("Due dates"), "audit_log": _l("Access log"),
        "database": _l("Database"), "erasure_request": _l("Erasure request"), "inbox": _l("Referral inbox"),
        "keyring": _l("Encryption keys"), "plan": _l("Action plan"), "product": _l("Policy product"),
        "session": _l("Session"), "shelter_stays": _l("Shelter stays"), "referral": _l("Referral"),
        "exploitation_purpose": _l("Purpose of exploitation"), "due_rule": _l("Due-date rule"),
        "step_kind": _l("Kind of assistance step"), "shelter": _l("Shelter"), "shelter_stay": _l("Shelter stay"),
        "assistance_step": _l("Assistance step")},
}

# What a duplicate warning compared (registry.identity.MATCH_ORDER): said in the warning, never the values.
LABELS["duplicate_match"] = {
    "document": _l("same document"), "name_birth_date": _l("same full name and date of birth"),
    "name_phone": _l("same full name and phone"), "name": _l("same full name (no date of birth to compare)"),
}
# --- places and the HTCDS alignment (caseapp.services.registry.places) ----------------------------------------
LABELS["recruitment_method"] = {
    "abduction": _l("Abduction"), "educational_facility": _l("At a school or university"),
    "familial": _l("By a relative"), "internet": _l("Internet (social media, online advertisement)"),
    "international_marriage_broker": _l("International marriage broker"),
    "intimate_partner": _l("Intimate partner or marriage proposal"), "job_offer": _l("Job offer or advertisement"),
    "posing_as_benefactor": _l("Posing as a benefactor"), "public_area": _l("In a public place"),
    "offer_of_accommodation": _l("Offer of accommodation"), "shelter": _l("At a shelter"),
    "smuggling_ransom": _l("Smuggling, ransom"), "work": _l("At work"),
    "other": _lp("recruitment method", "Other"), "unknown": NOT_STATED}
# Ruta's first codes of the methods of control that HTCDS lacks, named with the HTCDS method they now count as
# (the mapping itself: caseapp.models.cases.CONTROL_METHODS_FORMER).
LABELS["control_method_former"] = {
    "threats_to_family": _l("Threats to her family (now: Threats)"),
    "isolation": _l("Isolation (now: Restricts movement)")}
LABELS["stats_dimension"].update({
    "exploitation_department": _l("Department of exploitation"),
    "recruitment_department": _l("Department of recruitment"),
    "destination_country": _l("Country of destination"), "recruitment_method": _l("Recruitment method")})
# The dimensions of the family members' counts (services.indicators.dimensions.FAMILY_BASES).
LABELS["stats_dimension"].update({
    "relationship": _l("Relationship to the victim"), "department": _l("Department of the attending entity"),
    "step_kind": _l("Kind of step")})


def municipality_options() -> list[tuple[str, str]]:
    """(code, name) of the municipalities the catalogue names, by name: offered as a typing aid, any DANE code of a
    known department being valid (caseapp.models.territory)."""
    return sorted(((code, territories.name(code)) for code in territories.MUNICIPALITIES), key=lambda p: p[1])


# (language, group, code) -> the label's text. The catalogues do not change while the app runs, so a label is
# translated once per language: flask_babel finds the request's translations again for every string, and a list
# draws one label or more a row (the auditor's console: a tenth of its time).
_TEXTS: dict = {}


def _language() -> tuple | None:
    """The language str(lazy string) translates into now, as a cheap key: flask_babel's get_locale, which reads
    `babel_locale` from its state in `g` (set by its locale selector or by force_locale), read here without its
    three proxy lookups, and without hashing and comparing a babel Locale (each compares five attributes)."""
    app_ctx = _cv_app.get(None)
    locale = getattr(getattr(app_ctx.g, "_flask_babel", None), "babel_locale", None) if app_ctx else None
    if locale is None:
        locale = get_locale()  # not chosen yet in this request (or no app at all): flask_babel chooses it
        if locale is None:
            return None
    return locale.language, locale.territory, locale.script, locale.variant


def _text(key: tuple, entry) -> str:
    """`entry` (a catalogue's lazy string, or the code itself when the catalogue has none) in the current language,
    remembered under `key` when it is the catalogue's."""
    if not isinstance(entry, LazyString):
        return str(entry)  # a code the catalogue does not know: as it was given, never remembered
    key = (_language(), *key)  # the same language str(entry) is translated into, just below
    text = _TEXTS.get(key)
    if text is None:
        text = _TEXTS[key] = str(entry)
    return text


def label(group: str, code: str | None) -> str:
    """The label of `code` in `group`, in the current language ("" for no code; the code itself only for a code
    the catalogue does not know, which tests/test_translations.py forbids for the models' value lists)."""
    if group == "nationality":
        return country_label(code)
    if code is None or code == "":
        return ""
    return _text((group, code), LABELS.get(group, {}).get(code, code))


def stage_label(kind: str | None, stage: str | None) -> str:
    """The label of a proceeding's stage: the criminal stages are the "stage" group, each other kind has its own."""
    return label("stage" if kind in (None, "criminal") else f"stage_{kind}", stage)


def label_list(group: str, codes) -> str:
    """Several codes (a list, or the comma-joined text the log stores) as one line of labels."""
    if isinstance(codes, str):
        codes = [c for c in codes.split(",") if c]
    return ", ".join(label(group, c) for c in codes or ())


def choices(group: str, codes=None, blank=None) -> list[tuple[str, object]]:
    """(code, label) pairs for a WTForms select, in the order of `codes` (the group's order by default), with an
    optional first blank option. Within a request the labels are its language's text, translated once per
    language (_text), not lazy strings that WTForms translates again for every option of every page; outside one
    (a form class built at import) they stay lazy."""
    table = LABELS[group]
    codes = table if codes is None else codes
    if has_request_context():
        pairs = [(code, _text((group, code), table.get(code, code))) for code in codes]
    else:
        pairs = [(code, table.get(code, code)) for code in codes]
    return ([("", blank)] if blank is not None else []) + pairs


# --- countries -------------------------------------------------------------------------------------------------


def _locale() -> Locale:
    try:
        return get_locale() or Locale("es")
    except RuntimeError:  # outside a request (a command): Spanish first
        return Locale("es")


def country_label(code: str | None) -> str:
    """A country named in the current language; no country (or the counts' "unknown") is "not stated", never a
    default country."""
    if not code or code == "unknown":
        return str(NOT_STATED)
    return _locale().territories.get(code, code)



def territory_label(code: str | None) -> str:
    """A territory as screens show it: 'Cartagena de Indias (Bolívar) · 13001', 'Nacional (Colombia)'."""
    code = territories.normalise(code)
    if code == territories.NATIONAL:
        return str(_l("National (Colombia)"))
    place = territories.name(code)
    if place:
        return f"{place} · {code}"
    return str(_l("Municipality %(code)s", code=code)) if len(code) == 5 else code

# --- access-log actions ----------------------------------------------------------------------------------------

AUDIT_ACTIONS = {
    "account.locale": _l("Change of interface language"),
    "admin.alert_thresholds": _l("Change of the alert thresholds"),
    "admin.entity.create": _l("Entity created"), "admin.entity.update": _l("Entity changed"),
    "admin.entity.deactivate": _l("Entity deactivated"), "admin.entity.reactivate": _l("Entity reactivated"),
    "admin.user.create": _l("User created"), "admin.user.update": _l("User changed"),
    "admin.user.deactivate": _l("User deactivated"), "admin.user.reactivate": _l("User reactivated"),
    "admin.case_role.grant": _l("Case role given"),
    "admin.user.change.request": _l("Change of roles or entity requested (four eyes)"),
    "admin.user.change.approve": _l("Change of roles or entity approved (four eyes)"),
    "admin.user.change.reject": _l("Change of roles or entity rejected (four eyes)"),
    "admin.totp.reset": _l("Second factor reset"), "admin.sessions.end": _l("A user's sessions ended"),
    "admin.token.create": _l("API token issued"), "admin.token.revoke": _l("API token revoked"),
    "admin.password.reset": _l("Password reset by an administrator"),
    "token.revoke": _l("API tokens revoked with the account's credentials"),
    "admin.manage": _l("Administration"),
    "api.auth": _l("API authentication"),
    "audit.alerts": _l("Access-log alerts viewed"), "audit.api": _l("Access log read through the API"),
    "audit.case_history": _l("Access history of a case viewed"), "audit.console": _l("Access log viewed"),
    "audit.export": _l("Access log exported"), "audit.read": _l("Reading the access log"),
    "backup.create": _l("Backup made"), "backup.restore": _l("Backup restored"),
    "case.access_history": _l("Access history of a case viewed"),
    "case.account.read": _l("Reading the account of events"),
    "case.close": _l("Case closed"), "case.reopen": _l("Case reopened"),
    "case.consent": _l("Recording a consent"),
    "case.attachment.upload": _l("Document attached to a case"),
    "case.attachment.download": _l("Attached document downloaded"),
    "case.attachment.list": _l("List of a case's attached documents"),
    "admin.attachment_limit": _l("Change of the attachment size limit"),
    "case.consent.give": _l("Consent recorded"), "case.consent.withdraw": _l("Consent withdrawn"),
    "case.create": _l("Case registered"), "case.create.replayed": _l("Registration form sent again"),
    "case.duplicate_check": _l("Check for possible duplicates"),
    "case.duplicate_hint": _l("Warning of a possible duplicate"),
    "case.duplicate_hint.other_entity": _l("Warning that another entity may hold a case"),
    "case.erase": _l("Identity erased"), "case.erase.approve": _l("Erasure approved"),
    "case.erase.reject": _l("Erasure rejected"), "case.erase.request": _l("Erasure requested"),
    "case.identity.read": _l("Reading the identity"),
    "case.legal.event": _l("Legal event recorded"), "case.legal.measure": _l("Protection measure recorded"),
    "case.legal.measure.update": _l("Protection measure updated"),
    "case.legal.proceeding.open": _l("Legal proceeding opened"), "case.legal.stage": _l("Stage change recorded"),
    "case.legal.event.update": _l("Hearing outcome recorded"),
    "case.legal.save": _l("Legal follow-up saved"), "case.legal.view": _l("Legal follow-up viewed"),
    "case.legal.read": _l("Reading the legal section"), "case.legal.write": _l("Writing in the legal section"),
    "case.legal_notes.read": _l("Reading legal notes"), "case.legal_notes.view": _l("Legal notes viewed"),
    "case.legal_notes.add": _l("Legal note recorded"),
    "case.psychosocial.read": _l("Reading the psychosocial section"),
    "case.psychosocial.write": _l("Writing in the psychosocial section"),
    "case.psychosocial_notes.view": _l("Psychosocial notes viewed"),
    "case.psychosocial_notes.add": _l("Psychosocial note recorded"),
    "case.life_plan.add": _l("Life plan goal recorded"), "case.life_plan.review": _l("Life plan goal reviewed"),
    "case.life_plan.view": _l("Life plan viewed"),
    "case.list": _l("List of cases viewed"), "case.search": _l("Case search"),
    "case.phase.extend": _l("Phase extended"), "case.phase.immediate": _l("Immediate assistance started"),
    "case.phase.mediate": _l("Mediate assistance started"),
    "case.read": _l("Reading a case"), "case.refer": _l("Referring a case"),
    "case.route.view": _l("Assistance route viewed"), "case.screening": _l("Identification screening recorded"),
    "case.step.add": _l("Assistance step recorded"), "case.step.update": _l("Assistance step updated"),
    "case.steps.view": _l("Assistance steps viewed"),
    "case.update": _l("Case changed"), "case.view": _l("Case viewed"),
    "catalogue.purpose.add": _l("Purpose of exploitation added"),
    "catalogue.purpose.retire": _l("Purpose of exploitation closed"),
    "demo.totp.enrol": _l("Second factor set up (demonstration)"),
    "erasure.approve": _l("Approving erasures"), "erasure.list": _l("Erasure requests viewed"),
    "export.table_list": _l("Monthly list for the table exported"),
    "indicator.product.update": _l("Policy product changed"), "indicator.value.enter": _l("Indicator value entered"),
    "keys.rewrap": _l("Data keys re-wrapped"), "keys.rotate": _l("Master key rotated"),
    "victims.reindex": _l("Search indexes recomputed"),
    "login.failure": _l("Failed sign-in"), "login.lockout": _l("Account locked after failed sign-ins"),
    "login.success": _l("Signed in"), "logout": _l("Signed out"),
    "logout.everywhere": _l("Signed out on every device"), "session.end": _l("Session ended"),
    "password.change": _l("Password change"),
    "recovery_code.regenerate": _l("Recovery codes renewed"), "recovery_code.used": _l("Recovery code used"),
    "totp.enrol": _l("Second factor set up"), "totp.failure": _l("Wrong second-factor code"),
    "totp.replay": _l("Second-factor code used twice"),
    "plans.enter": _l("Entering plan values"), "plans.import": _l("Action plan imported"),
    "referral.accept": _l("Referral accepted"), "referral.reject": _l("Referral rejected"),
    "referral.withdraw": _l("Referral withdrawn"), "referral.answer": _l("Answering a referral"),
    "referral.access_ended": _l("Access through a referral ended"),
    "referral.complete": _l("Service of a referral recorded"), "referral.form": _l("Referral form opened"),
    "referral.fulfil": _l("Recording the service of a referral"), "referral.inbox": _l("Referral inbox viewed"),
    "referral.override_consent": _l("Case shared without consent by a coordinator"),
    "referral.read": _l("Reading a referral"), "referral.send": _l("Referral sent"),
    "referral.send.mandatory": _l("Mandatory referral to ICBF sent"), "referral.view": _l("Referral viewed"),
    "route.agenda": _l("Due dates viewed"), "route.rule.create": _l("Due-date rule recorded"),
    "route.setting.update": _l("Route setting changed"),
    "route.step_kind.create": _l("Kind of assistance step added"),
    "route.step_kind.toggle": _l("Kind of assistance step retired or brought back"),
    "route.table_list": _l("Monthly list for the table"),
    "route.table_list.view": _l("Monthly list for the table viewed"),
    "settings.update": _l("Setting changed"),
    "shelter.leave": _l("Departure from a shelter recorded"), "shelter.place": _l("Placed in a shelter"),
    "shelter.save": _l("Shelter saved"), "shelter.stays.view": _l("Shelter stays viewed"),
    "shelter.list": _l("Shelters and their free beds viewed"),
    "shelter.view": _l("Shelters viewed"),
    "stats.export": _l("Statistics exported"), "stats.read": _l("Reading statistics"),
    # notifications
    "notification.list": _l("Notifications viewed"), "notification.open": _l("Notification opened"),
    "admin.user.email": _l("E-mail address for notifications set"),
    # the case timeline and its printable summary
    "case.timeline.view": _l("Timeline of a case viewed"), "case.summary.pdf": _l("Case summary printed (PDF)"),
}
# Assignments of professionals to cases (services.casework.assignments) and "Mis casos".
AUDIT_ACTIONS.update({
    "case.assign": _l("Professional assigned to a case"), "case.unassign": _l("Assignment to a case ended"),
    "case.reassign": _l("Case moved to another professional"), "case.my_cases": _l("My cases viewed"),
    "case.reassign_bulk": _l("Moving a professional's cases"),
    "case.assignments.view": _l("Professionals of a case viewed"),
    "case.caseloads.view": _l("Caseloads of the entity viewed"),
})
# Family members and safety flags (services.family, services.safety).
AUDIT_ACTIONS.update({
    "case.family.read": _l("Reading the family members"), "case.family.write": _l("Recording a family member"),
    "case.family.view": _l("Family members viewed"), "case.family.add": _l("Family member registered"),
    "case.family.update": _l("Family member changed"),
    "case.family.step.add": _l("Assistance to a family member recorded"),
    "case.safety.set": _l("Safety flag set"), "case.safety.clear": _l("Safety flag cleared"),
    "case.safety.reasons": _l("Reading the reasons of the safety flags"),
    "case.safety.view": _l("Safety flags and their history viewed"),
})
# Actions logged with a variable part: a denied page request, a denied screen, a refused step of one kind.
AUDIT_ACTION_PREFIXES = (
    ("request:", _l("Request for a page")),
    ("view:", _l("Opening a screen")),
    ("case.record_step:", _l("Recording an assistance step")),
)
UNKNOWN_ACTION = _l("Other action")


def action_label(code: str | None) -> str:
    """The Spanish name of an access-log action; an action without one gets a readable generic name (the code
    itself stays beside it on screen and in its own column of the export, for auditors who filter by it)."""
    if not code:
        return ""
    if code in AUDIT_ACTIONS:
        return _text(("action", code), AUDIT_ACTIONS[code])
    for prefix, text in AUDIT_ACTION_PREFIXES:
        if code.startswith(prefix):
            return _text(("action prefix", prefix), text)
    return _text(("action unknown",), UNKNOWN_ACTION)
