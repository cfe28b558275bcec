"""Every dialog module, imported once so each dialog registers itself by name."""
from dialogs import (  # noqa: F401
    checkin, flare, flareplan, language, menu, onboarding, quickcheck, schedule, thoughtcheck, timezone,
)
