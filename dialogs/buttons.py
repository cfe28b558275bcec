"""Buttons as signed callback data: what a button answers travels with it, so showing one writes
nothing, and a press is checked against its signature instead of a stored row.

    <version><kind><what><signature>      at most 64 bytes, Telegram's limit

- kind "s": an answer to a dialog step, `what` = "<step>.<choice index>" (or "<step>.g", the
  signal that a guided exercise played out). The choice's value is signed, not carried: on a
  press the engine asks the step again and the signature only holds if the choice is the same.
- kind "a": an action that stands outside the steps (continue after a crisis pause, an answer to
  the direct question, a check-in invitation, a flare offer, a noted question):
  `what` = "<action>.<value>".
The signature is an HMAC-SHA256 over the patient, the kind, `what` and the value, cut to 12
base64 characters (72 bits), with the key of `version` (storage/keys.py: shared by every process,
rotatable); so a button is worthless to anyone else, and cannot be edited into another. A button
moved onto another message is refused too: Telegram reports the buttons of the message pressed
(`Press.shown`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

STEP, ACTION = "s", "a"
GUIDE = "g"  # in place of a choice index: the guided exercise played out
SIGNATURE = 12
LIMIT = 64  # bytes of callback data Telegram keeps


@dataclass(frozen=True)
class Pressed:
    kind: str
    step: int | None = None  # STEP: the step it was shown at
    index: int | str | None = None  # STEP: the choice's position, or GUIDE
    action: str | None = None  # ACTION
    value: str | None = None  # ACTION: the value; STEP: filled in by `verify`
    version: str = ""
    signature: str = ""


class Signer:
    def __init__(self, keys: dict[str, bytes]):
        self.learn(keys)

    def learn(self, keys: dict[str, bytes]) -> None:
        """These keys from now on (after a rotation: the newest signs, the older still verify)."""
        self.keys = dict(keys)
        self.version = list(keys)[-1]

    def knows(self, data: str) -> bool:
        return data[:1] in self.keys

    def step(self, patient_id: int, step: int, index: int | str, value: str) -> str:
        return self._signed(patient_id, STEP, f"{step}.{index}", value)

    def action(self, patient_id: int, action: str, value: str) -> str:
        return self._signed(patient_id, ACTION, f"{action}.{value}", value)

    def read(self, data: str) -> Pressed | None:
        """What a press claims to be (not yet verified); None if it is not our shape at all."""
        if len(data) < 2 + SIGNATURE or data[0] not in self.keys:
            return None
        version, kind, what, signature = data[0], data[1], data[2:-SIGNATURE], data[-SIGNATURE:]
        head, dot, tail = what.partition(".")
        if not dot:
            return None
        if kind == ACTION and head:
            return Pressed(ACTION, action=head, value=tail, version=version, signature=signature)
        if kind == STEP and head.isascii() and head.isdigit() and (tail.isascii() and tail.isdigit() or tail == GUIDE):
            index = GUIDE if tail == GUIDE else int(tail)
            return Pressed(STEP, step=int(head), index=index, version=version, signature=signature)
        return None

    def verify(self, patient_id: int, pressed: Pressed, value: str | None = None) -> bool:
        """Whether the press was signed for this patient (and, for a step, for this value)."""
        what = f"{pressed.action}.{pressed.value}" if pressed.kind == ACTION else f"{pressed.step}.{pressed.index}"
        value = pressed.value if pressed.kind == ACTION else value
        if value is None:
            return False
        expected = self._signature(self.keys[pressed.version], patient_id, pressed.kind, what, value)
        return hmac.compare_digest(expected, pressed.signature)

    def _signed(self, patient_id: int, kind: str, what: str, value: str) -> str:
        data = self.version + kind + what + self._signature(self.keys[self.version], patient_id, kind, what, value)
        if len(data.encode()) > LIMIT:
            raise ValueError(f"callback data over Telegram's {LIMIT} bytes: {what!r}")
        return data

    @staticmethod
    def _signature(key: bytes, patient_id: int, kind: str, what: str, value: str) -> str:
        message = "\x1f".join((str(patient_id), kind, what, value)).encode()
        digest = hmac.new(key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE]
