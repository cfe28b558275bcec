"""Every dialog module, imported once so each dialog registers itself by name."""
from dialogs import checkin, language, menu, onboarding, quickcheck, schedule, thoughtcheck, timezone  # noqa: F401
