"""The coordinator's dashboard, drawn once per state of what it shows and served from memory after that.

The dashboard shows the protected publication and the indicator plans only (policies, objectives, products,
targets, values entered by hand): for readers of the same entity and roles, in one language, on one day, it is the
same page until a publication is rebuilt, a plan changes or the k in force does. Its body is kept per process
(least recently used out, MAX_ENTRIES) under a key of all of these, read in one statement (`state`); every read
still writes the access-log row a counted one writes (`reads.log_as`), and the page around the body (the user's
menu, messages) is drawn anew.

Only where a read never counts a publication itself (`cacheable`: the monthly releases, built off the request): a
read that would have found its publication out of date (a month closed, k raised) has a new key (the day, k), so it
still reaches the service, which schedules the count.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from flask_babel import get_locale
from sqlalchemy import func, select

from caseapp.extensions import db
from caseapp.models.accounts import Entity
from caseapp.models.catalogues import ExploitationPurpose
from caseapp.models.indicators import AchievedValue, Objective, Policy, Product, ProductTarget
from caseapp.models.publication import Publication
from caseapp.models.route import StepKind
from caseapp.services.indicators import reads
from caseapp.services.indicators.dimensions import get_k
from caseapp.services.indicators.products import dashboard
from caseapp.services.indicators.publication import rebuild
from caseapp.services.indicators.publication.build import cut_off_for
from caseapp.services.indicators.publication.read import on_change, publication
from caseapp.services.indicators.scope import viewer_territory
from caseapp.timeutil import today

MAX_ENTRIES = 64
# what the body shows besides the publications: the plans, and the names its breakdowns give (entities, purposes,
# step kinds)
SHOWN = (Policy, Objective, Product, ProductTarget, AchievedValue, Entity, ExploitationPurpose, StepKind)

_bodies: OrderedDict = OrderedDict()
_lock = threading.Lock()


def state() -> tuple:
    """What the dashboards show, as a mark that changes with it: the publications (how many, the newest id and
    build - a rebuild replaces its row) and, per table of the plans and of the names shown, its rows and the sum of
    their versions."""
    return tuple(db.session.execute(_state_query()).one())


@functools.cache
def _state_query():
    # built once: constructing its nineteen subqueries on every read cost more than running them
    parts = [select(func.count()).select_from(Publication).scalar_subquery(),
             select(func.max(Publication.id)).scalar_subquery(),
             select(func.max(Publication.built_at)).scalar_subquery()]
    for model in SHOWN:
        parts.append(select(func.count()).select_from(model).scalar_subquery())
        parts.append(select(func.coalesce(func.sum(model.version), 0)).scalar_subquery())
    return select(*parts)


def cacheable() -> bool:
    """Whether publications change only by being counted off the request (monthly releases, background builds):
    where a read counts one (tests) or data changes refresh it (on_change), every read goes to the service."""
    return not rebuild.inline() and not on_change()


def key(actor, *, year: int, code: str | None, policy: str | None) -> tuple:
    """Everything the body depends on: the reader's territory, entity (who may enter values) and roles, the
    language, the day (the year shown by default, the ideal trajectory, a month's close), the question, the k in
    force (a publication under a lower one is not shown) and `state()`."""
    locale = get_locale()
    return (viewer_territory(actor), actor.entity_id, tuple(sorted(actor.roles)), str(locale) if locale else "",
            today().isoformat(), year, code or "", policy or "", get_k(), state())


def body(actor, *, year: int, code: str | None, policy: str | None, draw) -> str:
    """The dashboard's body for this reader: from memory, its read logged as the service logs it; or `draw(data)`
    with `data` from the service (which checks, counts and logs), kept for the next reader."""
    if not cacheable():
        return draw(dashboard(actor, year=year, code=code, policy=policy))
    cache_key = key(actor, year=year, code=code, policy=policy)
    with _lock:
        found = _bodies.get(cache_key)
        if found is not None:
            _bodies.move_to_end(cache_key)
    if found is not None:
        reads.log_as(dashboard, actor, year=year, code=code, policy=policy)
        return found
    drawn = draw(dashboard(actor, year=year, code=code, policy=policy))
    if cut_off_for(year) is not None and publication(viewer_territory(actor), year) is None:
        # nothing to show yet (being counted, or under a lower k): the next read asks again, and starts the count
        # again if this one failed
        return drawn
    with _lock:
        _bodies[cache_key] = drawn
        _bodies.move_to_end(cache_key)
        while len(_bodies) > MAX_ENTRIES:
            _bodies.popitem(last=False)
    return drawn


def clear() -> None:
    with _lock:
        _bodies.clear()
