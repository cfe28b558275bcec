"""Two days after a flare began: how it went, and what helped. Diagram: docs/dialogs/flarefollowup.md."""
from __future__ import annotations

from babel.dates import format_timedelta

import locales
from dialogs import flares
from dialogs.answers import words
from dialogs.base import Answer, Choice, Dialog, Invalid, Question
from locales import _
from storage.models import FlareEpisode, Prompt

SKIP = "skip"


class FlareFollowUp(Dialog):
    name = "flarefollowup"
    states = ["how", "helped", "done"]
    initial = "how"
    transitions = [{"trigger": "next", "source": "how", "dest": "helped"}, {"trigger": "next", "source": "helped", "dest": "done"}]

    def ask_how(self) -> Question:
        episode = self.turn.session.get(FlareEpisode, self.data["episode_id"])
        ago = format_timedelta(episode.started_at - self.turn.now, add_direction=True, locale=locales.current())
        return Question(
            _("You told me about a flare {ago}. How is it now?").format(ago=ago),
            [Choice("better", _("Better")), Choice("same", _("About the same")), Choice("worse", _("Worse"))],
        )

    def read_how(self, answer: Answer) -> str | None:
        if answer.choice not in ("better", "same", "worse"):
            return None
        self.data["how"] = answer.choice
        episode = self.turn.session.get(FlareEpisode, self.data["episode_id"])
        if answer.choice == "better":
            episode.ended_at = self.turn.now
        else:  # still going: ask again in another two days
            flares.schedule_follow_up(self.turn, episode)
        return "next"

    def ask_helped(self) -> Question:
        return Question(_("What helped you most?"), [Choice(SKIP, _("Skip this question"))])

    def read_helped(self, answer: Answer) -> str | Invalid | None:
        if answer.choice != SKIP:
            text = words(answer)
            if isinstance(text, Invalid):
                return text
            self.turn.session.get(FlareEpisode, self.data["episode_id"]).what_helped = text
        return "next"

    def finished(self) -> None:
        prompt = self.turn.session.get(Prompt, self.data["prompt_id"]) if self.data.get("prompt_id") else None
        if prompt is not None:
            prompt.status, prompt.answered_at = "answered", self.turn.now
        how = self.data.get("how")
        if how == "worse":
            self.say(_("I'm sorry it's still hard. Your flare plan says when to seek care; please follow it, "
                       "and tell your clinic team at your next contact. I'll ask again in two days."))
        elif how == "same":
            self.say(_("Thank you for telling me. Keep your activities steady and short for now; I'll ask again in two days."))
        else:
            self.say(_("You came through that flare. Thank you. Build back up gently, a little more each day."))
