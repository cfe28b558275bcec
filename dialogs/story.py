"""The pain story every patient tells on joining, and can read back from the menu: five questions
answered in their own words, (state, column, question)."""
from __future__ import annotations

from locales import N_

STORY = [
    ("story_where", "where_it_hurts", N_("Where does it hurt?")),
    ("story_since", "since_when", N_("Since when have you had this pain?")),
    ("story_worse", "what_makes_it_worse", N_("What makes it worse?")),
    ("story_tried", "what_has_been_tried", N_("What have you tried so far, and how did it go?")),
    ("story_good_day", "good_day", N_("What does a good day look like for you?")),
]
STORY_STATES = [state for state, _column, _question in STORY]
