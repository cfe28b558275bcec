"""Benchmark: the safety screen, what it catches and what it costs.

    python benchmarks/screen.py [--set heldout|validation|train|all] [--misses] [--speed-only]

Quality, per set, language and kind: recall (a crisis, an overdose or an ambiguous message counts
as caught when it gets the crisis lines: the crisis path or the direct question; a red flag when
it gets a red-flag reply of either tier; direct statements must take the crisis path itself) and
false alarms on everyday talk (any crisis lines, direct question or red-flag advice). The held-out
set is the measure; validation chose the thresholds and train taught the lists and the model, so
their figures are labelled as such and are not evidence.

Speed: CPU milliseconds per message (p50, p95) at 50, 500 and 4,096 characters, the model's load
time, the memory it adds, and the ratio of the screen's CPU per message to the CPU a bare
python-telegram-bot echo bot spends on one update (its Application, the update parsed, a handler
run, a reply built and sent to a request object that answers at once), measured in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screen import classifier, policy, rules, sets  # noqa: E402

ALARMS = policy.DANGER | policy.RED_FLAGS


def caught(line, screening) -> bool:
    found = set(screening.outcomes())
    if line.outcome == "none":
        return not (found & ALARMS)
    if line.kind == "direct":
        return policy.CRISIS in found
    if line.outcome in policy.DANGER:
        return bool(found & policy.DANGER)
    if line.outcome in policy.RED_FLAGS:
        return bool(found & policy.RED_FLAGS)
    return line.outcome in found


def quality(name: str, misses: bool) -> None:
    lines = sets.read(name)
    tallies: dict[tuple[str, str], list[bool]] = defaultdict(list)
    missed = []
    for line in lines:
        screening = policy.screen(line.text)
        ok = caught(line, screening)
        group = "crisis (all)" if line.outcome in policy.DANGER else line.outcome
        for key in {group, f"{line.outcome}/{line.kind}" if line.outcome == "crisis" else group}:
            tallies[(line.language, key)].append(ok)
            tallies[("all", key)].append(ok)
        if not ok:
            missed.append(f"  {line.language} [{line.outcome}/{line.kind}] -> {screening.outcomes()}: {line.text}")
    label = {"heldout": "HELD-OUT (the measure)", "validation": "validation (chose the thresholds)",
             "train": "training (learnt from: not evidence)"}[name]
    print(f"\n== {label}: {len(lines)} messages")
    keys = sorted({k for _, k in tallies}, key=lambda k: (k == "none", k))
    columns = ["en", "es", "de", "all"]
    print(f"{'':34}" + "".join(f"{c:>16}" for c in columns))
    for key in keys:
        name_ = "false alarms (everyday)" if key == "none" else key
        cells = []
        for c in columns:
            values = tallies.get((c, key), [])
            if not values:
                cells.append(f"{'-':>16}")
                continue
            hits = sum(values) if key != "none" else len(values) - sum(values)
            cells.append(f"{hits / len(values):7.1%} ({hits:>3}/{len(values):<3})")
        print(f"{name_:34}" + "".join(cells))
    if misses:
        print("\n".join(missed))


def cpu_ms(fn, arg, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        fn(arg)
        times.append((time.process_time() - start) * 1000)
    return times


def echo_bot_cpu_ms(updates: int = 400) -> float:
    """CPU per update of a bare python-telegram-bot echo bot (Application.process_update)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, MessageHandler, filters
    from telegram.request import BaseRequest

    class Instant(BaseRequest):
        async def initialize(self): ...
        async def shutdown(self): ...

        @property
        def read_timeout(self): return None

        async def do_request(self, url, method, request_data=None, **kwargs):
            if url.endswith("getMe"):
                result = {"id": 1, "is_bot": True, "first_name": "b", "username": "b_bot"}
            else:
                params = request_data.parameters if request_data else {}
                result = {"message_id": 1, "date": 0, "chat": {"id": params.get("chat_id", 1), "type": "private"},
                          "text": params.get("text", "")}
            return 200, json.dumps({"ok": True, "result": result}).encode()

    async def echo(update, context):
        await update.message.reply_text(update.message.text)

    async def run() -> float:
        app = ApplicationBuilder().token("1:x").request(Instant()).get_updates_request(Instant()).updater(None).build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        async with app:
            payloads = [{"update_id": i, "message": {"message_id": i, "date": 0, "text": f"hello {i}",
                         "chat": {"id": 7, "type": "private"}, "from": {"id": 7, "is_bot": False, "first_name": "p"}}}
                        for i in range(updates)]
            for p in payloads[:20]:
                await app.process_update(Update.de_json(p, app.bot))
            start = time.process_time()
            for p in payloads:
                await app.process_update(Update.de_json(p, app.bot))
            return (time.process_time() - start) * 1000 / updates

    return asyncio.run(run())


def speed() -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    classifier.load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    rules.screen_all("warm up")
    compile_s = time.perf_counter() - start
    rss_added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    baseline = echo_bot_cpu_ms()
    texts = [line.text for line in sets.read("validation")]
    filler = " ".join(texts)
    print("\n== speed (CPU ms per message; this machine, this run)")
    print(f"model load {load_s * 1000:.0f} ms, lists compiled in {compile_s * 1000:.0f} ms, memory added {rss_added:.0f} MB")
    print(f"bare echo bot: {baseline:.3f} ms CPU per update")
    for size in (50, 500, 4096):
        samples = []
        for k in range(200):
            offset = (k * 977) % max(1, len(filler) - size)
            samples.append(filler[offset:offset + size])
        times = [t for s in samples for t in cpu_ms(policy.screen, s, 1)]
        p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
        print(f"{size:>5} characters: p50 {p50:7.3f} ms  p95 {p95:7.3f} ms  ratio to the echo bot (p50) {p50 / baseline:6.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="heldout", choices=["heldout", "validation", "train", "all"])
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--lists-only", action="store_true", help="the phrase lists without the model (the baseline)")
    args = parser.parse_args()
    if args.lists_only:
        model = classifier.load()
        object.__setattr__(model, "thresholds", {})  # no outcome reaches a missing threshold
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    speed()
    if not args.speed_only:
        print(f"\nmodel {classifier.load().version}" + (" (switched off: lists only)" if args.lists_only else ""))
        for name in (["train", "validation", "heldout"] if args.set == "all" else [args.set]):
            quality(name, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
