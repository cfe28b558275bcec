"""Settings, read from the environment once at start-up.

Each secret may instead come from a file named by `<NAME>_FILE` (Docker and systemd credentials,
Kubernetes secrets), so it never sits in the process environment. Such a file must be readable by
its owner only: a secret the whole machine can read is refused rather than used.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from storage.db import default_data_dir, default_database_url

SECRETS = ("TELEGRAM_BOT_TOKEN", "PAINCOACH_DATABASE_URL", "PAINCOACH_DATA_KEY", "PAINCOACH_WEBHOOK_SECRET")


class ConfigError(ValueError):
    """A setting that cannot be used as given. The message names the variable, never its value."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)  # may hold a password
    token: str | None = field(default=None, repr=False)
    bot_api_url: str | None = None  # a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    health_port: int | None = None  # polling mode: GET /health on this port (webhook mode: on the webhook's)
    log_level: str = "INFO"
    dispatch_seconds: float = 5  # how often due check-in prompts are sent; 0 turns sending off
    bot_username: str | None = None  # for invitation links (https://t.me/<bot>?start=<code>)
    web_url: str | None = None  # the dashboard's public address, for /web's sign-in links
    data_key: str | None = field(default=None, repr=False)  # Fernet key(s) for patients' words, newest first
    send_rate: float = 28  # messages a second, every bot process together (Telegram allows 30)
    allow_paid_broadcast: bool = False  # scheduled sends as Telegram's paid broadcasts: up to 1000/s

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = Path(env["PAINCOACH_DATA_DIR"]) if env.get("PAINCOACH_DATA_DIR") else default_data_dir()
        secret = {name: _secret(env, name) for name in SECRETS}
        return cls(
            database_url=secret["PAINCOACH_DATABASE_URL"] or default_database_url(data_dir),
            token=secret["TELEGRAM_BOT_TOKEN"],
            bot_api_url=env.get("PAINCOACH_BOT_API_URL") or None,
            webhook_url=env.get("PAINCOACH_WEBHOOK_URL") or None,
            webhook_listen=env.get("PAINCOACH_WEBHOOK_LISTEN", "127.0.0.1"),
            webhook_port=_port(env, "PAINCOACH_WEBHOOK_PORT") or 8443,
            webhook_secret=secret["PAINCOACH_WEBHOOK_SECRET"],
            health_port=_port(env, "PAINCOACH_HEALTH_PORT"),
            log_level=env.get("PAINCOACH_LOG_LEVEL", "INFO").upper(),
            dispatch_seconds=float(env.get("PAINCOACH_DISPATCH_SECONDS", "5")),
            bot_username=(env.get("PAINCOACH_BOT_USERNAME") or "").lstrip("@") or None,
            web_url=env.get("PAINCOACH_WEB_URL") or None,
            data_key=secret["PAINCOACH_DATA_KEY"],
            **send_limits(env.get("PAINCOACH_SEND_RATE"), _flag(env, "PAINCOACH_ALLOW_PAID_BROADCAST")),
        )


FREE_RATE, PAID_RATE = 30, 1000  # Telegram's limits, messages a second, without and with paid broadcasts


def send_limits(rate: str | float | None, paid: bool) -> dict:
    """The send rate and paid broadcasts, checked: over 30 a second only with paid broadcasts."""
    try:
        value = 28.0 if rate in (None, "") else float(rate)
    except ValueError:
        raise ConfigError("PAINCOACH_SEND_RATE must be a number of messages a second, e.g. 28") from None
    limit = PAID_RATE if paid else FREE_RATE
    if not 0 < value <= limit:
        raise ConfigError(f"PAINCOACH_SEND_RATE must be above 0 and at most {limit}"
                          + ("" if paid else " (more needs PAINCOACH_ALLOW_PAID_BROADCAST)"))
    return {"send_rate": value, "allow_paid_broadcast": paid}


def _flag(env, name: str) -> bool:
    value = (env.get(name) or "").strip().lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ConfigError(f"{name} must be true or false")
    return value in ("1", "true", "yes", "on")


def _port(env, name: str) -> int | None:
    value = env.get(name)
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{name} must be a port number (1-65535)")
    return int(value)


def _secret(env, name: str) -> str | None:
    """NAME's value, or the content of the file NAME_FILE names (surrounding whitespace removed)."""
    path = env.get(f"{name}_FILE")
    if not path:
        return env.get(name) or None
    if env.get(name):
        raise ConfigError(f"both {name} and {name}_FILE are set: keep one")
    try:
        with open(path, encoding="utf-8") as file:
            mode = os.fstat(file.fileno()).st_mode  # the file opened, not whatever the path names later
            if mode & 0o077:
                raise ConfigError(
                    f"{name}_FILE ({path}) can be read or written by others (mode {stat.S_IMODE(mode):o}): "
                    f"make it readable by its owner only, e.g. chmod 600 {path}"
                )
            return file.read().strip() or None
    except OSError as error:
        raise ConfigError(f"{name}_FILE ({path}) cannot be read: {error.strerror}") from None
