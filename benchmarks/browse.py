"""N people browsing the console at a 60/min budget: pages not rendered, latency, and the MiniCRM
requests the read path made per page, with the mirror and without it.

    .venv/bin/python -m benchmarks.browse [--people 8 25] [--seconds 120] [--every 6]
                                          [--limit 60] [--window 60] [--keep DIR]
                                          [--workers 2] [--threads 8] [--mirror on off]

Starts everything of its own: a private Redis; a sandbox seeded `demo` (5,153 cards in seven
modules, 1,000 companies, 1,500 persons); a SQLite database for the console, migrated, whose
mirror is filled completely first, at a setup budget too large to pace anything (at 60/min the
backfill of card details takes hours; `--keep DIR` keeps the filled database and the sandbox's
data file in DIR, so a later run skips the fill). Then for each run (each number of people,
mirror on, then off): the sandbox again at LIMIT requests per WINDOW seconds (the console keeps
to the same budget), Redis emptied, the console under gunicorn with gunicorn.conf.py (WORKERS
processes of THREADS threads, as the Dockerfile starts it), a Celery worker (--concurrency 3)
and beat (the mirror's sync) as `make run` starts them, and PEOPLE sessions logged in through
the login form. Each person opens a random page every EVERY seconds for SECONDS seconds, their
starts spread over the first EVERY seconds: a random changelist page of a random module (any
of its pages), a random card page, a random company page or a contact search (a name's word,
an email address or a phone number's last digits), each a quarter of the time.

Printed per run: the pages opened; those not rendered (not 200, the "One moment" page of a spent
budget, or a page that had to leave something out, id="page-late"); the median and p95 of the
time until the whole answer arrived, as the person's client saw it; and the MiniCRM requests
the read path made per page: what the sandbox received during the browse (its request log)
minus what the mirror's sync spent meanwhile (the sync's own budget log in Redis,
apps.mirror.services.sync_cap, sampled every 5 s) and minus what the write queue spent (no
writes are queued: checked). Beside it, the same run with MIRROR_ENABLED=0.

Targets: 0 pages not rendered, p95 under 150 ms, under 0.05 MiniCRM requests per page.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from benchmarks.harness import (
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
    sandbox_log,
    user_create,
)

KINDS = ("changelist", "card", "company", "search")
TARGET_P95 = 0.150
TARGET_REQUESTS = 0.05
SAMPLE_SECONDS = 5.0
# The Redis sorted sets of the budgets (minicrm.ratelimit.RedisBudget): every request the console
# made, and those the mirror's sync made (its share, apps.mirror.services.sync_cap).
CONSOLE_LOG = f"minicrm:budget:{SYSTEM_ID}:log"
SYNC_LOG = f"minicrm:budget:{SYSTEM_ID}:mirror:log"


@dataclass
class Site:
    """What people can open, read from the sandbox's data file."""

    modules: dict[int, int]  # CategoryId -> changelist pages (100 cards a page)
    cards: list[int]
    companies: list[int]
    searches: list[str]

    def random_path(self, rng: random.Random) -> tuple[str, str]:
        kind = rng.choice(KINDS)
        if kind == "changelist":
            module = rng.choice(sorted(self.modules))
            return kind, f"/modules/{module}/?p={rng.randint(1, self.modules[module])}"
        if kind == "card":
            return kind, f"/cards/{rng.choice(self.cards)}/"
        if kind == "company":
            return kind, f"/contacts/{rng.choice(self.companies)}/"
        return kind, "/contacts/?" + requests.compat.urlencode({"q": rng.choice(self.searches)})


def site_of(data_file: Path) -> Site:
    with sqlite3.connect(data_file) as db:
        counts = db.execute(
            "SELECT category_id, COUNT(*) FROM projects WHERE deleted = 0 GROUP BY category_id"
        ).fetchall()
        cards = [row[0] for row in db.execute("SELECT id FROM projects WHERE deleted = 0")]
        contacts = db.execute(
            "SELECT id, type, words, phone, email FROM contacts WHERE deleted = 0"
        ).fetchall()
    searches: list[str] = []
    for _id, _type, words, phone, email in contacts:
        name = next((w for w in str(words).split() if len(w) >= 3), "")
        searches += [s for s in (name, email, str(phone)[-4:] if phone else "") if s]
    return Site(
        modules={int(c): max(1, math.ceil(n / 100)) for c, n in counts},
        cards=cards,
        companies=[row[0] for row in contacts if row[1] == "Business"],
        searches=searches,
    )


@dataclass
class Page:
    kind: str
    path: str
    seconds: float
    outcome: str  # "ok", "one moment", "page-late", "HTTP <n>", or an error's name


@dataclass
class Run:
    people: int
    mirror: bool
    pages: list[Page]
    started: float
    ended: float
    sandbox_requests: Counter[str] = field(default_factory=Counter)
    sandbox_total: int = 0
    sandbox_429: int = 0
    sync: int = 0
    console_total: int = 0
    writes: int = 0

    @property
    def read_path(self) -> int:
        return self.sandbox_total - self.sync - self.writes

    @property
    def not_rendered(self) -> int:
        return sum(1 for p in self.pages if p.outcome != "ok")


def outcome_of(answer: requests.Response) -> str:
    if answer.status_code == 200 and b'id="page-late"' in answer.content:
        return "page-late"
    if answer.status_code == 200:
        return "ok"
    if b"minicrm-error busy" in answer.content:
        return "one moment"
    return f"HTTP {answer.status_code}"


def person(
    session: requests.Session,
    url: str,
    site: Site,
    rng: random.Random,
    first: float,
    end: float,
    every: float,
    pages: list[Page],
) -> None:
    due = first
    while due < end:
        time.sleep(max(0.0, due - time.monotonic()))
        kind, path = site.random_path(rng)
        started = time.perf_counter()
        try:
            answer = session.get(url + path, timeout=90, allow_redirects=False)
            outcome = outcome_of(answer)
        except requests.RequestException as error:
            outcome = type(error).__name__
        pages.append(Page(kind, path, time.perf_counter() - started, outcome))
        due = max(due + every, time.monotonic())


class BudgetLogs:
    """Samples the budgets' logs in Redis (each keeps one window) so none of them is lost."""

    def __init__(self, redis_url: str) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.seen: dict[str, dict[str, float]] = {CONSOLE_LOG: {}, SYNC_LOG: {}}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for key, members in self.seen.items():
            entries: list[tuple[bytes, float]] = self.redis.zrange(key, 0, -1, withscores=True)  # type: ignore[assignment]
            for member, score in entries:
                members[member.decode()] = score / 1000

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def __enter__(self) -> BudgetLogs:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def count(self, key: str, start: float, end: float) -> int:
        return sum(1 for t in self.seen[key].values() if start <= t <= end)


def one_run(
    args: argparse.Namespace,
    workdir: Path,
    redis_url: str,
    site: Site,
    people: int,
    mirror: bool,
) -> Run:
    redis.Redis.from_url(redis_url).flushdb()
    data = workdir / "sandbox.sqlite3"
    label = f"{people} people, mirror {'on' if mirror else 'off'}"
    print(f"\n== {label}: starting the sandbox and the console", flush=True)
    with sandbox(
        "demo", rate_limit=args.limit, rate_window=args.window, data=data, reset=False
    ) as base_url:
        env = console_env(
            database=workdir / "console.sqlite3",
            redis_url=redis_url,
            base_url=base_url,
            limit=args.limit,
            window=args.window,
            MIRROR_ENABLED="1" if mirror else "0",
        )
        password = user_create(env, "bench")
        logs = workdir / "logs" / f"{people}-{'mirror' if mirror else 'live'}"
        with console(env, logs, workers=args.workers, threads=args.threads) as url:
            sessions = [login(url, "bench", password) for _ in range(people)]
            writes_before = _writes(env)
            pages: list[Page] = []
            rng = random.Random(f"{people}-{args.seconds}")
            print(f"   browsing for {args.seconds:g} s", flush=True)
            with BudgetLogs(redis_url) as logs_seen:
                started_wall, started = time.time(), time.monotonic()
                end = started + args.seconds
                threads = [
                    threading.Thread(
                        target=person,
                        args=(
                            session,
                            url,
                            site,
                            random.Random(rng.random()),
                            started + n * args.every / people,
                            end,
                            args.every,
                            pages,
                        ),
                        daemon=True,
                    )
                    for n, session in enumerate(sessions)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                ended_wall = time.time()
            received = [
                row
                for row in sandbox_log(base_url)
                if started_wall <= float(row["t"]) <= ended_wall
            ]
            run = Run(people, mirror, pages, started_wall, ended_wall)
            run.sandbox_total = len(received)
            run.sandbox_429 = sum(1 for row in received if row["status"] == 429)
            run.sandbox_requests = Counter(_endpoint(str(row["path"])) for row in received)
            run.sync = logs_seen.count(SYNC_LOG, started_wall, ended_wall)
            run.console_total = logs_seen.count(CONSOLE_LOG, started_wall, ended_wall)
            run.writes = _writes(env) - writes_before
    report(run, args)
    return run


def _writes(env: dict[str, str]) -> int:
    """The write queue's writes in the database (none are expected while people only read)."""
    output = manage(
        ["shell", "-c", "from apps.writes.models import Write; print(Write.objects.count())"], env
    )
    return int(output.strip().splitlines()[-1])


def _endpoint(path: str) -> str:
    """/Api/R3/Project/123 -> Project/<id>, /Api/R3/Project?... -> Project (search)."""
    parts = path.split("?", 1)[0].removeprefix("/Api/R3/").strip("/").split("/")
    return "/".join("<id>" if part.isdigit() else part for part in parts)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else math.nan


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def report(run: Run, args: argparse.Namespace) -> None:
    pages = run.pages
    times = [p.seconds for p in pages]
    outcomes = Counter(p.outcome for p in pages if p.outcome != "ok")
    print(
        f"   {len(pages)} pages; not rendered {run.not_rendered} "
        f"({run.not_rendered / max(1, len(pages)):.0%})"
        + (f": {dict(outcomes)}" if outcomes else "")
    )
    print(f"   latency: median {ms(statistics.median(times))}, p95 {ms(percentile(times, 0.95))}")
    for kind in KINDS:
        mine = [p for p in pages if p.kind == kind]
        if not mine:
            continue
        bad = sum(1 for p in mine if p.outcome != "ok")
        kind_times = [p.seconds for p in mine]
        print(
            f"     {kind:10} {len(mine):4} pages, {bad:3} not rendered, median "
            f"{ms(statistics.median(kind_times))}, p95 {ms(percentile(kind_times, 0.95))}"
        )
    print(
        f"   MiniCRM: the sandbox received {run.sandbox_total} requests during the browse "
        f"({run.sandbox_429} answered 429); the mirror's sync spent {run.sync} (its budget log "
        f"in Redis), the write queue {run.writes} (writes queued); the read path "
        f"{run.read_path} = {run.read_path / max(1, len(pages)):.3f} a page "
        f"(the console's whole budget log: {run.console_total})"
    )
    if run.sandbox_requests:
        top = ", ".join(f"{path} {n}" for path, n in run.sandbox_requests.most_common(6))
        print(f"   requests by endpoint: {top}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def summary(runs: list[Run], fill: dict[str, object], args: argparse.Namespace) -> None:
    print()
    print(
        f"demo seed; budget {args.limit} per {args.window:g} s (sandbox and console); gunicorn "
        f"{args.workers} workers x {args.threads} threads; each person a page every "
        f"{args.every:g} s for {args.seconds:g} s"
    )
    how = "reused from an earlier run" if fill.get("reused") else "made now"
    print(
        f"mirror filled completely beforehand at a SETUP budget ({fill.get('requests')} requests "
        f"in {fill.get('seconds')} s, {how}), not at {args.limit}/{args.window:g} s"
    )
    print(
        "MiniCRM requests per page (read path) = requests the sandbox received during the "
        "browse - the sync's (its budget log in Redis) - the write queue's"
    )
    header = f"{'':28}" + "".join(
        f"{f'{r.people} people, ' + ('mirror' if r.mirror else 'no mirror'):>24}" for r in runs
    )
    print(header)
    rows: list[tuple[str, list[str]]] = [
        ("pages", [str(len(r.pages)) for r in runs]),
        ("not rendered (target 0)", [str(r.not_rendered) for r in runs]),
        ("median", [ms(statistics.median([p.seconds for p in r.pages])) for r in runs]),
        (
            "p95 (target < 150 ms)",
            [ms(percentile([p.seconds for p in r.pages], 0.95)) for r in runs],
        ),
        (
            "MiniCRM req/page (< 0.05)",
            [f"{r.read_path / max(1, len(r.pages)):.3f}" for r in runs],
        ),
        ("sync requests meanwhile", [str(r.sync) for r in runs]),
    ]
    for name, values in rows:
        print(f"{name:28}" + "".join(f"{v:>24}" for v in values))
    for r in runs:
        if not r.mirror:
            continue
        p95 = percentile([p.seconds for p in r.pages], 0.95)
        per_page = r.read_path / max(1, len(r.pages))
        print(
            f"targets, {r.people} people with the mirror: 0 not rendered "
            f"{verdict(r.not_rendered == 0)}; p95 < 150 ms {verdict(p95 < TARGET_P95)}; "
            f"< 0.05 MiniCRM requests a page {verdict(per_page < TARGET_REQUESTS)}"
        )


def main() -> None:
    parser = doc_parser(__doc__)
    parser.add_argument(
        "--people", type=int, nargs="+", default=[8, 25], metavar="N", help="one run per number"
    )
    parser.add_argument("--seconds", type=float, default=120.0, help="each run's length")
    parser.add_argument("--every", type=float, default=6.0, help="seconds between a person's pages")
    parser.add_argument("--limit", type=int, default=60, help="the budget: requests per window")
    parser.add_argument("--window", type=float, default=60.0, help="the budget's window (s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn process")
    parser.add_argument(
        "--mirror",
        nargs="+",
        choices=["on", "off"],
        default=["on", "off"],
        help="runs with the mirror on (MIRROR_ENABLED=1), off, or both",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the filled mirror (and the sandbox's data file) in DIR and reuse it later",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-browse-") as tmp, private_redis() as redis_url:
        workdir = (args.keep or Path(tmp)).resolve()
        fill = fill_mirror(workdir, redis_url)
        print(f"mirror filled at a setup budget: {json.dumps(fill)}", flush=True)
        site = site_of(workdir / "sandbox.sqlite3")
        runs = [
            one_run(args, workdir, redis_url, site, people, mirror == "on")
            for people in args.people
            for mirror in args.mirror
        ]
        summary(runs, fill, args)


if __name__ == "__main__":
    run_main(main)
