"""One object and what its read joins to it, built from one statement's plain rows, as the ORM's joined loading
would build them.

The case's read joins ten kinds of rows to it (her victim and data key, the owning entity, the consents and their
entities, the screening, the flags in force, their professionals and their entities). SQLAlchemy's joined loading
sets up its row processing again at each execution, for one case: the load took 1.38 ms p50, and 1.02 ms read here
(in process, 300 cases of the bench database, each load beginning its transaction). The statement is built once and
its rows are read as columns: each object is made with `attach_loaded`, as the signed-in user is, and the
relationships between them are set as loaded.

What is joined is what the ORM would join for `select(root).options(joinedload(...))` with the same relationships:
the ones named, and from every object joined, its many-to-one relationships declared `lazy="joined"` (followed
for each kind as the ORM does). Anything else is left to load on first use, as after a query. An object the session
already holds is the one returned, as a query returns it: what it has loaded kept, what a commit expired of it
filled from the row (attach_loaded); if the root itself is held, the caller is told (`HELD`), so that it reads
through the ORM (`options`: the same read as loader options). A relationship the ORM would load after the statement
with one of its own (`lazy="selectin"`, a professional's roles) is left to load on first use.
tests/unit/test_joined_read.py checks the result against the ORM's, attribute by attribute.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import MANYTOONE, aliased, joinedload, lazyload, undefer
from sqlalchemy.orm.attributes import set_committed_value

from caseapp.models.base import attach_loaded, loaded_columns, query_connection


@dataclass(frozen=True)
class _Node:
    cls: type
    parent: int | None  # index of the node it hangs from
    key: str | None  # its relationship's name on the parent
    many: bool
    keys: tuple[str, ...]  # the attributes its columns load, in the statement's order
    start: int  # its first column in a row
    id_positions: tuple[int]  # where its primary key (one column) is in a row


class JoinedRead:
    """The statement and row reading for `root`'s read by `where_key` (a bound value named so), with the
    relationships `joined` (names on `root`) and the root's deferred columns `undeferred` (names)."""

    def __init__(self, root: type, where_key: str, joined: tuple[str, ...], undeferred: tuple[str, ...] = ()):
        root_mapper = sa_inspect(root)
        # The root alone, LIMIT 1, in a subquery the rest joins to: its column subqueries run once, not once a joined
        # row (as the ORM's joined loading writes it for a LIMIT).
        root_props = [p for p in root_mapper.column_attrs if not p.deferred or p.key in undeferred]
        inner = (select(*(p.expression.label(p.key) for p in root_props))
                 .where(root_mapper.attrs[where_key].expression == bindparam(where_key)).limit(1).subquery())
        root_alias = aliased(root, inner, adapt_on_names=True)
        nodes: list[_Node] = []
        columns: list = []
        joins: list = []
        order: list = []

        def add(cls, alias, parent, key, many, keys, path):
            mapper = sa_inspect(cls)
            start = len(columns)
            columns.extend(getattr(alias, k) for k in keys)
            if len(mapper.primary_key) != 1:
                raise NotImplementedError(f"{cls.__name__}: only a one-column primary key")
            ids = (start + keys.index(mapper.get_property_by_column(mapper.primary_key[0]).key),)
            nodes.append(_Node(cls, parent, key, many, keys, start, ids))
            index = len(nodes) - 1
            for rel in mapper.relationships:  # what the ORM joins of its own accord, until a kind comes again
                if rel.lazy in ("joined", False) and rel.mapper not in path:
                    if rel.direction is not MANYTOONE:
                        raise NotImplementedError(f"{cls.__name__}.{rel.key}: only many-to-one joined by default")
                    follow(index, alias, rel, path)

        def follow(index, alias, rel, path):
            target = aliased(rel.mapper.class_)
            joins.append((target, getattr(alias, rel.key)))
            if rel.uselist:  # its members in the relationship's order (columns of it), else by id: one order always
                for column in rel.order_by or rel.mapper.primary_key:
                    order.append(getattr(target, rel.mapper.get_property_by_column(column).key))
            add(rel.mapper.class_, target, index, rel.key, rel.uselist, loaded_columns(rel.mapper.class_)[0],
                (*path, rel.mapper))

        add(root, root_alias, None, None, False, tuple(p.key for p in root_props), (root_mapper,))
        for key in joined:
            follow(0, root_alias, root_mapper.relationships[key], (root_mapper,))
        statement = select(*columns).select_from(root_alias)
        for target, on in joins:
            statement = statement.outerjoin(target, on)
        self.statement = statement.order_by(*order)
        self.nodes = tuple(nodes)
        self.where_key = where_key
        # The same read as ORM loader options (for a root the session holds already): what is named joined and
        # undeferred, and no other relationship of the root loaded with it.
        self.options = (*(joinedload(getattr(root, key)) for key in joined),
                        *(undefer(getattr(root, key)) for key in undeferred),
                        *(lazyload(getattr(root, rel.key)) for rel in root_mapper.relationships
                          if rel.key not in joined and rel.lazy in ("selectin", "subquery", "immediate")))

    def load(self, session, value):
        """The root whose `where_key` is `value`, with what is joined to it, persistent in `session`; None when no
        row has it, or `HELD` when the session holds it already (the caller reads it through the ORM)."""
        rows = query_connection(session).execute(self.statement, {self.where_key: value}).all()
        if not rows:
            return None
        nodes = self.nodes
        made: list[dict] = [{} for _ in nodes]  # per node: identity -> (instance, whether it was built here)
        lists: dict = {}  # (node, parent identity) -> the collection's members, in the statement's order
        for row in rows:
            for index, node in enumerate(nodes):
                identity = tuple(row[i] for i in node.id_positions)
                if identity[0] is None:  # an outer join that found nothing
                    continue
                found = made[index].get(identity)
                if found is None:
                    values = dict(zip(node.keys, row[node.start:node.start + len(node.keys)], strict=True))
                    found = made[index][identity] = attach_loaded(session, node.cls, values)
                    if index == 0 and not found[1]:
                        return HELD
                if node.parent is None:
                    continue
                parent_identity = tuple(row[i] for i in nodes[node.parent].id_positions)
                if node.many:
                    members = lists.setdefault((index, parent_identity), {})
                    members.setdefault(identity, found[0])
                else:
                    parent, parent_built = made[node.parent][parent_identity]
                    loaded = parent.__dict__
                    if (parent_built or node.key not in loaded) and loaded.get(node.key) is not found[0]:
                        set_committed_value(parent, node.key, found[0])
        root = next(iter(made[0].values()))[0]
        # What an outer join found nothing for is loaded too: an empty collection, no one-to-one.
        for index, node in enumerate(nodes):
            if node.parent is None:
                continue
            for parent_identity, (parent, parent_built) in made[node.parent].items():
                if not parent_built and node.key in parent.__dict__:
                    continue  # held before this read, and loaded: a query would keep it too
                if node.many:
                    members = lists.get((index, parent_identity), {})
                    set_committed_value(parent, node.key, list(members.values()))
                elif node.key not in parent.__dict__:
                    set_committed_value(parent, node.key, None)
        return root


HELD = object()
