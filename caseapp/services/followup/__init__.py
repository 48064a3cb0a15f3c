"""Follow-up screens that compose a case's route and a professional's work: the route page of a case, the
agenda, and the monthly list for the investigation and prosecution table."""
from caseapp.services.followup.agenda import REFERRALS_SHOWN, AgendaItem, agenda
from caseapp.services.followup.overview import RouteOverview, overview
from caseapp.services.followup.summary_pdf import case_summary_pdf, download_headers
from caseapp.services.followup.table_list import (
    table_csv,
    table_headers,
    table_list,
    table_page,
    table_xlsx,
)
from caseapp.services.followup.timeline import Timeline, TimelineEntry, entries_of, timeline

__all__ = ["REFERRALS_SHOWN", "AgendaItem", "RouteOverview", "agenda", "overview", "table_csv",
           "table_headers", "table_list", "table_page", "table_xlsx"]
from caseapp.services.followup.my_cases import MyCases, my_cases  # noqa: E402 - "Mis casos" (assignments)

__all__ += ["MyCases", "my_cases"]
__all__ += ["Timeline", "TimelineEntry", "case_summary_pdf", "download_headers", "entries_of", "timeline"]  # the case timeline (G2)
