"""The `paincoach` command."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace

from bot.config import ConfigError, Settings, send_limits


class RedactingFormatter(logging.Formatter):
    """No log line may carry a secret, whoever logs it: redacts the formatted record,
    tracebacks included."""

    def __init__(self, fmt: str, secrets: list[str | None]):
        super().__init__(fmt)
        # The token's secret half too: some libraries print it without the bot id.
        self.secrets = [part for s in secrets if s for part in (s, s.partition(":")[2]) if len(part) >= 8]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def setup_logging(settings: Settings, stream=None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets_of(settings)))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token; python-telegram-bot
    # logs whole updates (what patients wrote) at DEBUG.
    for name, level in [("httpx", logging.WARNING), ("httpcore", logging.WARNING), ("telegram", logging.INFO),
                        ("transitions", logging.WARNING), ("alembic", logging.WARNING), ("apscheduler", logging.WARNING)]:
        logging.getLogger(name).setLevel(max(level, logging.getLogger().level))


def secrets_of(settings: Settings) -> list[str | None]:
    """What no log line may show: the token, the webhook secret, the database URL and its password
    alone (drivers print it in other URL forms), and each data key."""
    from sqlalchemy.engine import make_url

    try:
        password = make_url(settings.database_url).password
    except Exception:  # not a URL we can parse: the whole string is still redacted
        password = None
    keys = (settings.data_key or "").split(",")
    return [settings.token, settings.webhook_secret, settings.database_url, password, *(key.strip() for key in keys)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paincoach", description="A chronic pain clinic's coaching companion.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("chat", help="talk to the coach in this terminal (embedded database, no token)")

    run = commands.add_parser("run", help="run the Telegram bot (TELEGRAM_BOT_TOKEN)")
    run.add_argument("--webhook-url", help="public HTTPS URL Telegram posts updates to (default: long polling)")
    run.add_argument("--listen", help="address the webhook (or health) server binds (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port the webhook server binds (default 8443)")
    run.add_argument("--health-port", type=int, help="long polling: answer GET /health on this port (default: off)")
    run.add_argument("--send-rate", type=float, help="messages a second, every bot process together "
                     "(default PAINCOACH_SEND_RATE, else 28; Telegram allows 30, up to 1000 with --allow-paid-broadcast)")
    run.add_argument("--allow-paid-broadcast", action="store_true", default=None,
                     help="send check-in prompts as Telegram's paid broadcasts (charged in Stars; default PAINCOACH_ALLOW_PAID_BROADCAST)")
    run.add_argument("--take-over", action="store_true",
                     help="long polling: take the updates from a webhook deployment (deletes its webhook, records polling)")

    serve = commands.add_parser("web", help="serve the clinicians' web dashboard (TLS from a reverse proxy in front)")
    serve.add_argument("--listen", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    serve.add_argument("--public-url", help="the address clinicians open, e.g. https://dashboard.example.org "
                                           "(default PAINCOACH_WEB_URL, else http://LISTEN:PORT); the bot's /web links point there")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply all migrations")
    db_commands.add_parser("rotate-key", help="rewrap every data key with the first PAINCOACH_DATA_KEY (and encrypt older values with their owner's key)")
    db_commands.add_parser("rotate-button-key", help="sign buttons with a new key from now on (buttons on screen keep working)")

    dialogs = commands.add_parser("dialogs", help="the dialogs")
    dialog_commands = dialogs.add_subparsers(dest="dialogs_command", required=True)
    dialog_commands.add_parser("list", help="the dialogs' names")
    graph = dialog_commands.add_parser("graph", help="print a dialog's Mermaid diagram")
    graph.add_argument("name")
    graph.add_argument("--markdown", action="store_true", help="as the page kept under docs/dialogs/")

    from bot import clinic_cli

    clinic_cli.add_commands(commands)

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2

    if args.command == "dialogs":
        return _dialogs(args)

    if args.command == "chat" and "PAINCOACH_LOG_LEVEL" not in os.environ:
        settings = replace(settings, log_level="ERROR")  # keep the conversation readable (a server warns, a chat does not)
    setup_logging(settings)
    from storage import crypto

    try:
        crypto.configure(settings.data_key)  # patients' words are encrypted from here on
    except crypto.DataKeyError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    import content

    import screen
    from dialogs.flares import mentions_flare

    try:
        content.check()
        mentions_flare("")  # compiles the flare words
    except ValueError as error:  # ContentError, or a file that is not valid TOML
        print(f"content error: {error}", file=sys.stderr)
        return 2
    try:
        screen.check()  # the lists and the model: the lists never run alone unnoticed
    except screen.ModelError as error:
        print(f"safety screen error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"content error: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        settings, problem = _run_settings(args, settings)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    from storage import datakeys

    database = _open_database(settings.database_url, patiently=args.command == "run")  # created and migrated on first run
    if database is None:
        return 0 if args.command == "run" else 1  # (run: stopped while waiting for it)
    try:
        datakeys.check(database)  # a wrong or missing data key stops here, not at every patient's step
        if args.command == "db" and args.db_command == "rotate-key":
            counts = datakeys.rotate(database)
            print(f"{counts.pop('data_keys'):,} data keys rewrapped")
            for table, rows in counts.items():
                print(f"{table}: {rows:,} older values re-encrypted")
            return 0
    except crypto.DataKeyError as error:
        print(f"data key error: {error}", file=sys.stderr)
        return 2
    if args.command == "db" and args.db_command == "rotate-button-key":
        from storage import keys

        version = keys.rotate_next(database)
        print(f"buttons are signed with key {version} from now on (each running process takes it up at its next button)")
        return 0
    if args.command == "db":
        print(f"database is at the newest revision: {database.url.render_as_string(hide_password=True)}")
        return 0
    if args.command in clinic_cli.COMMANDS:
        return clinic_cli.run(args, database, settings.bot_username)
    if args.command == "web":
        return _web(args, database, settings.bot_username)

    from dialogs.engine import Engine

    warm_up(cities=args.command == "chat")  # (`run` reads the city index in the background: bot/telegram.py)
    if args.command == "chat":
        from bot.terminal import TerminalChat

        TerminalChat(Engine(database, source="terminal")).run()
        return 0

    warn_unreachable_clinics(database)
    if not crypto.enabled():
        logging.getLogger("paincoach").warning(
            "PAINCOACH_DATA_KEY is not set: patients' words are stored as plain text, and /delete cannot make the copies "
            "it does not reach (backups, PostgreSQL's dead rows) unreadable (see README, Privacy)")
    from telegram.error import InvalidToken

    from bot.startup import Refused
    from bot.telegram import run as run_telegram

    try:
        run_telegram(settings, Engine(database), take_over=args.take_over)
    except InvalidToken:
        print("Telegram refused the bot token (TELEGRAM_BOT_TOKEN).", file=sys.stderr)  # never echo it
        return 2
    except Refused as refusal:
        print(f"paincoach run refused to start: {refusal}", file=sys.stderr)
        return 2
    return 0


def warm_up(*, cities: bool = True) -> None:
    """Before the first update: compile and load what a first message would otherwise wait for.
    The safety screen's lists and model, the content and the flare words are loaded by the checks
    at start (`main`); here every language's gettext catalog, the dizziness words and the time
    zone indexes, and with `cities` the city index too."""
    import locales
    from content import cities as city_index
    from dialogs import timezone
    from dialogs.drills import feels_dizzy

    for language in locales.SUPPORTED:
        locales.translations(language)
    feels_dizzy("")
    timezone.warm()
    if cities:
        city_index.warm()


def _web(args, database, bot_username: str | None) -> int:
    import uvicorn

    from web.server import create_app

    public_url = args.public_url or os.environ.get("PAINCOACH_WEB_URL") or f"http://{args.listen}:{args.port}"
    if not public_url.startswith(("https://", "http://")):
        print("--public-url must start with https:// (or http:// on a trusted network)", file=sys.stderr)
        return 2
    logging.getLogger("paincoach").info("web dashboard at %s (sign-in links: /web in Telegram)", public_url)
    # No access log: a sign-in link's path carries its token. The proxy's X-Forwarded-* headers are
    # not needed: links and cookies follow --public-url.
    uvicorn.run(create_app(database, public_url, bot_username=bot_username), host=args.listen, port=args.port, log_level="warning",
                access_log=False, proxy_headers=False, server_header=False)
    return 0


def _run_settings(args, settings: Settings) -> tuple[Settings, str | None]:
    """The settings `run` uses, or what is wrong with them (checked before waiting for anything)."""
    if not settings.token:
        return settings, "paincoach run needs TELEGRAM_BOT_TOKEN (or try `paincoach chat`)."
    overrides = {"webhook_url": args.webhook_url, "webhook_listen": args.listen, "webhook_port": args.port, "health_port": args.health_port}
    settings = replace(settings, **{k: v for k, v in overrides.items() if v})
    try:
        settings = replace(settings, **send_limits(args.send_rate or settings.send_rate,
                                                   args.allow_paid_broadcast or settings.allow_paid_broadcast))
    except ConfigError as error:
        return settings, f"configuration error: {error}"
    if settings.webhook_url and not settings.webhook_secret:
        # Every process behind the router must check the same secret, so it cannot be made up here.
        return settings, "webhook mode needs PAINCOACH_WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)"
    if settings.webhook_url and args.take_over:
        return settings, "--take-over is for long polling: webhook mode takes the updates anyway"
    return settings, None


def _open_database(url: str, *, patiently: bool):
    """The database, migrated. `run` waits for it (one line per attempt, with backoff) until
    SIGTERM or Ctrl-C; any other command says in one line that it cannot reach it."""
    import signal
    import threading

    from sqlalchemy.exc import OperationalError

    from bot.startup import open_database_patiently
    from storage import open_database

    if not patiently:
        try:
            return open_database(url)
        except OperationalError as error:
            print(f"the database cannot be reached: {str(error.orig or error).strip().splitlines()[0]}", file=sys.stderr)
            return None
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return open_database_patiently(url, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def warn_unreachable_clinics(database) -> None:
    """Alerts that would reach nobody are named at every start, until someone fixes it: loudly
    where patients are waiting (a severe PHQ-4 or a crisis there is otherwise silent)."""
    from storage.enrollment import clinics_nobody_hears, clinics_without_recipients

    log = logging.getLogger("paincoach")
    with database.transaction() as session:
        unheard = dict((clinic.id, count) for clinic, count in clinics_nobody_hears(session))
        for clinic in clinics_without_recipients(session):
            if clinic.id in unheard:
                log.warning(
                    "clinic %r has no verified clinician and no fallback contact: the alerts of its %d patient(s) reach nobody "
                    "(paincoach clinic set %r fallback_chat_id CHAT_ID, or paincoach clinician invite --clinic %r)",
                    clinic.name, unheard[clinic.id], clinic.name, clinic.name)
            else:
                log.info("clinic %r has no verified clinician and no fallback contact yet (and no patients)", clinic.name)


def _dialogs(args) -> int:
    from dialogs.base import DIALOGS
    from dialogs.registry import dialog_class
    from dialogs.graph import markdown, mermaid

    if args.dialogs_command == "list":
        dialog_class("menu")  # loads them all
        print("\n".join(sorted(DIALOGS)))
        return 0
    try:
        dialog_class(args.name)
    except KeyError:
        print(f"no dialog named {args.name!r}", file=sys.stderr)
        return 2
    print(markdown(args.name) if args.markdown else mermaid(args.name), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
