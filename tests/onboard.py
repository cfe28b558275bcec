"""Walk a patient through onboarding quickly, for tests that start at the menu."""
from __future__ import annotations


def onboard(chat, *, zone_button: str = "London", name: str = "Sam") -> None:
    chat.command("start")
    chat.press("English")
    chat.press("Continue")
    chat.press("Yes, I agree")
    chat.press("Yes, I'm 18 or older")
    if zone_button in chat.buttons:
        chat.press(zone_button)
    else:
        chat.say(zone_button)
    chat.press("Yes, that's right")
    chat.say(name)
    for _ in range(5):
        chat.press("Skip this question")
    assert "What would you like to do?" in chat.text, chat.text
