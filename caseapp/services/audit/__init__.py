"""The auditors' side of the access log: the console (filters, keyset pages, CSV export, a case's history) and
the alerts on unusual access. The log itself is written and verified by caseapp.audit."""
