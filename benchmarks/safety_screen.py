"""Benchmark: the safety screen on the labelled set, and its speed.

    /tmp/venv/bin/python benchmarks/safety_screen.py [--misses] [--rounds 20]

Prints, per language: recall for each category (crisis also by kind) and the false-positive rate
on the negatives (near misses, idioms, everyday talk), with counts; then the mean time of one
`screen()` call over every phrasing of the set, and over one long message.

Recall counts a line as caught when the verdict is its category (for an "ambiguous" line a
"crisis" verdict counts too). The set is tests/safety_set/*.tsv; the same numbers are asserted as
floors by tests/test_safety_set.py. --misses lists every missed or wrongly flagged phrasing.

Timing: "first call" is each phrasing screened once with an empty misspelling cache (as for a
message with words not seen before); "steady" is the mean over --rounds further passes. The phrase
files are loaded and compiled before timing starts (once per process in the bot too).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from dialogs import screen as screen_module  # noqa: E402
from dialogs.screen import AMBIGUOUS, CATEGORIES, CRISIS, EATING_DISORDER, RED_FLAG  # noqa: E402
from test_safety_set import KINDS, LANGUAGES, NONE, load_set, measure  # noqa: E402

LABELS = {CRISIS: "crisis", AMBIGUOUS: "ambiguous", EATING_DISORDER: "eating disorder", RED_FLAG: "red flag"}


def cell(tally) -> str:
    return f"{tally.rate:6.1%} ({tally.hits:>3}/{tally.total:<3})" if tally.total else f"{'-':>15}"


def fp_cell(tally) -> str:
    if not tally.total:
        return f"{'-':>15}"
    flagged = tally.total - tally.hits
    return f"{flagged / tally.total:6.1%} ({flagged:>3}/{tally.total:<3})"


def table(result) -> None:
    columns = [*LANGUAGES, "all"]
    print(f"{'':28}" + "".join(f"{c:>17}" for c in columns))
    rows = []
    for category in CATEGORIES:
        rows.append((f"{LABELS[category]} recall", category, None))
        if category == CRISIS:
            rows += [(f"  {kind}", category, kind) for kind in sorted(KINDS[CRISIS])]
    for label, category, kind in rows:
        print(f"{label:28}" + "".join(f"{cell(result.tally(None if c == 'all' else c, category, kind)):>17}" for c in columns))
    print(f"{'false positives (negatives)':28}" + "".join(
        f"{fp_cell(result.tally(None if c == 'all' else c, NONE)):>17}" for c in columns))
    for kind in sorted(KINDS[NONE]):
        print(f"{'  ' + kind:28}" + "".join(
            f"{fp_cell(result.tally(None if c == 'all' else c, NONE, kind)):>17}" for c in columns))
    print(f"{'phrasings':28}" + "".join(f"{len(load_set(c)) if c != 'all' else len(result.verdicts):>17}" for c in columns))


def timing(rounds: int) -> None:
    texts = [line.text for language in LANGUAGES for line in load_set(language)]
    start = time.perf_counter()
    compiled = screen_module.compile_phrases(screen_module.load_phrases())
    compile_ms = (time.perf_counter() - start) * 1000
    screen_with = screen_module.screen_with

    start = time.perf_counter()
    for text in texts:
        screen_with(text, compiled)
    first = (time.perf_counter() - start) / len(texts) * 1e6

    passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            screen_with(text, compiled)
        passes.append((time.perf_counter() - start) / len(texts) * 1e6)

    filler = "my back hurts today and I walked to the shop then rested on the sofa with tea "
    long_text = (filler * 60)[:4000]
    long_passes = []
    for _ in range(rounds):
        start = time.perf_counter()
        screen_with(long_text, compiled)
        long_passes.append((time.perf_counter() - start) * 1e6)

    print(f"loading and compiling the phrase files: {compile_ms:.0f} ms (once per process)")
    print(f"mean per screen() call over the {len(texts)} phrasings: first call {first:.0f} µs, "
          f"steady {statistics.mean(passes):.0f} µs (median pass {statistics.median(passes):.0f} µs)")
    print(f"one 4,000-character message: {statistics.median(long_passes):.0f} µs (median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every missed or wrongly flagged phrasing")
    parser.add_argument("--rounds", type=int, default=20, help="timing passes over the set (default 20)")
    args = parser.parse_args()

    result = measure()
    print("Safety screen on the labelled set (tests/safety_set): recall per category, false-positive rate")
    print()
    table(result)
    print()
    if args.misses:
        print("missed or wrongly flagged:")
        for line in result.failures():
            print("  " + line)
        print()
    timing(args.rounds)


if __name__ == "__main__":
    main()
