"""Every dialog module, imported once so each dialog registers itself by name."""
from dialogs import (  # noqa: F401
    breathing, checkin, delete, flare, flarefollowup, flareplan, language, menu, onboarding, pacing, quickcheck, safetyplan, schedule, sprint, thoughtcheck, timezone, visit,
)
