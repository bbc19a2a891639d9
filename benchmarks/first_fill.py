"""The mirror's first fill of the demo seed at a 60/min budget, from an empty mirror: how long
until every list is complete, the requests per minute the sync used, and the backfill's rate
and projected total.

    .venv/bin/python -m benchmarks.first_fill [--limit 60] [--window 60]
                                              [--backfill-seconds 120] [--backfill-full]

Starts everything of its own: a private Redis, a sandbox seeded `demo` (5,153 cards in seven
modules, 2,500 contacts) at LIMIT requests per WINDOW seconds, a SQLite database for the console
(migrated, its mirror empty) with the same budget, and a Celery worker (--concurrency 3) and
beat as `make run` starts them: beat starts the mirror's sync, which the worker runs within its
share of the budget (MIRROR_BUDGET_SHARE). Nobody browses, so every request the sandbox
receives is the sync's.

Printed: the seconds until every module's and the contacts' list pass has finished
(SyncState.filled_at set for all; target under 3 minutes), from the start of the worker and
from the sync's first request; the requests per minute the sync used (the sandbox's request
log, per full minute) and the 429s; then the backfill (each card's detail, to-dos and status
history, 3 requests, and each contact's detail, 1) measured for BACKFILL_SECONDS: records and
requests per minute, and the projected total time and requests of the whole backfill. With
--backfill-full it runs the backfill to its end (hours at 60/min) and prints what it took.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import (
    celery,
    console_env,
    doc_parser,
    manage,
    private_redis,
    run_main,
    sandbox,
    sandbox_log,
)

LISTS_TARGET = 180.0
CARD_REQUESTS = 3  # detail, to-do list, status history (apps.mirror.services.CARD_REQUESTS)
PROGRESS_SECONDS = 30.0


@dataclass
class Counts:
    cards: int
    cards_done: int
    contacts: int
    contacts_done: int
    lists: int
    lists_done: int

    @property
    def missing_requests(self) -> int:
        return (self.cards - self.cards_done) * CARD_REQUESTS + self.contacts - self.contacts_done

    def line(self) -> str:
        return (
            f"lists {self.lists_done}/{self.lists} done; cards {self.cards} mirrored, "
            f"{self.cards_done} in full; contacts {self.contacts}, {self.contacts_done} in full"
        )


def counts(database: Path) -> Counts:
    """Where the mirror stands, read from the console's SQLite file (the worker writes it)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:

        def one(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        modules = [row[0] for row in db.execute("SELECT id FROM mirror_module WHERE listed = 1")]
        keys = [f"module:{m}" for m in modules] + ["contacts"]
        marks = ",".join("?" * len(keys))
        done = db.execute(
            f"SELECT COUNT(*) FROM mirror_syncstate WHERE key IN ({marks}) "  # noqa: S608
            "AND filled_at IS NOT NULL",
            keys,
        ).fetchone()[0]
        return Counts(
            cards=one("SELECT COUNT(*) FROM mirror_card WHERE deleted = 0 AND category_id != 0"),
            cards_done=one(
                "SELECT COUNT(*) FROM mirror_card WHERE deleted = 0 AND completeness = 'detail' "
                "AND todos_synced_at IS NOT NULL AND history_synced_at IS NOT NULL"
            ),
            contacts=one("SELECT COUNT(*) FROM mirror_contact WHERE deleted = 0"),
            contacts_done=one(
                "SELECT COUNT(*) FROM mirror_contact WHERE deleted = 0 AND completeness = 'detail'"
            ),
            # No module known yet: the lists cannot be complete.
            lists=len(keys) if modules else 0,
            lists_done=int(done) if modules else 0,
        )


def per_minute(times: list[float], start: float, end: float) -> list[int]:
    """Requests in each full minute from `start` (a last, partial minute left out)."""
    minutes = int((end - start) // 60)
    return [
        sum(1 for t in times if start + k * 60 <= t < start + (k + 1) * 60) for k in range(minutes)
    ]


def busiest(times: list[float]) -> int:
    """The most requests in any 60 s (the budget's sliding window)."""
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 60:
            first += 1
        most = max(most, last - first + 1)
    return most


def duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--limit", type=int, default=60, help="the budget: requests per window")
    parser.add_argument("--window", type=float, default=60.0, help="the budget's window (s)")
    parser.add_argument(
        "--backfill-seconds", type=float, default=120.0, help="how long to measure the backfill"
    )
    parser.add_argument(
        "--backfill-full", action="store_true", help="run the backfill to its end instead"
    )
    parser.add_argument(
        "--lists-timeout", type=float, default=900.0, help="give up on the lists after this (s)"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-first-fill-") as tmp,
        private_redis() as redis_url,
    ):
        workdir = Path(tmp)
        database = workdir / "console.sqlite3"
        with sandbox("demo", rate_limit=args.limit, rate_window=args.window) as base_url:
            env = console_env(
                database=database,
                redis_url=redis_url,
                base_url=base_url,
                limit=args.limit,
                window=args.window,
            )
            manage(["migrate", "--verbosity", "0"], env)
            sandbox_log(base_url, clear=True)
            share = float(env.get("MIRROR_BUDGET_SHARE", "0.6"))
            print(
                f"demo seed, empty mirror; budget {args.limit} per {args.window:g} s (sandbox and "
                f"console); the sync's share {math.floor(args.limit * share)} (MIRROR_BUDGET_SHARE "
                f"{share:g}); Celery worker and beat as make run starts them",
                flush=True,
            )
            started = time.time()
            with celery(env, workdir / "logs"):
                ready = time.time()
                lists_done_at = None
                shown = 0.0
                while time.time() - started < args.lists_timeout:
                    now = counts(database)
                    if now.lists and now.lists_done == now.lists:
                        lists_done_at = time.time()
                        break
                    if time.time() - shown >= PROGRESS_SECONDS:
                        shown = time.time()
                        print(f"  {shown - started:5.0f} s: {now.line()}", flush=True)
                    time.sleep(1)
                at_lists = counts(database)
                print(f"  {time.time() - started:5.0f} s: {at_lists.line()}", flush=True)
                if lists_done_at is None:
                    print(f"the lists were not complete after {args.lists_timeout:g} s")
                    return
                backfill_end = lists_done_at + args.backfill_seconds
                while args.backfill_full or time.time() < backfill_end:
                    time.sleep(5)
                    now = counts(database)
                    if not now.missing_requests:
                        break
                    if time.time() - shown >= PROGRESS_SECONDS:
                        shown = time.time()
                        print(f"  {shown - started:5.0f} s: {now.line()}", flush=True)
                ended = time.time()
                at_end = counts(database)
            log = sandbox_log(base_url)
    report(args, log, started, ready, lists_done_at, ended, at_lists, at_end)


def report(
    args: argparse.Namespace,
    log: list[dict[str, float]],
    started: float,
    ready: float,
    lists_done_at: float,
    ended: float,
    at_lists: Counts,
    at_end: Counts,
) -> None:
    times = sorted(float(row["t"]) for row in log)
    first = times[0] if times else ready
    list_times = [t for t in times if t <= lists_done_at]
    backfill_times = [t for t in times if lists_done_at < t <= ended]
    throttled = sum(1 for row in log if row["status"] == 429)
    lists_took = lists_done_at - started
    print()
    print(
        f"lists complete (every module's and the contacts' list pass, filled_at set) after "
        f"{lists_took:.0f} s from starting the worker and beat ({lists_done_at - first:.0f} s "
        f"from the sync's first request); target < {LISTS_TARGET:.0f} s: "
        f"{'met' if lists_took < LISTS_TARGET else 'MISSED'}"
    )
    minutes = per_minute(list_times, first, lists_done_at)
    print(
        f"  {len(list_times)} requests until then; per full minute: "
        f"{', '.join(map(str, minutes)) or 'none (under a minute)'}; at most "
        f"{busiest(list_times)} in any 60 s"
    )
    print(
        f"  mirrored by then: {at_lists.cards} cards, {at_lists.contacts} contacts (rows); "
        f"429s in the whole run: {throttled}"
    )
    spent = ended - lists_done_at
    done_cards = at_end.cards_done - at_lists.cards_done
    done_contacts = at_end.contacts_done - at_lists.contacts_done
    rate = len(backfill_times) / spent if spent > 0 else 0.0
    minutes = per_minute(backfill_times, lists_done_at, ended)
    print(
        f"backfill measured for {spent:.0f} s: {len(backfill_times)} requests "
        f"({rate * 60:.1f} a minute; per full minute: {', '.join(map(str, minutes)) or '-'}; "
        f"at most {busiest(backfill_times)} in any 60 s), "
        f"{done_cards} cards and {done_contacts} contacts read in full "
        f"({(done_cards + done_contacts) / max(1e-9, spent) * 60:.1f} records a minute)"
    )
    total_requests = at_lists.missing_requests
    left = at_end.missing_requests
    if not left:
        print(
            f"backfill complete after {duration(spent)} ({len(backfill_times)} requests); "
            f"the whole fill took {duration(ended - started)}"
        )
    elif rate > 0:
        cards_left = at_lists.cards - at_lists.cards_done
        contacts_left = at_lists.contacts - at_lists.contacts_done
        whole = total_requests / rate
        print(
            f"backfill projected: {total_requests:,} requests in all ({cards_left} cards x "
            f"{CARD_REQUESTS} + {contacts_left} contacts), {left:,} still to do: about "
            f"{duration(whole)} in all at {rate * 60:.1f} requests a minute (done about "
            f"{duration(lists_took + whole)} after the start)"
        )


if __name__ == "__main__":
    run_main(main)
