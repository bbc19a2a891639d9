"""The write queue against the budget: N card updates sent by K Celery workers.

    .venv/bin/python -m benchmarks.write_queue [--updates 1000] [--workers 4]
                                               [--limit 120] [--window 10]

Sets up everything of its own: a temporary SQLite database for the console (migrated in a
subprocess), a private Redis, a demo sandbox whose budget is LIMIT requests per WINDOW
seconds (the console keeps to the same budget), and K `celery worker --concurrency 1`
processes. It then queues UPDATES card updates from this process (the `Megjegyzes` field of
as many distinct cards of the demo's sales module, each set to a value of its own, through
`apps.cards.services.card_update`), waits until every write is settled, and prints:

- the writes MiniCRM accepted in each full window since the first one, against the budget;
- the 429s MiniCRM answered;
- duplicates: cards written (answered 200) more than once, from the sandbox's request log;
- losses: cards whose value is not the queued one, read from the sandbox's data file after
  it stopped (reading them back through the API would cost budget too), and writes that
  did not end done.

No person uses the console meanwhile, so the workers may use the whole budget (the share
reserved for interactive requests applies only while someone is browsing).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import API_KEY, ROOT, SYSTEM_ID, private_redis, sandbox, sandbox_log

CATEGORY = 20  # the demo's sales module: cards 100001..101000
FIRST_CARD = 100001
FIELD = "Megjegyzes"


@dataclass
class Run:
    values: dict[int, str]  # card id -> the value queued for it
    queued_in: float
    sent_in: float
    states: dict[str, int]
    log: list[dict[str, Any]]


def console_env(workdir: Path, redis_url: str, base_url: str, args: argparse.Namespace) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crmconsole.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'console.sqlite3'}",
        "REDIS_URL": redis_url,
        "MINICRM_BASE_URL": base_url,
        "MINICRM_SYSTEM_ID": SYSTEM_ID,
        "MINICRM_API_KEY": API_KEY,
        "MINICRM_RATE_LIMIT": str(args.limit),
        "MINICRM_RATE_WINDOW": str(args.window),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def start_workers(count: int, env: dict, workdir: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for number in range(count):
        with (workdir / f"worker-{number}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "crmconsole",
                        "worker",
                        "--concurrency",
                        "1",
                        "--hostname",
                        f"bench{number}@%h",
                        "--loglevel",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    deadline = time.monotonic() + 60
    for number, worker in enumerate(workers):
        log_file = workdir / f"worker-{number}.log"
        while "ready" not in log_file.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                stop_workers(workers)
                output = log_file.read_text(errors="replace")[-3000:]
                sys.exit(f"worker {number} did not start:\n{output}")
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def queue_and_wait(args: argparse.Namespace, base_url: str, workers: int) -> Run:
    """In this process, with Django set up from the environment: queue, then wait."""
    import django

    django.setup()
    from django.db import transaction

    from apps.cards.services import card_update
    from apps.core.minicrm import minicrm_client
    from apps.writes.models import Write
    from minicrm import Priority

    # The schema the services validate with, read as background work (no interactive demand
    # is recorded, which would keep the reserved share from the workers) and cached in Redis.
    minicrm_client(Priority.BULK).schemas.project(CATEGORY)
    sandbox_log(base_url, clear=True)

    stamp = time.strftime("%H%M%S")
    values = {
        card_id: f"benchmark {stamp} #{card_id - FIRST_CARD + 1}"
        for card_id in range(FIRST_CARD, FIRST_CARD + args.updates)
    }
    started = time.monotonic()
    with transaction.atomic():
        for card_id, value in values.items():
            card_update(card_id=card_id, category_id=CATEGORY, changes={FIELD: value})
    queued_in = time.monotonic() - started
    print(f"queued {len(values)} card updates in {queued_in:.1f} s; sending with {workers} workers")

    expected = args.updates / (args.limit / args.window)
    deadline = time.monotonic() + expected * 3 + 120
    reported = 0.0
    while True:
        states = Counter(Write.objects.values_list("state", flat=True))
        pending = sum(states[s] for s in Write.PENDING_STATES)
        elapsed = time.monotonic() - started
        if not pending or time.monotonic() > deadline:
            break
        if elapsed - reported >= 15:
            reported = elapsed
            print(f"  {elapsed:4.0f} s: {states[Write.State.DONE]} done, {pending} pending")
        time.sleep(0.5)
    sent_in = time.monotonic() - started
    return Run(values, queued_in, sent_in, dict(states), sandbox_log(base_url))


def per_window(times: list[float], window: float) -> list[int]:
    """Writes in each full window from the first write on (a last, partial window is left out)."""
    if not times:
        return []
    first, last = times[0], times[-1]
    full = int((last - first) // window)
    return [
        sum(1 for t in times if first + k * window <= t < first + (k + 1) * window)
        for k in range(full)
    ]


def stored_values(data_file: Path, card_ids: list[int]) -> dict[int, str]:
    """What the sandbox stored for the cards (its `projects` table holds each card as JSON)."""
    with sqlite3.connect(data_file) as db:
        rows = db.execute(
            "SELECT id, data FROM projects WHERE id BETWEEN ? AND ?",
            (min(card_ids), max(card_ids)),
        ).fetchall()
    return {int(card_id): str(json.loads(data).get(FIELD, "")) for card_id, data in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not 0 < args.updates <= 1000:
        sys.exit("--updates: the demo's sales module has 1,000 cards")
    limit, window = args.limit, args.window
    print(
        f"budget: {limit} requests per {window:g} s (sandbox and console); "
        f"{args.updates} card updates, {args.workers} workers"
    )
    with tempfile.TemporaryDirectory(prefix="bench-write-queue-") as tmp:
        workdir = Path(tmp)
        data_file = workdir / "sandbox.sqlite3"
        with (
            private_redis() as redis_url,
            sandbox("demo", rate_limit=limit, rate_window=window, data=data_file) as base_url,
        ):
            env = console_env(workdir, redis_url, base_url, args)
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
            workers = start_workers(args.workers, env, workdir)
            try:
                run = queue_and_wait(args, base_url, len(workers))
            finally:
                stop_workers(workers)
        # The sandbox has stopped: read what it stored.
        stored = stored_values(data_file, list(run.values))

    puts = [row for row in run.log if row["method"] == "PUT"]
    accepted = sorted(row["t"] for row in puts if row["status"] == 200)
    throttled = sum(1 for row in run.log if row["status"] == 429)
    others = Counter(row["status"] for row in run.log if row["status"] not in (200, 429))
    per_card = Counter(row["path"] for row in puts if row["status"] == 200)
    wanted = {f"/Api/R3/Project/{card_id}" for card_id in run.values}
    duplicates = sum(1 for path, n in per_card.items() if n > 1)
    strays = sum(1 for path in per_card if path not in wanted)
    lost = sorted(card_id for card_id, value in run.values.items() if stored.get(card_id) != value)
    unfinished = sum(n for state, n in run.states.items() if state != "done")

    windows = per_window(accepted, window)
    ratios = ", ".join(f"{n}/{limit} ({n / limit:.0%})" for n in windows)
    rate = len(accepted) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
    print(f"sent in {run.sent_in:.1f} s: {len(accepted)} writes accepted, {rate:.2f} per s")
    print(f"writes per full window: {ratios or 'none (the run was shorter than a window)'}")
    if windows:
        print(
            f"budget used per full window: min {min(windows) / limit:.1%}, "
            f"mean {sum(windows) / len(windows) / limit:.1%}"
        )
    print(f"other requests: {len(run.log) - len(puts)}; other answers: {dict(others) or 'none'}")
    print(f"429s: {throttled}")
    print(f"duplicates: {duplicates} (cards written more than once); stray writes: {strays}")
    print(f"losses: {len(lost)} (cards without their queued value); writes not done: {unfinished}")
    target = (
        windows
        and min(windows) >= 0.95 * limit
        and not throttled
        and not duplicates
        and not strays
        and not lost
        and not unfinished
    )
    print(
        "target (>= 95% of the budget in every full window, no 429, duplicate or loss): "
        + ("met" if target else "NOT met")
    )
    if not target:
        sys.exit(1)


if __name__ == "__main__":
    main()
