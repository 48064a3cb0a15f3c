"""Shared column helpers for the models."""
import collections
import functools
from datetime import datetime

from sqlalchemy import DateTime, Integer, insert
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import (
    MANYTOONE,
    Mapped,
    declared_attr,
    make_transient_to_detached,
    mapped_column,
    scoped_session,
)
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from caseapp.timeutil import utcnow


class Versioned:
    """Optimistic locking: a stale edit raises StaleDataError, never overwrites (services map it to Conflict)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.version}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class UnderVictimKey:
    """A row of a case whose encrypted fields are under the victim's data key (it has a `case` relationship)."""

    def _encryption_key(self) -> bytes:
        return self.case._encryption_key()


@functools.cache
def loaded_columns(cls) -> tuple[tuple[str, ...], tuple]:
    """(attribute keys, columns) of what a query of `cls` loads (its columns less the deferred ones), in one order:
    for a Core statement whose rows attach_loaded makes into objects."""
    props = [p for p in sa_inspect(cls).column_attrs if not p.deferred]
    return tuple(p.key for p in props), tuple(p.columns[0] for p in props)


@functools.cache
def _deferred(mapper) -> frozenset:
    return frozenset(p.key for p in mapper.column_attrs if p.deferred)


def query_connection(session):
    """The session's connection for a Core read whose rows attach_loaded makes into objects, after the flush a query
    would do first (autoflush): what the request changed is what it reads (a flag cleared, an attachment removed a
    moment ago), and an object it holds is never kept beside rows that no longer match it."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


@functools.cache
def _named_row(keys: tuple[str, ...]) -> type:
    return collections.namedtuple("NamedRow", keys)  # a name a tuple cannot have fails here, loudly


def named_rows(result) -> list:
    """A Core result's rows as named tuples, for a page that reads many rows by name (the console's 50 rows of 12).

    SQLAlchemy's `Row` looks a name up on its class first (its Cython `__getattribute__` asks `hasattr(Row, name)`,
    which fails with an AttributeError made and dropped): 1.2 us a name, against 0.05 us here. Indexing, slicing,
    unpacking and equality with a tuple behave as a `Row`'s do."""
    make = _named_row(tuple(result.keys()))._make
    return [make(row) for row in result]


def attach_loaded(session, cls, values: dict):
    """The persistent `cls` instance with these column values (every loaded column, its primary key among them), as
    if a query had loaded it, without the ORM's row processing: for the signed-in user, built from the one Core row
    that every request reads (ORM loading of a user, her entity and her roles cost ~190 us of a ~250 us statement).
    Columns not given (deferred ones) load on first read, each on its own, as they would after a query. An instance
    the session already holds is returned as a query returns it: what it has loaded kept, what it has not (a commit
    expired it) taken from `values`. Returns (the instance, whether it was built here)."""
    mapper = sa_inspect(cls)
    held = session.identity_map.get(mapper.identity_key_from_primary_key([values[k.key] for k in mapper.primary_key]))
    if held is not None:
        for key in instance_state(held).unloaded.intersection(values):
            set_committed_value(held, key, values[key])
        return held, False
    instance = mapper.class_manager.new_instance()
    state = instance_state(instance)
    state.dict.update(values)
    make_transient_to_detached(instance)  # the values are the committed ones; anything else expired
    state.expired_attributes.difference_update(_deferred(mapper))  # ...but a deferred column is not expired
    # Session.add less its save-update cascade, which walks every relationship of the mapper (~25 µs of a ~60 µs
    # add) and finds nothing here: nothing is attached to an instance made a moment ago.
    (session() if isinstance(session, scoped_session) else session)._update_impl(state)
    return instance, True


@functools.cache
def _insert_columns(mapper) -> tuple:
    """(column, attribute key) of each column of the mapper's table that an attribute maps."""
    return tuple((column, mapper.get_property_by_column(column).key) for column in mapper.local_table.columns
                 if column in mapper.columns.values())


@functools.lru_cache(maxsize=256)
def _insert_statement(table, returning: tuple):
    statement = insert(table)
    return statement.returning(*returning) if returning else statement


def insert_loaded(session, *instances) -> None:
    """Write new instances, each with one INSERT in the order given (parents first), and make them persistent as if
    a flush had written them and a query had read them back, without the unit of work: a registration's six rows
    cost ~3.6 ms in a flush, of which the INSERTs are ~1.
    - Each many-to-one relationship set on an instance gives it its foreign key (its target is persistent, or an
      instance given before it).
    - A value left unset or None takes the column's default, as in a flush; what the database made (the id, the
      defaults) comes back with RETURNING.
    - The rows of a many-to-many collection set on an instance go to its secondary table.
    Nothing else is cascaded: an object reachable from these that is not written yet is a RuntimeError, not an
    INSERT left for the next flush. A failed INSERT (IntegrityError) raises as a flush's would; the caller rolls
    back, as after the RuntimeError. Not for: a mapper that inherits (only its own table is written), a version
    counter other than the column's default, a value that is an SQL expression, a foreign key set only through a
    one-to-many without its many-to-one side; and a nullable column left unset takes a server default where a flush
    would write NULL (the registration's tables have none)."""
    conn = session.connection()
    pending_before = set(session.new)
    for obj in instances:
        state = instance_state(obj)
        mapper, values = state.mapper, state.dict
        if mapper.inherits is not None:
            raise RuntimeError(f"insert_loaded: {mapper} inherits; write it through a flush")
        for rel in mapper.relationships:
            target = values.get(rel.key)
            if rel.direction is MANYTOONE and target is not None:
                target_state = instance_state(target)
                for local, remote in rel.local_remote_pairs:
                    key = target_state.mapper.get_property_by_column(remote).key
                    # a persistent target's key may be expired (after a commit): read it, as a flush would
                    value = target_state.dict.get(key) if target_state.key is None else getattr(target, key)
                    if value is None:
                        raise RuntimeError(f"insert_loaded: {rel} points at an object not written yet")
                    values[mapper.get_property_by_column(local).key] = value
        columns = _insert_columns(mapper)
        given = {column.key: values[key] for column, key in columns if values.get(key) is not None}
        made = tuple((column, key) for column, key in columns if column.key not in given)
        result = conn.execute(_insert_statement(mapper.local_table, tuple(c for c, _k in made)), given)
        if made:
            values.update({key: value for (_c, key), value in zip(made, result.one(), strict=True)})
        for rel in mapper.relationships:
            if rel.secondary is not None and values.get(rel.key):
                conn.execute(insert(rel.secondary), [
                    {**{pair[1].key: values[mapper.get_property_by_column(pair[0]).key]
                        for pair in rel.synchronize_pairs},
                     **{pair[1].key: getattr(item, rel.mapper.get_property_by_column(pair[0]).key)
                        for pair in rel.secondary_synchronize_pairs}}
                    for item in values[rel.key]])
        make_transient_to_detached(obj)
    session.add_all(instances)
    unwritten = [o for o in session.new if o not in pending_before]
    if unwritten:
        raise RuntimeError(f"insert_loaded: {unwritten!r} reachable from the rows written, and not written")
