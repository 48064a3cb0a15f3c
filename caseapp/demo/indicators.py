"""Demo data: a small action plan modelled on Bogotá's anti-trafficking policy follow-up (seed 001).

Loaded through the same import service as `flask plans import`, as the operator "cli". Idempotent: re-importing
the same plan updates it in place (nothing is duplicated). Product 3.5 of Cartagena exists from the migration and
is measured from the demo cases.
"""
from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from caseapp.services import accounts as admin
from caseapp.services.indicators import plans as plan_service

POLICY = "BOG-PPLTP"
TERRITORY = "11001"  # Bogotá D.C.: read by a coordinator of a Bogotá or national entity
OBJECTIVES = {
    "1": "Proteger los derechos de las víctimas y posibles víctimas de la trata de personas en Bogotá D.C. desde la "
         "prevención, asistencia y protección.",
    "2": "Implementar una oferta institucional articulada y coordinada que garantice la atención, prevención, "
         "protección y asistencia de las víctimas de manera integral y diferenciada.",
    "3": "Generar conocimiento e información para los distintos actores relativa al fenómeno de la trata de personas.",
}
# product, objective, name, indicator, sector, weight, periodicity, [(period, target, achieved)]
PRODUCTS = [
    ("1.2", "1", "Formación en habilidades para el trabajo para personas víctimas de trata",
     "Porcentaje de personas víctimas de trata formadas en habilidades para el trabajo", "Desarrollo Económico",
     "0.5", "annual", [("2022", "100", "100"), ("2023", "100", "90"), ("2024", "100", "")]),
    ("1.10", "1", "Capacitación a autoridades y operadores de seguridad, convivencia y justicia",
     "Número de funcionarios sensibilizados y capacitados sobre el delito de trata", "Seguridad",
     "0.5", "semiannual", [("2022-S1", "50", "60"), ("2022-S2", "50", "20"), ("2023-S1", "50", "45")]),
    ("2.5", "2", "Protocolo de orientación con perspectiva diferencial en las casas de justicia",
     "Porcentaje de diseño e implementación del protocolo", "Seguridad",
     "0.4", "annual", [("2022", "100", "40"), ("2023", "100", "70")]),
    ("2.11", "2", "Servicios sociales de la SDIS a víctimas remitidas por el Comité Distrital",
     "Porcentaje de víctimas remitidas atendidas por la SDIS", "Integración Social",
     "0.6", "annual", [("2022", "100", "100"), ("2023", "100", "100")]),
    ("3.5", "3", "Encuentros pedagógicos con profesionales de la SDIS para la prevención de la trata",
     "Número de encuentros pedagógicos con profesionales de la SDIS", "Integración Social",
     "1", "annual", [("2022", "25", "17"), ("2023", "25", "20")]),
]


def plan_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(plan_service.COLUMNS)
    for code, objective, name, indicator, sector, weight, periodicity, periods in PRODUCTS:
        for period, target, achieved in periods:
            writer.writerow([POLICY, objective, OBJECTIVES[objective], code, name, indicator, sector, weight,
                             periodicity, period, target, achieved,
                             "Informe de seguimiento SDP (demo)" if achieved else ""])
    return out.getvalue().encode()


def load(echo) -> None:
    preview = plan_service.preview_file(admin.CLI, plan_csv(), "demo-plan.csv")
    if not preview.ok:
        raise RuntimeError("demo plan invalid")  # a programming error, not a user one
    counts = plan_service.apply(admin.CLI, preview, filename="demo-plan.csv", territory=TERRITORY)
    echo(_("Demo action plan: %(products)s products (%(new)s new).", products=counts["products"],
           new=counts["products_new"]))
