"""Erasing a patient: every row about them, in every table, then only counts in the audit.

The tables to erase are found from the schema, not listed by hand, so a table added later cannot
be forgotten: a table whose foreign key points at the patient, or at a row being erased (answers
through responses, pacing logs through activities, alert deliveries through alerts), is erased
too. Three places hold the patient without a foreign key, and are handled here by name: the inbox
(raw Telegram updates not yet handled, found by their Telegram id), the used invitation that
carried the clinic's reference for them, and their data key (storage/datakeys.py). Destroying the
key in the same transaction leaves every copy of their words that the deletion cannot reach
(dead rows, the WAL, PostgreSQL's files, backups) unreadable.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, Text, delete, inspect, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from storage import datakeys
from storage.crypto import PERSONAL, EncryptedText
from storage.db import CHECKPOINT_AFTER_COMMIT
from storage.models import Base, Inbox, Invite, Outbox, Patient


def owned_rows(patient_id: int) -> list[tuple[Table, Any]]:
    """(table, WHERE clause selecting the patient's rows in it), parents before children."""
    patients = Base.metadata.tables["patients"]
    conditions: dict[Table, Any] = {patients: patients.c.id == patient_id}
    for table in Base.metadata.sorted_tables:  # parents first, so a parent's clause is ready
        if table is patients:
            continue
        links = []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent is patients and fk.ondelete == "SET NULL":
                continue  # a row that outlives the patient (an alert): detached, see erase_patient
            if parent is patients:
                links.append(fk.parent == patient_id)
            elif parent in conditions:
                links.append(fk.parent.in_(select(fk.column).where(conditions[parent])))
        if links:
            conditions[table] = or_(*links)
    return list(conditions.items())


def erase_patient(session: Session, patient: Patient) -> dict[str, int]:
    """Delete every row about the patient and the patient, in the caller's transaction. Returns
    the counts per table; the caller, who decided on the erasure, records them in the audit."""
    # What this step already changed is written first, then erased with the rest.
    session.flush()
    # Lock the patient, so nothing new is added for them while they are erased (PostgreSQL).
    session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    clinic_id = patient.clinic_id
    channel, external_id = patient.channel, patient.external_id
    reference, enrolled_at = patient.clinic_reference, patient.enrolled_at

    counts: dict[str, int] = {}
    gone: set[tuple[str, tuple]] = set()
    # Rows that outlive the patient (ondelete SET NULL: an alert the clinic may still have to act
    # on) lose their link and every free text first; the pseudonymous rest stays.
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "patients" and fk.ondelete == "SET NULL":
                texts = {c.name: None for c in table.columns if isinstance(c.type, (Text, EncryptedText))}
                detached = session.execute(update(table).where(fk.parent == patient.id).values({fk.parent.name: None, **texts})).rowcount
                if detached:
                    counts[f"{table.name} (kept, detached)"] = detached

    for table, where in reversed(owned_rows(patient.id)):  # children before their parents
        keys = session.execute(delete(table).where(where).returning(*table.primary_key.columns)).all()
        if keys:
            counts[table.name] = len(keys)
            gone.update((table.name, tuple(key)) for key in keys)

    if channel == "telegram":
        # Updates stored before there were data keys; those sealed with theirs go with the key, below.
        older = ~type_coerce(Inbox.payload, Text).startswith(PERSONAL)
        pending = [update_id for update_id, payload in session.execute(select(Inbox.update_id, Inbox.payload).where(older))
                   if _from_user(payload, external_id)]
        if pending:
            session.execute(delete(Inbox).where(Inbox.update_id.in_(pending)))
            counts["inbox"] = len(pending)
        if external_id.lstrip("-").isdigit():  # replies not yet sent to them (their private chat's id is theirs)
            unsent = session.execute(delete(Outbox).where(Outbox.chat_id == int(external_id))).rowcount
            if unsent:
                counts["outbox"] = unsent

    if reference is not None and enrolled_at is not None:
        # The used invitation still holds the reference it gave them; the row itself stays (the
        # clinic's record that it invited someone). References are encrypted, so compared here.
        used = [invite for invite in session.scalars(select(Invite).where(
            Invite.kind == "patient", Invite.clinic_id == clinic_id, Invite.used_at == enrolled_at))
            if invite.reference == reference]
        for invite in used:
            invite.reference = None
        if used:
            counts["invites.reference"] = len(used)  # cleared, not deleted

    # Their data key (none without PAINCOACH_DATA_KEY). Destroying it waits for an update of theirs
    # being stored meanwhile (the inbox poller holds the key), so that update goes with the rest.
    for key_id in datakeys.destroy(session, (channel, external_id)):
        counts["data_keys"] = 1
        sealed = session.execute(delete(Inbox).where(type_coerce(Inbox.payload, Text).startswith(f"{PERSONAL}{key_id}:"))).rowcount
        if sealed:
            counts["inbox"] = counts.get("inbox", 0) + sealed

    # The objects of erased rows leave the session: nothing may write them back at commit.
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        if (state.mapper.local_table.name, state.identity) in gone:
            session.expunge(obj)

    session.info[CHECKPOINT_AFTER_COMMIT] = True
    return counts


def _from_user(payload: Any, telegram_id: str) -> bool:
    """Whether a raw Telegram update came from (or is in the private chat of) this user."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("from", "chat", "user") and isinstance(value, dict) and str(value.get("id")) == telegram_id:
                return True
            if _from_user(value, telegram_id):
                return True
    elif isinstance(payload, list):
        return any(_from_user(item, telegram_id) for item in payload)
    return False
