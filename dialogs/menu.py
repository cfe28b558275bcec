"""The main menu, where every onboarded patient returns. Diagram: docs/dialogs/menu.md."""
from __future__ import annotations

from babel.dates import format_date

import locales
from content.thinking import traps as thinking_traps
from dialogs import records
from dialogs import progress, prompts, sittings
from dialogs.base import Answer, Call, Choice, Dialog, Question
from dialogs.story import STORY
from locales import _
from storage.models import PainStory

MAX_SHOWN = 600  # characters of each answer shown back; the whole text stays stored


class Menu(Dialog):
    name = "menu"
    states = [
        "main", "checkin_pick", "checkin", "breathing", "pacing", "flare", "flareplan", "thoughts", "thought_full", "thought_quick",
        "sprint", "visit", "safetyplan", "schedule", "story", "language", "timezone",
    ]
    initial = "main"
    final = frozenset()  # the menu never ends; other dialogs return to it
    transitions = [
        {"trigger": "open_checkin", "source": "main", "dest": "checkin"},
        {"trigger": "pick_checkin", "source": "main", "dest": "checkin_pick"},
        {"trigger": "picked", "source": "checkin_pick", "dest": "checkin"},
        {"trigger": "showed_progress", "source": "main", "dest": "main"},
        {"trigger": "open_thoughts", "source": "main", "dest": "thoughts"},
        {"trigger": "open_flare", "source": "main", "dest": "flare"},
        {"trigger": "open_breathing", "source": "main", "dest": "breathing"},
        {"trigger": "open_pacing", "source": "main", "dest": "pacing"},
        {"trigger": "open_visit", "source": "main", "dest": "visit"},
        {"trigger": "open_sprint", "source": "main", "dest": "sprint"},
        {"trigger": "open_safetyplan", "source": "main", "dest": "safetyplan"},
        {"trigger": "open_flareplan", "source": "main", "dest": "flareplan"},
        {"trigger": "new_full", "source": "thoughts", "dest": "thought_full"},
        {"trigger": "new_quick", "source": "thoughts", "dest": "thought_quick"},
        {"trigger": "listed", "source": "thoughts", "dest": "thoughts"},
        {"trigger": "open_schedule", "source": "main", "dest": "schedule"},
        {"trigger": "open_story", "source": "main", "dest": "story"},
        {"trigger": "open_language", "source": "main", "dest": "language"},
        {"trigger": "open_timezone", "source": "main", "dest": "timezone"},
        # Every other state returns to the main menu.
        {"trigger": "back", "source": [state for state in states if state != "main"], "dest": "main"},
    ]

    def ask_main(self) -> Question:
        return Question(
            _("What would you like to do?"),
            [
                Choice("checkin", _("Check in now")),
                Choice("progress", _("My progress")),
                Choice("breathing", _("Breathing exercise")),
                Choice("pacing", _("Pacing my activities")),
                Choice("flare", _("I'm having a flare")),
                Choice("thoughts", _("Thought-check")),
                Choice("flareplan", _("My flare plan")),
                Choice("sprint", _("My sprint")),
                Choice("visit", _("Prepare for a visit")),
                Choice("safetyplan", _("My safety plan")),
                Choice("schedule", _("Check-in times")),
                Choice("story", _("My pain story")),
                Choice("language", _("Language")),
                Choice("timezone", _("Time zone")),
            ],
        )

    def read_main(self, answer: Answer) -> str | None:
        if answer.choice == "checkin":
            prompt = prompts.open_prompt(self.turn)
            if prompt is not None:  # a scheduled check-in is waiting: that one
                self.data["instruments"], self.data["prompt_id"] = prompt.instruments, prompt.id
                return "open_checkin"
            return "pick_checkin"
        if answer.choice == "progress":
            progress.progress(self.turn)
            return "showed_progress"
        return {"breathing": "open_breathing", "pacing": "open_pacing", "visit": "open_visit", "sprint": "open_sprint", "safetyplan": "open_safetyplan", "flare": "open_flare", "flareplan": "open_flareplan", "thoughts": "open_thoughts", "schedule": "open_schedule", "story": "open_story", "language": "open_language", "timezone": "open_timezone"}.get(
            answer.choice
        )

    def ask_checkin_pick(self) -> Question:
        return Question(
            _("Which check-in would you like to do?"),
            [
                Choice("daily", _("Daily check-in")),
                Choice("peg3", _("Pain this week (PEG)")),
                Choice("phq4", _("Mood (PHQ-4)")),
                Choice("back", _("Back to the menu")),
            ],
        )

    def read_checkin_pick(self, answer: Answer) -> str | None:
        if answer.choice == "back":
            return "back"
        if answer.choice in ("daily", "peg3", "phq4"):
            self.data["instruments"], self.data["prompt_id"] = [answer.choice], None
            return "picked"
        return None

    def ask_checkin(self) -> Call:
        return sittings.start(self.turn, self.data["instruments"], prompt_id=self.data.get("prompt_id"), on_return="back")

    def ask_story(self) -> Question:
        story = self.turn.session.get(PainStory, self.patient.id)
        lines = [_("Your pain story:")]
        for _state, column, question in STORY:
            answer = getattr(story, column, None) if story else None
            if answer and len(answer) > MAX_SHOWN:
                answer = answer[:MAX_SHOWN] + "…"
            lines.append("\n" + _(question) + "\n" + (answer or _("(skipped)")))
        return Question("\n".join(lines), [Choice("back", _("Back to the menu"))])

    def read_story(self, answer: Answer) -> str | None:
        return "back" if answer.choice == "back" else None

    def ask_thoughts(self) -> Question:
        return Question(
            _("A thought-check helps you look at a painful thought from more than one side."),
            [
                Choice("full", _("New thought-check")),
                Choice("quick", _("Quick check during a flare")),
                Choice("list", _("My last thought-checks")),
                Choice("back", _("Back to the menu")),
            ],
        )

    def read_thoughts(self, answer: Answer) -> str | None:
        if answer.choice == "list":
            self.say(past_thought_checks(self.turn))
            return "listed"
        return {"full": "new_full", "quick": "new_quick", "back": "back"}.get(answer.choice)

    def ask_breathing(self) -> Call:
        return Call("breathing", on_return="back")

    def ask_pacing(self) -> Call:
        return Call("pacing", on_return="back")

    def ask_safetyplan(self) -> Call:
        return Call("safetyplan", on_return="back")

    def ask_sprint(self) -> Call:
        return Call("sprint", on_return="back")

    def ask_visit(self) -> Call:
        return Call("visit", on_return="back")

    def ask_flare(self) -> Call:
        return Call("flare", on_return="back")

    def ask_flareplan(self) -> Call:
        return Call("flareplan", on_return="back")

    def ask_thought_full(self) -> Call:
        return Call("thoughtcheck", on_return="back")

    def ask_thought_quick(self) -> Call:
        return Call("quickcheck", on_return="back")

    def ask_schedule(self) -> Call:
        return Call("schedule", on_return="back")

    def ask_language(self) -> Call:
        return Call("language", on_return="back")

    def ask_timezone(self) -> Call:
        return Call("timezone", on_return="back")


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
