"""Every dialog module, imported once so each dialog registers itself by name; and the one way to
find a dialog by its name."""
from dialogs import (  # noqa: F401
    breathing, checkin, course, delete, exercises, flare, flarefollowup, flareplan, language, lesson, menu, mindfulness, onboarding,
    pacing, quickcheck, relaxation, reminders, safetyplan, schedule, sleep, sprint, thoughtcheck, timezone, visit,
)
from dialogs.base import DIALOGS, Dialog  # noqa: E402


def dialog_class(name: str) -> type[Dialog]:
    return DIALOGS[name]
