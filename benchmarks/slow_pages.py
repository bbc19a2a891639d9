"""How long a company page and a card page take when every MiniCRM request is slow.

    .venv/bin/python -m benchmarks.slow_pages [--latency 0 1 3] [--bound 8]

Starts a private Redis and a sandbox seeded `doc`, migrates a temporary SQLite database and
logs a user in with Django's test client (in-process: the time is the server's). For each
injected latency (the sandbox's /_sandbox/faults), with every cache emptied first, it opens
the company page /contacts/7505/ (its persons and its cards in each of the doc seed's seven
modules) and the card page /cards/2056/, and prints the page's time, the MiniCRM requests it
sent, and whether it had to leave something out (the page's note) at the page bound
PAGE_MINICRM_BUDGET_SECONDS. One request after another, the company page would take
(requests x latency); side by side it takes about two latencies.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

import redis
import requests

from benchmarks.changelist import BIG_BUDGET, console_client
from benchmarks.harness import API_KEY, SYSTEM_ID, private_redis, sandbox, sandbox_log

PAGES = {"company page": "/contacts/7505/", "card page": "/cards/2056/"}


def set_latency(base_url: str, latency: float) -> None:
    answer = requests.post(
        f"{base_url}/_sandbox/faults",
        json={"latency": latency},
        auth=(SYSTEM_ID, API_KEY),
        timeout=10,
    )
    answer.raise_for_status()


def measure(client: Any, base_url: str, redis_url: str, path: str) -> tuple[float, int, bool]:
    from apps.core.parallel import wait_idle

    wait_idle()
    redis.Redis.from_url(redis_url).flushdb()
    sandbox_log(base_url, clear=True)
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    calls = len(sandbox_log(base_url))
    return elapsed, calls, b'id="page-late"' in response.content or response.status_code != 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 1.0, 3.0])
    parser.add_argument("--bound", type=float, default=8.0)
    args = parser.parse_args()
    os.environ["PAGE_MINICRM_BUDGET_SECONDS"] = str(args.bound)
    with (
        tempfile.TemporaryDirectory() as workdir,
        private_redis() as redis_url,
        sandbox("doc", rate_limit=BIG_BUDGET) as base_url,
    ):
        client = console_client(f"{workdir}/benchmark.sqlite3", redis_url, base_url)
        print(f"doc seed; page bound {args.bound:g} s; every cache emptied before each page")
        for latency in args.latency:
            set_latency(base_url, latency)
            for name, path in PAGES.items():
                elapsed, calls, partial = measure(client, base_url, redis_url, path)
                print(
                    f"latency {latency:g} s, {name} {path}: {elapsed:.2f} s, "
                    f"{calls} MiniCRM requests (one after another: {calls * latency:.0f} s), "
                    f"{'something left out (note)' if partial else 'complete'}"
                )
        set_latency(base_url, 0)


if __name__ == "__main__":
    main()
