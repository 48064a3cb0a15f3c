"""Whose counts: a product counts the cases owned by entities inside its policy's territory, and a reader sees the
counts, products and policies of her entity's territory (a national entity's reader, everything). The one owner of
both rules; every count (cubes, formulas, exports, screens, API) takes its territory from here.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.errors import NotFound
from caseapp.models import territory as territories
from caseapp.models.accounts import Entity
from caseapp.models.cases import Case
from caseapp.models.indicators import Policy, Product


def viewer_territory(actor) -> str:
    """The territory of the actor's entity; an operator with no entity (the CLI) is national."""
    entity = getattr(actor, "entity", None)
    return territories.normalise(getattr(entity, "territory", None)) or territories.NATIONAL


def product_territory(product: Product) -> str:
    return policy_territory(product.objective.policy)


def policy_territory(policy: Policy) -> str:
    return territories.normalise(policy.territory_code) or territories.NATIONAL


def cases_inside(territory: str) -> list:
    """SQL conditions on `Case`: owned by an entity inside `territory` (none for the nation)."""
    if territories.normalise(territory) == territories.NATIONAL:
        return []
    owners = select(Entity.id).where(territories.inside(Entity.territory, territory))
    return [Case.owner_entity_id.in_(owners)]


def policies_visible(actor) -> list:
    """SQL conditions on `Policy`: inside the reader's territory."""
    territory = viewer_territory(actor)
    if territory == territories.NATIONAL:
        return []
    return [territories.inside(Policy.territory_code, territory)]


def require_inside(actor, territory: str) -> None:
    """Counts of a territory outside the reader's do not exist for her (404, like a product that does not)."""
    if not territories.contains(viewer_territory(actor), territory):
        raise NotFound(_("There is nothing to show for that territory."))
