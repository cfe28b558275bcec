"""What goes into a dialog and what comes out: plain data, no transport.

A transport (Telegram, terminal) turns what the patient did into an `Inbound` and renders the
outputs it gets back; everything between is the same for both.
"""
from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Who:
    """The patient as the transport knows them."""

    channel: str  # "telegram" | "terminal"
    external_id: str
    language_code: str | None = None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Press:
    """A tap on one of our buttons; `message_id` is the message it sat on, `message_text` its text,
    `shown` the callback data of every button on that message (as Telegram's servers, not the
    patient's app, report it), or None where the transport cannot tell."""

    button_id: str
    message_id: int | None = None
    message_text: str | None = None
    shown: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Command:
    name: str  # without the slash, lower case
    args: str = ""

    @classmethod
    def parse(cls, text: str) -> "Command | None":
        """Parse "/Help@paincoach_bot  rest" as Command("help", "rest"); any whitespace separates them."""
        stripped = text.strip()
        if not stripped.startswith("/") or len(stripped) < 2:
            return None
        word, *rest = stripped[1:].split(None, 1)
        return cls(word.split("@")[0].lower(), rest[0].strip() if rest else "")


@dataclass(frozen=True)
class Edited:
    """A message the patient edited after sending it."""

    text: str


@dataclass(frozen=True)
class Media:
    """A sticker, photo, voice note, document... with its caption if it has one."""

    kind: str
    caption: str | None = None


Event = Text | Press | Command | Edited | Media


def text_of(event: Event) -> str | None:
    """The words an event carries, for the safety screen: a text, an edit, a caption, a command's
    arguments (`/start I want to die`)."""
    if isinstance(event, (Text, Edited)):
        return event.text
    if isinstance(event, Media):
        return event.caption
    if isinstance(event, Command):
        return event.args
    return None


@dataclass(frozen=True)
class Inbound:
    who: Who
    event: Event
    update_id: int | None = None  # Telegram's, so a redelivered update is applied once
    message: tuple[int, int] | None = None  # a new message's (chat id, message id): Telegram's own, per chat
    # The message of a guided exercise the transport was playing, and stopped for this event, while
    # it still showed its buttons: the step says what becomes of it (dialogs/turn.py).
    stopped_guide: int | None = None


@dataclass(frozen=True)
class Button:
    id: str  # opaque; Telegram echoes it back as callback data
    label: str


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    expects_number: bool = False  # the answer may be a typed number (so "1" is not "button 1")
    # A guided exercise: the transport edits this message to each (seconds from start, text) in
    # turn, then presses `guide_done` for the patient; anything the patient sends stops it.
    guide: tuple[tuple[float, str], ...] = ()
    guide_done: str | None = None
    standalone: bool = False  # sent as a message of its own (e.g. a summary to forward)
    urgent: bool = False  # crisis lines or urgent-care advice: a transport never drops it (e.g. in a flood)
    no_preview: bool = False  # a one-time link: the transport shows no preview of it (a preview would fetch it)

    @property
    def button_ids(self) -> list[str]:
        return [b.id for row in self.buttons for b in row]


@dataclass(frozen=True)
class Edit:
    """Replace the text of a message we sent earlier (and drop its buttons unless given)."""

    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class File:
    filename: str
    data: bytes
    caption: str = ""
    mime_type: str = "application/octet-stream"
    # What to draw, when drawing is slow (a chart): the step records the recipe, and the picture is
    # drawn after its transaction has committed (dialogs/charts.py `drawn`), never while it holds
    # the database. `data` is empty until then.
    recipe: dict | None = None


Output = Message | Edit | File



def encode(output: Output) -> str:
    """An output as JSON, to be kept until it is sent (the outbox)."""
    if isinstance(output, File):
        data = {"kind": "file", "filename": output.filename, "data": base64.b64encode(output.data).decode(),
                "caption": output.caption, "mime_type": output.mime_type, "recipe": output.recipe}
    else:
        data = {"kind": "edit" if isinstance(output, Edit) else "message", **dataclasses.asdict(output)}
    return json.dumps(data, ensure_ascii=False)


def decode(text: str) -> Output:
    data = json.loads(text)
    kind = data.pop("kind")
    if kind == "file":
        return File(data["filename"], base64.b64decode(data["data"]), data["caption"], data["mime_type"], data.get("recipe"))
    buttons = tuple(tuple(Button(**b) for b in row) for row in data.pop("buttons"))
    if kind == "edit":
        return Edit(data["message_id"], data["text"], buttons)
    guide = tuple((float(at), text) for at, text in data.pop("guide"))
    return Message(buttons=buttons, guide=guide, **data)
