"""Whose words a row holds, and that person's own data key (envelope encryption: storage/crypto.py).

A row's owner is found from the row, as storage/erase.py finds what to erase: the patient row
itself, a row pointing at a patient, a reply in the outbox (to the private chat of the person it
answers), a Telegram update in the inbox (from its sender, who may not be a patient yet). Every
write through a session seals an owned row's free text with its owner's key, made on first use:
the unit of work's flush (`before_flush`) and an INSERT run through the session
(`do_orm_execute`, as the inbox poller's bulk insert). No writer has to remember it, and a table
added later is covered the way erasure covers it. Text no one person owns (an invitation's
reference for the clinic) is encrypted with PAINCOACH_DATA_KEY itself.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sqlalchemy import Table, Text, and_, bindparam, delete, event, inspect, or_, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import set_committed_value

from storage import crypto
from storage.models import Base, DataKey, Inbox, Outbox, Patient

Owner = tuple[str, str]  # (channel, external_id), as a patient is known

_KEYS = "data_keys"  # session.info: the keys this transaction used, by owner
_DESTROYED = "data_keys_destroyed"  # session.info: owners whose key this transaction destroyed
_UNSEAL = "data_keys_unseal"  # session.info: (object, attribute, plain value) sealed for the flush running
_encrypted = {table: {column.key: column for column in columns} for table, columns in crypto.encrypted_columns(Base.metadata).items()}


def owner_of(table: Table, value: Callable[[str], Any], patient: Callable[[int], Owner | None]) -> Owner | None:
    """Whose words a row holds: `value(column name)` reads the row, `patient(id)` names a patient."""
    if table is Patient.__table__:
        return value("channel"), value("external_id")
    if table is Outbox.__table__:
        return "telegram", str(value("chat_id"))
    if table is Inbox.__table__:
        return sender(value("payload"))
    for fk in table.foreign_keys:
        if fk.column.table is Patient.__table__ and value(fk.parent.name) is not None:
            return patient(value(fk.parent.name))
    return None


def sender(update: Any) -> Owner | None:
    """Who sent a raw Telegram update: its user (or, for a channel's post, the chat)."""
    for item in update.values() if isinstance(update, dict) else ():
        for role in ("from", "user", "chat"):
            who = item.get(role) if isinstance(item, dict) else None
            if isinstance(who, dict) and who.get("id") is not None:
                return "telegram", str(who["id"])
    return None


def key_for(session: Session, owner: Owner, *, hold: bool = False) -> crypto.PersonalKey | None:
    """The owner's data key, made if they have none yet; None without PAINCOACH_DATA_KEY.
    `hold`: the key cannot be destroyed until this transaction ends (PostgreSQL's FOR SHARE), for
    a writer that does not lock the patient (the inbox poller) and so may race their erasure."""
    if not crypto.enabled() or owner in session.info.get(_DESTROYED, ()):
        return None  # (erased in this transaction: what is still written for them, a goodbye, needs no key of theirs)
    used = session.info.setdefault(_KEYS, {})
    if owner not in used:
        used[owner] = _find(session, owner, hold) or _make(session, owner, hold)
    return used[owner]


def known(session: Session, owner: Owner, key_id: str, wrapped: str) -> None:
    """The owner's key, read by the caller together with the owner's locked patient row (a key is
    destroyed only with its patient, under that lock): `key_for` needs no read of its own."""
    if crypto.enabled() and owner not in session.info.get(_DESTROYED, ()):
        session.info.setdefault(_KEYS, {}).setdefault(owner, crypto.personal_key(key_id, wrapped))


def destroy(session: Session, owner: Owner) -> list[str]:
    """Erase the owner's key, in the caller's transaction: whatever it encrypted, wherever a copy
    is, cannot be read any more. Returns the ids of the keys gone (none, or one)."""
    gone = session.connection().execute(
        delete(DataKey).where(DataKey.channel == owner[0], DataKey.external_id == owner[1]).returning(DataKey.id)).scalars().all()
    for key_id in gone:
        crypto.forget(key_id)
    session.info.get(_KEYS, {}).pop(owner, None)
    session.info.setdefault(_DESTROYED, set()).add(owner)  # no new key for them in this transaction
    return list(gone)


@contextmanager
def readable(session: Session) -> Iterator[None]:
    """Values read in this block open with keys read through `session` (its snapshot)."""
    def wrapped(key_id: str) -> str | None:
        return session.connection().execute(select(DataKey.wrapped).where(DataKey.id == key_id)).scalar()

    with crypto.reading_keys(wrapped):
        yield


def _find(session: Session, owner: Owner, hold: bool = False) -> crypto.PersonalKey | None:
    # On the connection, not through the session: no autoflush, and this runs inside a flush.
    query = select(DataKey.id, DataKey.wrapped).where(DataKey.channel == owner[0], DataKey.external_id == owner[1])
    row = session.connection().execute(query.with_for_update(read=True) if hold else query).first()
    return crypto.personal_key(*row) if row else None


def _make(session: Session, owner: Owner, hold: bool) -> crypto.PersonalKey:
    key, wrapped = crypto.new_key()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # Two transactions making the same owner's key (the inbox poller and a step): one key wins.
    session.connection().execute(dialect.insert(DataKey).values(id=key.id, channel=owner[0], external_id=owner[1], wrapped=wrapped)
                                 .on_conflict_do_nothing(index_elements=["channel", "external_id"]))
    crypto.remember(key)
    return _find(session, owner, hold)


def _patient(session: Session) -> Callable[[int], Owner | None]:
    def owner(patient_id: int) -> Owner | None:
        patient = session.get(Patient, patient_id)
        return (patient.channel, patient.external_id) if patient is not None else None
    return owner


@event.listens_for(Session, "before_flush")
def _seal_flushed(session: Session, _flush, _instances) -> None:
    """The new text of owned rows goes out sealed with the owner's key; the objects get the plain
    text back once the flush is done (`_unseal`), so nothing else sees a difference."""
    session.info[_UNSEAL] = sealed = []
    if not crypto.enabled():
        return
    for obj in [*session.new, *session.dirty]:
        state = inspect(obj)
        table = state.mapper.local_table
        columns = _encrypted.get(table)
        if not columns:
            continue
        fresh = {}
        for column in columns.values():
            name = state.mapper.get_property_by_column(column).key
            added = state.attrs[name].history.added
            if added and added[0] is not None and not isinstance(added[0], crypto.Sealed):
                fresh[name] = (column, added[0])
        if not fresh:
            continue
        owner = owner_of(table, lambda name: getattr(obj, state.mapper.get_property_by_column(table.c[name]).key), _patient(session))
        key = key_for(session, owner) if owner else None
        if key is None:
            continue  # no owner: the column type encrypts with PAINCOACH_DATA_KEY
        for name, (column, value) in fresh.items():
            setattr(obj, name, column.type.seal(key, value))
            sealed.append((obj, name, value))


@event.listens_for(Session, "after_flush_postexec")
def _unseal(session: Session, _flush) -> None:
    for obj, name, value in session.info.pop(_UNSEAL, ()):
        set_committed_value(obj, name, value)


@event.listens_for(Session, "after_soft_rollback")
def _forget_used(session: Session, _previous) -> None:
    # A key made in a savepoint rolled back is gone: looked up (or made) again when next needed.
    session.info.pop(_KEYS, None)


@event.listens_for(Session, "do_orm_execute")
def _seal_inserted(execution: ORMExecuteState):
    """An INSERT run through the session with its rows as parameters: each row sealed for its owner."""
    if not (execution.is_insert and crypto.enabled() and execution.parameters):
        return None
    table = Base.metadata.tables.get(execution.statement.table.name)  # (the statement's is an annotated copy)
    columns = _encrypted.get(table)
    if not columns:
        return None
    rows = execution.parameters
    sealed = [_seal_row(execution.session, table, columns, row) for row in (rows if isinstance(rows, list) else [rows])]
    return execution.invoke_statement(params=sealed if isinstance(rows, list) else sealed[0])


def _seal_row(session: Session, table: Table, columns: dict, row: dict) -> dict:
    owner = owner_of(table, row.get, _patient(session))
    key = key_for(session, owner, hold=True) if owner else None
    if key is None:
        return row
    return {**row, **{name: columns[name].type.seal(key, value) for name, value in row.items()
                      if name in columns and value is not None and not isinstance(value, crypto.Sealed)}}


# -- at start-up, and rotating PAINCOACH_DATA_KEY ------------------------------------------------


def check(db) -> None:
    """At start-up: the data keys must unwrap with PAINCOACH_DATA_KEY, and an older value per
    column must open, so a wrong or missing key stops the process with a clear message instead
    of failing every step."""
    with db.transaction() as session:
        stored = session.execute(select(DataKey.id, DataKey.wrapped).limit(1)).first()
        if stored is not None:
            crypto.personal_key(*stored)  # raises DataKeyError
        for table, columns in _encrypted.items():
            for column in columns.values():
                raw = type_coerce(column, Text)  # the stored text, not decrypted
                value = session.scalar(select(raw).where(raw.startswith(crypto.PREFIX)).limit(1))
                column.type.process_result_value(value, None)


def rotate(db) -> dict[str, int]:
    """With PAINCOACH_DATA_KEY=new,old: every data key is rewrapped with the new key (a key per
    person: cheap), then every value still in an older form ("fernet:", or plain from before
    there was a key) is encrypted with its owner's key, or with the new key if no one owns it.

    One transaction for the keys, then one per table: stopped half-way, everything still opens
    with the key list, and running it again finishes the job. Rows are locked while rewritten,
    so a patient's edit made meanwhile is not overwritten with the old text (PostgreSQL; SQLite
    has a single writer). Returns the keys rewrapped and the rows rewritten per table."""
    if not crypto.enabled():
        raise crypto.DataKeyError("set PAINCOACH_DATA_KEY (the new key first) to rotate")
    with db.transaction() as session:
        keys = session.execute(select(DataKey.id, DataKey.wrapped).with_for_update()).all()
        if keys:
            session.execute(update(DataKey.__table__).where(DataKey.id == bindparam("k")).values(wrapped=bindparam("w")),
                            [{"k": key_id, "w": crypto.rewrap(wrapped)} for key_id, wrapped in keys])
    counts = {"data_keys": len(keys)}
    with db.transaction() as session:
        patients = {row.id: (row.channel, row.external_id) for row in session.execute(select(Patient.id, Patient.channel, Patient.external_id))}
    for table, columns in _encrypted.items():
        counts[table.name] = _rewrite_older(db, table, list(columns.values()), patients.get)
    return counts


def _rewrite_older(db, table: Table, columns: list, patient: Callable[[int], Owner | None]) -> int:
    keys = list(table.primary_key.columns)
    # Columns with an onupdate default are written back as they are: a re-encryption is no edit.
    kept = [column for column in table.columns if column.onupdate is not None]
    older = or_(*(and_(column.is_not(None), ~type_coerce(column, Text).startswith(crypto.PERSONAL)) for column in columns))
    with db.transaction() as session:
        rows = session.execute(select(table).where(older).with_for_update()).all()
        if not rows:
            return 0
        params = []
        for row in rows:
            values = row._mapping
            owner = owner_of(table, values.__getitem__, patient)
            key = key_for(session, owner) if owner else None
            params.append({**{f"k_{c.key}": values[c] for c in keys}, **{f"v_{c.key}": values[c] for c in kept},
                           **{f"v_{c.key}": c.type.seal(key, values[c]) if key and values[c] is not None else values[c] for c in columns}})
        statement = (update(table).where(*(c == bindparam(f"k_{c.key}") for c in keys))
                     .values({c.key: bindparam(f"v_{c.key}") for c in [*columns, *kept]}))
        session.execute(statement, params)
        return len(rows)


def forget_strangers(session: Session, now, *, unused_for=None) -> int:
    """Destroy the keys of people who are not patients (never invited, or a clinician, or erased
    and written to once more) a week after they were made, once no waiting update or reply is
    sealed with them: a key must not outlive what it protects. Returns how many went."""
    from datetime import timedelta

    unused_for = unused_for or timedelta(days=7)
    no_patient = ~select(Patient.id).where(Patient.channel == DataKey.channel, Patient.external_id == DataKey.external_id).exists()
    stale = session.execute(select(DataKey.id, DataKey.channel, DataKey.external_id)
                            .where(no_patient, DataKey.created_at < now - unused_for)).all()
    gone = 0
    for key_id, channel, external_id in stale:
        sealed = f"{crypto.PERSONAL}{key_id}:%"
        if any(session.scalar(select(select(table).where(type_coerce(column, Text).like(sealed)).exists()))
               for table, column in ((Inbox, Inbox.payload), (Outbox, Outbox.payload))):
            continue
        gone += len(destroy(session, (channel, external_id)))
    return gone
