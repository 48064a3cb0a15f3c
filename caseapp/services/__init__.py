"""The domain: plain functions that take the acting user, check authz, write the access log, raise domain errors.

One sub-package per area, each with one job; `primitives` holds what they all share. A package may import the
packages below it, never one above (the import-linter contract in pyproject.toml, run by `make test`):

    followup | indicators | audit | ops | accounts     pages that compose the route; counts; the access log's
                                                        console; backups; accounts and entities
    registry                                            victims and cases: registration, reading, updates,
                                                        consents, purposes of exploitation, erasure
    referrals                                           referrals between entities, the mandatory ICBF one
    notifications                                       in-app notifications and the e-mail outbox
    casework                                            steps, step kinds, life plan, notes, legal follow-up,
                                                        shelters
    route                                               the case lifecycle (the only writer of Case.status),
                                                        due dates and their rules, phase extensions
    primitives                                          load a case, require a version, commit or conflict,
                                                        invalid input, dates and text

Each package's __init__ names its public functions; views, the API, the CLI and the demo loader call those.
"""
