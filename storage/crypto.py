"""Encryption at rest for the free text patients write (PAINCOACH_DATA_KEY).

One column type, `EncryptedText`: with a key configured it stores "fernet:" + a Fernet token, and
reads it back as the text; without a key it stores plain text. Values stored before a key was set
(no marker) still read as they are, so a key can be introduced on a live database and
`paincoach db rotate-key` encrypts them later. Several keys, comma-separated and newest first,
make rotation possible: the first encrypts, all of them decrypt.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, bindparam, select, type_coerce, update
from sqlalchemy.types import TypeDecorator

PREFIX = "fernet:"  # marks ciphertext; anything else is plain text from before the key

_keys: MultiFernet | None = None


class DataKeyError(ValueError):
    """The data key is malformed, missing, or does not open what the database holds.
    Its message never contains a key."""


def parse_keys(value: str | None) -> MultiFernet | None:
    parts = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not parts:
        return None
    try:
        return MultiFernet([Fernet(part.encode()) for part in parts])
    except ValueError:  # not 32 url-safe base64 bytes (binascii.Error is a ValueError too)
        raise DataKeyError(
            "PAINCOACH_DATA_KEY must be one or more Fernet keys, comma-separated, newest first "
            "(make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from None


def configure(value: str | None) -> None:
    """Use these keys from now on in this process (None or "" for no encryption)."""
    global _keys
    _keys = parse_keys(value)


def enabled() -> bool:
    return _keys is not None


class EncryptedText(TypeDecorator):
    """Text a patient wrote: encrypted on the way in when a key is configured, decrypted on the
    way out. Fernet tokens are random, so these columns can be read but never compared in SQL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None or _keys is None:
            return value
        return PREFIX + _keys.encrypt(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        if _keys is None:
            raise DataKeyError("the database holds encrypted text, but PAINCOACH_DATA_KEY is not set")
        try:
            return _keys.decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken:
            # A clear stop rather than ciphertext shown to a patient or written to an export.
            raise DataKeyError(
                "encrypted text in the database does not open with PAINCOACH_DATA_KEY: the key is wrong, "
                "or the older key it was written with is missing from the list"
            ) from None


def encrypted_columns(metadata) -> dict:
    """{table: [its EncryptedText columns]} for every table that has any."""
    found = {}
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, EncryptedText)]
        if columns:
            found[table] = columns
    return found


def check(db, metadata) -> None:
    """At start-up: one encrypted value per column (of the tables in `metadata`) must open with the
    keys configured, so a wrong or missing key stops the process with a clear message instead of
    failing every step."""
    with db.transaction() as session:
        for table, columns in encrypted_columns(metadata).items():
            for column in columns:
                raw = type_coerce(column, Text)  # the stored text, not decrypted
                value = session.scalar(select(raw).where(raw.startswith(PREFIX)).limit(1))
                column.type.process_result_value(value, None)  # raises DataKeyError


def rotate(db, metadata) -> dict[str, int]:
    """Rewrite every encrypted column with the first key (plain values get encrypted too).

    One transaction per table: stopped half-way, every value still opens with the key list, and
    running it again finishes the job. Rows are locked while rewritten, so a patient's edit made
    meanwhile is not overwritten with the old text (PostgreSQL; SQLite has a single writer)."""
    if _keys is None:
        raise DataKeyError("set PAINCOACH_DATA_KEY (the new key first) to rotate")
    counts: dict[str, int] = {}
    for table, columns in encrypted_columns(metadata).items():
        keys = list(table.primary_key.columns)
        # Columns with an onupdate default are written back as they are: a re-encryption is no edit.
        kept = [column for column in table.columns if column.onupdate is not None]
        with db.transaction() as session:
            rows = session.execute(select(*keys, *columns, *kept).with_for_update()).all()
            if rows:
                statement = (
                    update(table)
                    .where(*(key == bindparam(f"k_{key.key}") for key in keys))
                    .values({column.key: bindparam(f"v_{column.key}") for column in [*columns, *kept]})
                )
                names = [f"k_{key.key}" for key in keys] + [f"v_{column.key}" for column in [*columns, *kept]]
                session.execute(statement, [dict(zip(names, row)) for row in rows])
        counts[table.name] = len(rows)
    return counts

