"""The shape every dialog shares: a `transitions` machine declared once, as data.

A dialog class lists its states and transitions. Per state it has:

- `ask_<state>()`: the question to show (a `Question`), or a `Call` into another dialog;
- `read_<state>(answer)`: the name of the trigger the answer fires, or `Invalid(...)` to ask again.

One `Machine` per dialog class is shared by all patients. For each step the engine makes a
dialog object for the patient, attaches it to the machine at the stored state, fires the
trigger, and detaches it (no Machine per patient per update).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Protocol

from transitions import Machine

if TYPE_CHECKING:
    from dialogs.io import Output
    from dialogs.records import Session
    from storage.models import DialogState, Patient

DIALOGS: dict[str, type["Dialog"]] = {}
ONBOARDING = "onboarding"  # where a new patient starts
MENU = "menu"  # where an onboarded patient returns when a dialog ends
STOP = "stop"  # the value of a guided exercise's Stop button: an old one is known by it


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[Choice, ...] = ()
    columns: int = 1  # buttons per row
    expects_number: bool = False  # a typed number is an answer, besides the buttons
    guide: tuple[tuple[float, str], ...] = ()  # timed texts the message becomes (see io.Message)
    guide_done: Choice | None = None  # answered for the patient when the guide has played out

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))


@dataclass(frozen=True)
class Call:
    """Open another dialog now; when it ends, fire `on_return` here (or ask this state again)."""

    dialog: str
    on_return: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the called dialog's starting data
    cancellable: bool = True  # /cancel may leave it (not so a step onboarding cannot do without)


@dataclass(frozen=True)
class Invalid:
    """The answer did not fit: say why, then ask the same question again."""

    message: str


@dataclass(frozen=True)
class Answer:
    """What the patient gave: a button's value, or free text (never both)."""

    choice: str | None = None
    text: str | None = None


class Turn(Protocol):
    """What a dialog step sees of the step it runs in (dialogs/turn.py has the one there is): the
    patient, their dialog state, the clock, the outputs so far, and the moves it may make."""

    session: "Session"
    patient: "Patient"
    state: "DialogState"
    now: datetime
    language_code: str | None  # Telegram's, with this update; never stored
    text: str | None  # what the patient wrote in this update, if anything
    replied: bool  # the safety screen or the advice already answered it
    fresh: bool  # the patient's first step
    screened_with: str | None
    outputs: list["Output"]

    def say(self, text: str, choices: Iterable["Choice"] = (), columns: int = 1, *, action: str | None = None,
            expects_number: bool = False, standalone: bool = False) -> None: ...
    def ask(self) -> None: ...
    def answer(self, answer: "Answer") -> None: ...
    def dialog(self) -> "Dialog": ...
    def fire(self, dialog: "Dialog", trigger: str) -> None: ...
    def call(self, call: "Call") -> None: ...
    def enter(self, name: str, data: dict | None = None) -> None: ...
    def restart_at(self, name: str) -> None: ...
    def finish(self) -> None: ...
    def next_step(self) -> None: ...
    def stop_guide(self) -> bool: ...
    def local_date(self, moment: datetime | None = None) -> date: ...
    def switch_language(self, language: str) -> None: ...


class Dialog:
    name: ClassVar[str]
    states: ClassVar[list[str]]
    transitions: ClassVar[list[dict[str, Any]]]
    initial: ClassVar[str]
    final: ClassVar[frozenset[str]] = frozenset({"done"})
    machine: ClassVar[Machine]

    state: str  # set by the machine while attached

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "states" not in cls.__dict__:
            return  # a shared base for dialogs, not a dialog of its own
        for transition in cls.transitions:  # transitions would silently not bind a shadowed trigger
            if hasattr(cls, transition["trigger"]):
                raise TypeError(f"{cls.__name__}: trigger {transition['trigger']!r} shadows an attribute")
        cls.machine = Machine(
            model=None,
            states=cls.states,
            transitions=cls.transitions,
            initial=cls.initial,
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        DIALOGS[cls.name] = cls

    def __init__(self, turn: "Turn", data: dict[str, Any]):
        self.turn = turn
        self.data = data

    @property
    def patient(self):
        return self.turn.patient

    def say(self, text: str) -> None:
        """A message before the next question (an acknowledgement, a note)."""
        self.turn.say(text)

    def ask(self) -> Question | Call:
        return getattr(self, f"ask_{self.state}")()

    def read(self, answer: Answer) -> str | Invalid | None:
        return getattr(self, f"read_{self.state}")(answer)

    def finished(self) -> None:
        """Called once when the dialog reaches a final state."""

    def also_answers(self) -> tuple[Choice, ...]:
        """Choices this step still takes though its question no longer shows them: the buttons of
        an older layout of the same question, still on patients' screens (the menu's old list)."""
        return ()

    def invites_dark_thoughts(self) -> bool:
        """True where a gloomy or catastrophic thought is the answer asked for (a thought-check's
        thought): crisis language that only the model saw gets the direct question, with the
        lines, rather than the crisis path. The lists' findings still take the crisis path."""
        return False

    def answers_may_mention(self) -> frozenset[str]:
        """Outcomes of the screen that this step's question invites (a flare plan's "when will you
        seek care" invites red-flag symptoms): what the model alone read of them gets no reply
        here. What the phrase lists find is answered everywhere."""
        return frozenset()

    def expects_crisis_words(self) -> bool:
        """True where describing a crisis is the answer asked for (a safety plan's warning signs):
        the crisis lines are shown once, inline, and the answer is kept."""
        return False

    def plays_guide(self) -> bool:
        """True in a state whose question is a guided exercise (a breathing drill playing)."""
        return False

    def interrupted(self) -> str | None:
        """A sticker, photo or edit arrived instead of an answer: a trigger to fire, or None to
        ask again (a guided exercise stops, since the transport stops it on any input)."""
        return None


def in_order(states: list[str], trigger: str = "next") -> list[dict[str, Any]]:
    """Transitions for a dialog that goes through its states one after another."""
    return [{"trigger": trigger, "source": a, "dest": b} for a, b in zip(states, states[1:])]


@dataclass
class Frame:
    """A suspended dialog on the stack."""

    dialog: str
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    on_return: str | None = None
    cancellable: bool = True
