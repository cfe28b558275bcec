"""Encryption at rest for the free text patients write (PAINCOACH_DATA_KEY), by envelope.

Each person we talk to has a data key of their own (a row of `data_keys`, storage/datakeys.py),
kept wrapped: Fernet-encrypted with PAINCOACH_DATA_KEY. Their words are stored as
"pk1:<key id>:<token>", the token made with their key. Erasing them destroys the key, so every
copy of their words left elsewhere (dead rows, the WAL, PostgreSQL's files, backups) cannot be
opened any more. Rotating PAINCOACH_DATA_KEY only rewraps the data keys.

Two older forms still read: "fernet:" + a token made with PAINCOACH_DATA_KEY itself (written
before there were personal keys, and text no one person owns, such as an invitation's reference),
and text with no marker (written before there was a key). `paincoach db rotate-key` moves both to
the owner's key. Without PAINCOACH_DATA_KEY there are no personal keys: text is stored as it is.

The column types never look a key up: a personal key reaches them inside the value (`Sealed`,
made by storage/datakeys.py, which knows whose a row is), and a key named by a stored value is
opened through the transaction reading it (`reading_keys`).
"""
from __future__ import annotations

import json
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PERSONAL = "pk1:"  # "pk1:<key id>:<token>": opened with the owner's data key
PREFIX = "fernet:"  # opened with PAINCOACH_DATA_KEY itself; anything unmarked is plain text

_keys: MultiFernet | None = None
_opened: dict[str, Fernet] = {}  # personal keys unwrapped in this process, by id
# How the transaction running here reads a wrapped key by its id (None: no such key, it was erased).
_wrapped_key: ContextVar[Callable[[str], str | None] | None] = ContextVar("wrapped_key", default=None)


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
    _opened.clear()  # opened with the keys before: they must open with these


def enabled() -> bool:
    return _keys is not None


# -- personal keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalKey:
    id: str
    fernet: Fernet


def new_key() -> tuple[PersonalKey, str]:
    """A fresh personal key and its wrapped form, to store."""
    raw = Fernet.generate_key()
    key = PersonalKey(secrets.token_hex(8), Fernet(raw))  # random ids: an erased key's id never comes back
    return key, _master().encrypt(raw).decode("ascii")


def personal_key(key_id: str, wrapped: str) -> PersonalKey:
    """The key of a stored row (unwrapped once per process)."""
    fernet = _opened.get(key_id)
    if fernet is None:
        fernet = _opened[key_id] = Fernet(_open(_master(), wrapped.encode("ascii")))
    return PersonalKey(key_id, fernet)


def remember(key: PersonalKey) -> None:
    _opened[key.id] = key.fernet


def forget(key_id: str) -> None:
    """The key was destroyed: not kept in this process either."""
    _opened.pop(key_id, None)


def rewrap(wrapped: str) -> str:
    """A wrapped key wrapped again with the first PAINCOACH_DATA_KEY."""
    return _master().rotate(wrapped.encode("ascii")).decode("ascii")


@contextmanager
def reading_keys(wrapped_key: Callable[[str], str | None]) -> Iterator[None]:
    """Within this block, a value naming a key not yet opened here reads it with `wrapped_key`
    (the transaction's own query, so it sees the keys its snapshot sees)."""
    token = _wrapped_key.set(wrapped_key)
    try:
        yield
    finally:
        _wrapped_key.reset(token)


def _master() -> MultiFernet:
    if _keys is None:
        raise DataKeyError("the database holds encrypted text, but PAINCOACH_DATA_KEY is not set")
    return _keys


def _open(fernet: Fernet | MultiFernet, token: bytes) -> bytes:
    try:
        return fernet.decrypt(token)
    except InvalidToken:
        # A clear stop rather than ciphertext shown to a patient or written to an export.
        raise DataKeyError(
            "encrypted text in the database does not open with PAINCOACH_DATA_KEY: the key is wrong, "
            "or the older key it was written with is missing from the list"
        ) from None


def _open_personal(value: str) -> str:
    key_id, _, token = value[len(PERSONAL):].partition(":")
    fernet = _opened.get(key_id)
    if fernet is None:
        read = _wrapped_key.get()
        wrapped = read(key_id) if read is not None else None
        if read is None:
            raise DataKeyError("a personal data key can only be read inside a transaction (Database.transaction or reading)")
        if wrapped is None:
            raise DataKeyError(f"encrypted text names data key {key_id}, which is no longer in the database: its owner was erased")
        fernet = personal_key(key_id, wrapped).fernet
    return _open(fernet, token.encode("ascii")).decode("utf-8")


# -- the column types ---------------------------------------------------------------------------


class Sealed(str):
    """Text already encrypted with its owner's key: stored as it is."""


class EncryptedText(TypeDecorator):
    """Text a patient wrote: encrypted on the way in (with the owner's key when the value comes
    `Sealed`, else with PAINCOACH_DATA_KEY), decrypted on the way out. Tokens are random, so these
    columns can be read but never compared in SQL."""

    impl = Text
    cache_ok = True

    def dump(self, value: Any) -> str:
        return value

    def load(self, text: str) -> Any:
        return text

    def seal(self, key: PersonalKey, value: Any) -> Sealed:
        return Sealed(f"{PERSONAL}{key.id}:{key.fernet.encrypt(self.dump(value).encode('utf-8')).decode('ascii')}")

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None or isinstance(value, Sealed):
            return None if value is None else str(value)
        text = self.dump(value)
        if _keys is None:
            return text
        return PREFIX + _keys.encrypt(text.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect) -> Any:
        if value is None:
            return None
        if value.startswith(PERSONAL):
            return self.load(_open_personal(value))
        if value.startswith(PREFIX):
            return self.load(_open(_master(), value[len(PREFIX):].encode("ascii")).decode("utf-8"))
        return self.load(value)


class EncryptedJSON(EncryptedText):
    """JSON (a dialog's working data, a raw Telegram update) that may hold a patient's words,
    encrypted like text."""

    cache_ok = True

    def dump(self, value: Any) -> str:
        return json.dumps(value)

    def load(self, text: str) -> Any:
        return json.loads(text)


def encrypted_columns(metadata) -> dict:
    """{table: [its encrypted columns]} for every table that has any."""
    found = {}
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, EncryptedText)]
        if columns:
            found[table] = columns
    return found
