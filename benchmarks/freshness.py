"""How long a change made straight in MiniCRM takes to show on the console's card page: with the
sandbox's webhooks subscribed, and with the mirror's poll alone.

    .venv/bin/python -m benchmarks.freshness [--changes 5] [--poll-seconds 60]
                                             [--mode webhooks poll] [--limit 60] [--window 60]
                                             [--keep DIR]

Starts everything of its own: a private Redis, a sandbox seeded `demo` and a SQLite database
whose mirror is filled completely first at a setup budget (as benchmarks.browse does; `--keep
DIR` shares the filled database with it). Then for each mode: the sandbox again at LIMIT
requests per WINDOW seconds (the console keeps to the same budget) with no webhook
subscriptions, Redis emptied, the console under gunicorn (gunicorn.conf.py) with a Celery worker
and beat as `make run` starts them, and one person logged in.

- webhooks: `manage.py mirror_subscribe` subscribes the mirror's handlers in the sandbox, as
  `make run` does (MIRROR_POLL_SECONDS stays at its default, 60). Target: under 15 s.
- poll: no subscriptions; MIRROR_POLL_SECONDS is POLL_SECONDS. Target: under POLL_SECONDS + 15.

Each of CHANGES changes: the person opens a card's page and, after a random wait (1 to 5 s; in
the poll mode 1 to POLL_SECONDS, so that changes land anywhere in the poll's period), as another
MiniCRM user would, a PUT to the sandbox's own /Api/R3/Project/<id> (its credentials) gives the
card a new name; the person's client reloads the card page every 0.5 s until the new name
shows. Printed: the seconds from the PUT's answer to the first page showing it, each, their
median and max.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import redis
import requests

from benchmarks.browse import site_of
from benchmarks.harness import (
    API_KEY,
    SYSTEM_ID,
    console,
    console_env,
    doc_parser,
    fill_mirror,
    login,
    manage,
    private_redis,
    run_main,
    sandbox,
    sandbox_put,
    user_create,
)

RELOAD_SECONDS = 0.5
WEBHOOKS_TARGET = 15.0


def subscriptions_clear(base_url: str) -> None:
    """No webhook subscriptions in the sandbox (its data file keeps them between starts)."""
    auth = (SYSTEM_ID, API_KEY)
    hooks = requests.get(f"{base_url}/_sandbox/webhooks", auth=auth, timeout=10).json()
    for hook in hooks:
        requests.delete(f"{base_url}/_sandbox/webhooks/{hook['Id']}", auth=auth, timeout=10)


def seen_after(session: requests.Session, url: str, value: str, timeout: float) -> float | None:
    """Seconds until the page shows `value` (None: not within `timeout`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            answer = session.get(url, timeout=30)
            if answer.status_code == 200 and value in answer.text:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(RELOAD_SECONDS)
    return None


def one_mode(
    args: argparse.Namespace, workdir: Path, redis_url: str, cards: list[int], mode: str
) -> list[float | None]:
    redis.Redis.from_url(redis_url).flushdb()
    poll_seconds = args.poll_seconds if mode == "poll" else 60.0
    print(
        f"\n== {mode}: MIRROR_POLL_SECONDS={poll_seconds:g}, "
        f"{'webhooks subscribed' if mode == 'webhooks' else 'no webhooks'}",
        flush=True,
    )
    with sandbox(
        "demo",
        rate_limit=args.limit,
        rate_window=args.window,
        data=workdir / "sandbox.sqlite3",
        reset=False,
    ) as base_url:
        subscriptions_clear(base_url)
        env = console_env(
            database=workdir / "console.sqlite3",
            redis_url=redis_url,
            base_url=base_url,
            limit=args.limit,
            window=args.window,
            MIRROR_POLL_SECONDS=f"{poll_seconds:g}",
        )
        password = user_create(env, "bench")
        with console(env, workdir / "logs" / f"freshness-{mode}") as url:
            if mode == "webhooks":
                for line in manage(["mirror_subscribe"], {**env, "CONSOLE_BASE_URL": url}).split(
                    "\n"
                ):
                    if line.startswith("Mirror"):
                        print(f"   {line}")
            session = login(url, "bench", password)
            rng = random.Random(mode)
            results: list[float | None] = []
            stamp = time.strftime("%H%M%S")
            for number, card_id in enumerate(rng.sample(cards, args.changes), 1):
                page = f"{url}/cards/{card_id}/"
                session.get(page, timeout=30)  # the person has the card open
                # Poll only: a change lands anywhere in the poll's period, not just after a poll.
                time.sleep(rng.uniform(1, poll_seconds if mode == "poll" else 5))
                value = f"Freshness {mode} {stamp} {number}"
                sandbox_put(base_url, f"/Api/R3/Project/{card_id}", {"Name": value})
                seconds = seen_after(session, page, value, timeout=poll_seconds + 120)
                results.append(seconds)
                shown = "not within the wait" if seconds is None else f"{seconds:.1f} s"
                print(f"   change {number}: card {card_id} renamed; shown after {shown}")
    return results


def describe(results: list[float | None], target: float) -> str:
    seen = [r for r in results if r is not None]
    missed = len(results) - len(seen)
    if not seen:
        return f"never shown ({missed} of {len(results)}); target < {target:g} s: MISSED"
    worst = max(seen)
    met = not missed and worst < target
    return (
        f"median {statistics.median(seen):.1f} s, max {worst:.1f} s over {len(results)} changes"
        + (f", {missed} never shown" if missed else "")
        + f"; target < {target:g} s: {'met' if met else 'MISSED'}"
    )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument("--changes", type=int, default=5, help="changes per mode")
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=60.0,
        help="MIRROR_POLL_SECONDS in the poll mode",
    )
    parser.add_argument(
        "--mode",
        nargs="+",
        choices=["webhooks", "poll"],
        default=["webhooks", "poll"],
        help="the modes to measure, in this order",
    )
    parser.add_argument("--limit", type=int, default=60, help="the budget: requests per window")
    parser.add_argument("--window", type=float, default=60.0, help="the budget's window (s)")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the filled mirror (and the sandbox's data file) in DIR and reuse it later",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-freshness-") as tmp,
        private_redis() as redis_url,
    ):
        workdir = (args.keep or Path(tmp)).resolve()
        fill = fill_mirror(workdir, redis_url)
        print(
            f"mirror filled completely beforehand at a SETUP budget ({fill['requests']} requests "
            f"in {fill['seconds']} s, {'reused' if fill.get('reused') else 'made now'})",
            flush=True,
        )
        cards = site_of(workdir / "sandbox.sqlite3").cards
        results = {mode: one_mode(args, workdir, redis_url, cards, mode) for mode in args.mode}
    print()
    print(
        f"demo seed; budget {args.limit} per {args.window:g} s (sandbox and console); a card "
        f"renamed by a PUT to the sandbox, the card page reloaded every {RELOAD_SECONDS:g} s"
    )
    for mode, seconds in results.items():
        target = WEBHOOKS_TARGET if mode == "webhooks" else args.poll_seconds + 15
        label = "with webhooks" if mode == "webhooks" else f"poll only ({args.poll_seconds:g} s)"
        print(f"{label}: {describe(seconds, target)}")


if __name__ == "__main__":
    run_main(main)
