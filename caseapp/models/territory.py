"""Territories: DIVIPOLA codes of DANE for municipalities (5 digits) and departments (2 digits), or `CO` for the
nation. An entity works in one; a policy (and so its products) belongs to one; a coordinator sees the counts of her
entity's. Plain data and SQL, so both the accounts and the indicators services can use it.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, true

NATIONAL = "CO"

# The 32 departments and Bogotá D.C. (DANE, DIVIPOLA).
DEPARTMENTS = {
    "05": "Antioquia", "08": "Atlántico", "11": "Bogotá D.C.", "13": "Bolívar", "15": "Boyacá", "17": "Caldas",
    "18": "Caquetá", "19": "Cauca", "20": "Cesar", "23": "Córdoba", "25": "Cundinamarca", "27": "Chocó",
    "41": "Huila", "44": "La Guajira", "47": "Magdalena", "50": "Meta", "52": "Nariño", "54": "Norte de Santander",
    "63": "Quindío", "66": "Risaralda", "68": "Santander", "70": "Sucre", "73": "Tolima", "76": "Valle del Cauca",
    "81": "Arauca", "85": "Casanare", "86": "Putumayo",
    "88": "Archipiélago de San Andrés, Providencia y Santa Catalina", "91": "Amazonas", "94": "Guainía",
    "95": "Guaviare", "97": "Vaupés", "99": "Vichada",
}

# The capitals (Cundinamarca's is Bogotá, a district of its own); other municipalities are valid by their code.
MUNICIPALITIES = {
    "05001": "Medellín", "08001": "Barranquilla", "11001": "Bogotá D.C.", "13001": "Cartagena de Indias",
    "15001": "Tunja", "17001": "Manizales", "18001": "Florencia", "19001": "Popayán", "20001": "Valledupar",
    "23001": "Montería", "27001": "Quibdó", "41001": "Neiva", "44001": "Riohacha", "47001": "Santa Marta",
    "50001": "Villavicencio", "52001": "Pasto", "54001": "Cúcuta", "63001": "Armenia", "66001": "Pereira",
    "68001": "Bucaramanga", "70001": "Sincelejo", "73001": "Ibagué", "76001": "Cali", "81001": "Arauca",
    "85001": "Yopal", "86001": "Mocoa", "88001": "San Andrés", "91001": "Leticia", "94001": "Inírida",
    "95001": "San José del Guaviare", "97001": "Mitú", "99001": "Puerto Carreño",
}


def normalise(code) -> str:
    return str(code or "").strip().upper()


def is_valid(code) -> bool:
    """`CO`, a known department, or a 5-digit municipality of a known department."""
    code = normalise(code)
    if code == NATIONAL:
        return True
    if not code.isdigit():
        return False
    if len(code) == 2:
        return code in DEPARTMENTS
    return len(code) == 5 and code[:2] in DEPARTMENTS and code[2:] != "000"


def clean(code, *, municipality: bool = False) -> tuple[str, str | None]:
    """The one check of a territory typed by someone (entity screens, CLI, plan import, a case's places): the
    normalised code (blank is national) and, when it is no territory, the message saying what to type.
    `municipality`: only a municipality's 5-digit code will do (a case's places are municipalities, never more
    precise: an address is refused like any text that is no code)."""
    if municipality:
        code = normalise(code)
        if len(code) == 5 and is_valid(code):
            return code, None
        return code, _("Unknown municipality: %(code)s. Use the municipality's DANE code (5 digits, e.g. 13001 "
                       "Cartagena, 11001 Bogotá).", code=code[:16])
    code = normalise(code) or NATIONAL
    if is_valid(code):
        return code, None
    return code, _("Unknown territory: %(code)s. Use CO for a national entity, a department's DANE code (2 digits, "
                   "e.g. 13) or a municipality's (5 digits, e.g. 13001 Cartagena, 11001 Bogotá).", code=code[:16])


def contains(outer: str, inner: str) -> bool:
    """Whether territory `inner` lies inside territory `outer` (a territory contains itself)."""
    outer, inner = normalise(outer), normalise(inner)
    if outer == NATIONAL:
        return True
    if len(outer) == 2:
        return inner == outer or (len(inner) == 5 and inner.startswith(outer))
    return inner == outer


def inside(column, territory: str):
    """SQL: the territory in `column` lies inside `territory` (the SQL twin of `contains`)."""
    territory = normalise(territory)
    if territory == NATIONAL:
        return true()
    if len(territory) == 2:
        # '_' matches one character: a 5-character code starting with the department's two digits.
        return or_(column == territory, column.like(f"{territory}___"))
    return column == territory


def name(code) -> str:
    """The place's proper name ('Cartagena de Indias (Bolívar)'); '' for the nation and unknown codes."""
    code = normalise(code)
    if len(code) == 2:
        return DEPARTMENTS.get(code, "")
    if len(code) == 5 and code[:2] in DEPARTMENTS:
        department = DEPARTMENTS[code[:2]]
        town = MUNICIPALITIES.get(code)
        if town == department:
            return town
        return f"{town} ({department})" if town else ""
    return ""
