"""The main menu, where every onboarded patient returns: "I'm having a flare" at the top, the
other tools in groups. Diagram: docs/dialogs/menu.md.

The menu is data: TOOLS says what each tool is and what it opens, GROUPS which group shows it,
TOP what the first screen shows. Adding a tool that opens a dialog is one `Tool(...)` line and
its value in a group; the states and transitions follow from the data. A tool's name typed at
the first screen opens it wherever it sits, and a button of the old one-list menu still on a
patient's screen still opens its tool.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

import locales
from content.thinking import traps as thinking_traps
from dialogs import records
from dialogs import progress, prompts, sittings, wins
from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs.story import STORY
from dialogs.typed import typed_choice
from locales import N_, _
from storage.models import PainStory

MAX_SHOWN = 600  # characters of each answer shown back; the whole text stays stored
BACK = "back"


@dataclass(frozen=True)
class Tool:
    value: str  # the button's value; also the menu's state for the tool, if it has one
    label: str  # msgid
    dialog: str | None = None  # the dialog it opens; None: the menu itself answers (below)


@dataclass(frozen=True)
class Group:
    value: str  # the button's value and the state showing the group
    label: str  # msgid
    tools: tuple[str, ...]


FLARE = "flare"
TOOLS = {tool.value: tool for tool in [
    Tool(FLARE, N_("I'm having a flare"), "flare"),
    Tool("breathing", N_("Breathing exercise"), "breathing"),
    Tool("thoughts", N_("Thought-check")),  # its own small menu: new, quick, the last ones
    Tool("relaxation", N_("Muscle relaxation"), "relaxation"),
    Tool("mindfulness", N_("Mindfulness"), "mindfulness"),
    Tool("pacing", N_("Pacing my activities"), "pacing"),
    Tool("flareplan", N_("My flare plan"), "flareplan"),
    Tool("sprint", N_("My sprint"), "sprint"),
    Tool("exercises", N_("My home exercises"), "exercises"),
    Tool("visit", N_("Prepare for a visit"), "visit"),
    Tool("safetyplan", N_("My safety plan"), "safetyplan"),
    Tool("sleep", N_("My sleep routine"), "sleep"),
    Tool("checkin", N_("Check in now")),  # the waiting scheduled check-in, or a choice of one
    Tool("progress", N_("My progress")),  # said, then the menu again
    Tool("wins", N_("My small wins")),  # said, then the menu again
    Tool("story", N_("My pain story")),
    Tool("schedule", N_("Check-in times"), "schedule"),
    Tool("reminders", N_("Pause reminders"), "reminders"),
    Tool("language", N_("Language"), "language"),
    Tool("course", N_("Pain lessons"), "course"),
    Tool("timezone", N_("Time zone"), "timezone"),
]}
GROUPS = {group.value: group for group in [
    Group("calm", N_("Calm now"), ("breathing", "relaxation", "mindfulness", "thoughts")),
    Group("plan", N_("Plan and pace"), ("pacing", "exercises", "sleep", "flareplan", "sprint", "visit", "safetyplan")),
    Group("learn", N_("Learn"), ("course",)),
    Group("numbers", N_("My numbers"), ("checkin", "progress", "wins", "story")),
    Group("settings", N_("Settings"), ("schedule", "reminders", "language", "timezone")),
]}
TOP = (FLARE, *GROUPS)
SHOWN = {"progress": progress.progress, "wins": lambda turn: turn.say(wins.listing(turn))}  # answered in place
OWN_STATES = ["checkin_pick", "thought_full", "thought_quick"]  # the steps of the menu's own tools
WITH_STATE = [value for value in TOOLS if value not in SHOWN]


def group_of(tool: str) -> str | None:
    """The group that shows a tool (by its value or its msgid), or None for one on the first screen."""
    return next((g.value for g in GROUPS.values() if tool in g.tools or tool in (TOOLS[t].label for t in g.tools)), None)


class Menu(Dialog):
    name = "menu"
    states = ["main", *GROUPS, *WITH_STATE, *OWN_STATES]
    initial = "main"
    final = frozenset()  # the menu never ends; other dialogs return to it
    transitions = [
        *({"trigger": f"show_{group}", "source": "main", "dest": group} for group in GROUPS),
        # From its group; from the first screen too, where its name may be typed or an old button pressed.
        *({"trigger": f"open_{tool}", "source": sorted({"main", group_of(tool) or "main"}), "dest": tool} for tool in WITH_STATE),
        {"trigger": "pick_checkin", "source": ["main", group_of("checkin")], "dest": "checkin_pick"},
        {"trigger": "picked", "source": "checkin_pick", "dest": "checkin"},
        {"trigger": "showed", "source": sorted({"main", *(group_of(tool) or "main" for tool in SHOWN)}), "dest": "main"},
        {"trigger": "new_full", "source": "thoughts", "dest": "thought_full"},
        {"trigger": "new_quick", "source": "thoughts", "dest": "thought_quick"},
        {"trigger": "listed", "source": "thoughts", "dest": "thoughts"},
        # Every other state returns to the first screen.
        {"trigger": BACK, "source": [state for state in ["main", *GROUPS, *WITH_STATE, *OWN_STATES] if state != "main"], "dest": "main"},
    ]

    def ask(self) -> Question | Call:
        if self.state in GROUPS:
            return self.ask_group(GROUPS[self.state])
        tool = TOOLS.get(self.state)
        if tool is not None and tool.dialog is not None:
            return Call(tool.dialog, on_return=BACK)
        return super().ask()

    def read(self, answer: Answer) -> Any:
        if self.state in GROUPS:
            return self.read_group(answer)
        return super().read(answer)

    def ask_main(self) -> Question:
        choices = [Choice(value, _((TOOLS.get(value) or GROUPS[value]).label)) for value in TOP]
        return Question(_("What would you like to do?"), choices)

    def read_main(self, answer: Answer) -> str | None:
        if answer.choice in GROUPS:
            return f"show_{answer.choice}"
        if answer.text is not None:  # a tool's name typed here opens it, whichever group it is in
            typed = typed_choice(Question("", [Choice(t.value, _(t.label)) for t in TOOLS.values()]), answer.text)
            return self.open(typed.value) if typed is not None else None
        return self.open(answer.choice)

    def also_answers(self) -> tuple[Choice, ...]:
        """At the first screen, every tool: the buttons of the old one-list menu."""
        return tuple(Choice(t.value, _(t.label)) for t in TOOLS.values()) if self.state == "main" else ()

    def ask_group(self, group: Group) -> Question:
        choices = [Choice(tool, _(TOOLS[tool].label)) for tool in group.tools] + [Choice(BACK, _("Back"))]
        return Question(_("{group}: what would you like to do?").format(group=_(group.label)), choices)

    def read_group(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return BACK
        return self.open(answer.choice) if answer.choice in GROUPS[self.state].tools else None

    def open(self, value: str | None) -> str | None:
        """The trigger that opens a tool (or shows it here and stays)."""
        if value in SHOWN:
            SHOWN[value](self.turn)
            return "showed"
        if value == "checkin":
            prompt = prompts.open_prompt(self.turn)
            if prompt is None:
                return "pick_checkin"
            self.data["instruments"], self.data["prompt_id"] = prompt.instruments, prompt.id  # a scheduled one is waiting: that one
        return f"open_{value}" if value in TOOLS else None

    def ask_checkin_pick(self) -> Question:
        return Question(
            _("Which check-in would you like to do?"),
            [
                Choice("daily", _("Daily check-in")),
                Choice("peg3", _("Pain this week (PEG)")),
                Choice("phq4", _("Mood (PHQ-4)")),
                Choice(BACK, _("Back to the menu")),
            ],
        )

    def read_checkin_pick(self, answer: Answer) -> str | None:
        if answer.choice == BACK:
            return BACK
        if answer.choice in ("daily", "peg3", "phq4"):
            self.data["instruments"], self.data["prompt_id"] = [answer.choice], None
            return "picked"
        return None

    def ask_checkin(self) -> Call:
        return sittings.start(self.turn, self.data["instruments"], prompt_id=self.data.get("prompt_id"), on_return=BACK)

    def ask_story(self) -> Question:
        story = self.turn.session.get(PainStory, self.patient.id)
        lines = [_("Your pain story:")]
        for _state, column, question in STORY:
            answer = getattr(story, column, None) if story else None
            if answer and len(answer) > MAX_SHOWN:
                answer = answer[:MAX_SHOWN] + "…"
            lines.append("\n" + _(question) + "\n" + (answer or _("(skipped)")))
        return Question("\n".join(lines), [Choice(BACK, _("Back to the menu"))])

    def read_story(self, answer: Answer) -> str | None:
        return BACK if answer.choice == BACK else None

    def ask_thoughts(self) -> Question:
        return Question(
            _("A thought-check helps you look at a painful thought from more than one side."),
            [
                Choice("full", _("New thought-check")),
                Choice("quick", _("Quick check during a flare")),
                Choice("list", _("My last thought-checks")),
                Choice(BACK, _("Back to the menu")),
            ],
        )

    def read_thoughts(self, answer: Answer) -> str | None:
        if answer.choice == "list":
            self.say(past_thought_checks(self.turn))
            return "listed"
        return {"full": "new_full", "quick": "new_quick", BACK: BACK}.get(answer.choice)

    def ask_thought_full(self) -> Call:
        return Call("thoughtcheck", on_return=BACK)

    def ask_thought_quick(self) -> Call:
        return Call("quickcheck", on_return=BACK)


def past_thought_checks(turn, limit: int = 5) -> str:
    """The last completed thought-checks, with the change in belief."""
    rows = records.completed_thought_records(turn.session, turn.patient.id, limit)
    if not rows:
        return _("You haven't finished a thought-check yet.")
    traps = {trap.id: _(trap.label) for trap in thinking_traps()}
    lines = []
    for row in rows:
        day = format_date(turn.local_date(row.completed_at), format="medium", locale=locales.formatting())
        thought = row.thought if len(row.thought or "") <= 80 else row.thought[:80] + "…"
        if row.kind == "full":
            change = _("belief {before} → {after}").format(before=row.belief_before, after=row.belief_after)
            if row.trap:
                change += f" · {traps.get(row.trap, row.trap)}"
        else:
            change = _("next step: {step}").format(step=row.next_step)
        lines.append(day + ": " + _("“{thought}”").format(thought=thought) + "\n" + change)
    return "\n\n".join(lines)
