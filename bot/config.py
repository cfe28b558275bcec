"""Settings, read from the environment once at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from storage.db import default_data_dir, default_database_url


@dataclass(frozen=True)
class Settings:
    database_url: str
    token: str | None = None
    bot_api_url: str | None = None  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    log_level: str = "INFO"
    dispatch_seconds: float = 5  # how often due check-in prompts are sent; 0 turns sending off
    bot_username: str | None = None  # for invitation links (https://t.me/<bot>?start=<code>)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env["PAINCOACH_DATA_DIR"]) if env.get("PAINCOACH_DATA_DIR") else default_data_dir()
        return cls(
            database_url=env.get("PAINCOACH_DATABASE_URL") or default_database_url(data_dir),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            bot_api_url=env.get("PAINCOACH_BOT_API_URL") or None,
            webhook_url=env.get("PAINCOACH_WEBHOOK_URL") or None,
            webhook_listen=env.get("PAINCOACH_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=int(env.get("PAINCOACH_WEBHOOK_PORT", "8443")),
            webhook_secret=env.get("PAINCOACH_WEBHOOK_SECRET") or None,
            log_level=env.get("PAINCOACH_LOG_LEVEL", "INFO").upper(),
            dispatch_seconds=float(env.get("PAINCOACH_DISPATCH_SECONDS", "5")),
            bot_username=(env.get("PAINCOACH_BOT_USERNAME") or "").lstrip("@") or None,
        )
