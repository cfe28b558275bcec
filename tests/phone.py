"""A patient's phone: talks to the bot through the Bot API emulator and reads what the bot sent."""
from __future__ import annotations

from botapi import BotAPIEmulator


class Phone:
    def __init__(self, emulator: BotAPIEmulator, user_id: int, language_code: str = "en"):
        self.emu = emulator
        self.user_id = user_id
        self.language_code = language_code
        self.seen = 0  # highest bot message id already read

    # What the patient does ------------------------------------------------------------------
    def send(self, text: str, **kw) -> int:
        self._mark()
        return self.emu.send_text(self.user_id, text, language_code=self.language_code, **kw)

    def press(self, label: str, **kw) -> int:
        self._mark()
        for message in reversed(self.emu.messages(self.user_id)):
            for text, data in self.emu.buttons(message):
                if text == label:
                    return self.emu.press(self.user_id, message["message_id"], data, **kw)
        raise AssertionError(f"no button {label!r}; the chat reads:\n{self.transcript()}")

    async def open(self, tool: str, **kw) -> int:
        """Press a menu tool by its (English) label, through its group's button when the tool is
        not on screen, so tests do not depend on the menu's layout."""
        from dialogs.menu import GROUPS, group_of

        if not self._shows(tool, self.emu.messages(self.user_id)[-1:]) and (group := group_of(tool)) is not None:
            self.press(GROUPS[group].label)
            await self.emu.until(lambda: self._shows(tool, self.new_messages()))
        return self.press(tool, **kw)

    def _shows(self, label: str, messages: list[dict]) -> bool:
        return any(text == label for message in messages for text, _data in self.emu.buttons(message))

    # What the patient sees --------------------------------------------------------------------
    def new_messages(self) -> list[dict]:
        return [m for m in self.emu.messages(self.user_id) if m["message_id"] > self.seen]

    def _has(self, fragment: str) -> bool:
        return any(fragment in (m.get("text") or "") for m in self.new_messages())

    async def expect(self, fragment: str, timeout: float = 10.0) -> str:
        """Wait until a message that came after the last action contains `fragment`."""
        await self.emu.until(lambda: self._has(fragment), timeout)
        return self.latest_text()

    def wait(self, fragment: str, timeout: float = 15.0) -> str:
        """The same, blocking (for a bot in another process)."""
        self.emu.wait_for(lambda: self._has(fragment), timeout)
        return self.latest_text()

    def latest_text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.new_messages())

    def transcript(self) -> str:
        return "\n---\n".join(m.get("text") or "" for m in self.emu.messages(self.user_id))

    def _mark(self) -> None:
        messages = self.emu.messages(self.user_id)
        self.seen = max((m["message_id"] for m in messages), default=self.seen)
