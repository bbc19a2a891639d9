"""How well K processes share the MiniCRM budget, and what a bulk job costs the web UI.

    .venv/bin/python -m benchmarks.budget [--limit 60] [--window 10] [--windows 3]

Starts a private Redis and a sandbox whose budget is LIMIT requests per WINDOW seconds, then
for K = 1, 4 and 8 processes sending bulk requests as fast as the shared budget allows,
prints the requests the sandbox received per full window against the budget and the 429s.
Last, while 4 bulk processes saturate the budget, it times interactive requests and prints
the wait they add over an idle budget.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from typing import Any

import redis

from benchmarks.harness import API_KEY, SYSTEM_ID, private_redis, sandbox, sandbox_log
from minicrm import MiniCRMClient, Priority
from minicrm.ratelimit import RedisBudget


def make_client(
    base_url: str, redis_url: str, limit: int, window: float, priority: Priority
) -> MiniCRMClient:
    budget = RedisBudget(
        redis.Redis.from_url(redis_url), system_id=SYSTEM_ID, limit=limit, window=window
    )
    return MiniCRMClient(
        system_id=SYSTEM_ID,
        api_key=API_KEY,
        base_url=base_url,
        budget=budget,
        priority=priority,
        deadline=3600,
    )


def bulk_process(
    base_url: str, redis_url: str, limit: int, window: float, stop_at: float, results: Any
) -> None:
    client = make_client(base_url, redis_url, limit, window, Priority.BULK)
    sent = 0
    while time.time() < stop_at:
        client.categories.list()
        sent += 1
    results.put(sent)


def start_bulk(
    count: int, base_url: str, redis_url: str, limit: int, window: float, seconds: float
) -> tuple[list[Any], Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    stop_at = time.time() + seconds
    processes = [
        context.Process(
            target=bulk_process, args=(base_url, redis_url, limit, window, stop_at, results)
        )
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    return processes, results


def windows_used(log: list[dict[str, Any]], window: float, windows: int) -> list[int]:
    times = sorted(entry["t"] for entry in log if entry["status"] == 200)
    if not times:
        return [0] * windows
    first = times[0]
    return [
        sum(1 for t in times if first + k * window <= t < first + (k + 1) * window)
        for k in range(windows)
    ]


def interactive_waits(
    base_url: str, redis_url: str, limit: int, window: float, samples: int
) -> list[float]:
    client = make_client(base_url, redis_url, limit, window, Priority.INTERACTIVE)
    waits = []
    for _ in range(samples):
        started = time.monotonic()
        client.categories.list()
        waits.append(time.monotonic() - started)
        time.sleep(window / samples)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--windows", type=int, default=3)
    args = parser.parse_args()
    limit, window = args.limit, args.window
    print(f"budget: {limit} requests per {window:g} s (sandbox and client)")
    with private_redis() as redis_url, sandbox(rate_limit=limit, rate_window=window) as base_url:
        for count in (1, 4, 8):
            redis.Redis.from_url(redis_url).flushdb()
            time.sleep(window + 0.5)  # let the sandbox's own window empty
            sandbox_log(base_url, clear=True)
            processes, results = start_bulk(
                count, base_url, redis_url, limit, window, window * args.windows + 1
            )
            sent = sum(results.get() for _ in processes)
            for process in processes:
                process.join()
            log = sandbox_log(base_url)
            used = windows_used(log, window, args.windows)
            ratios = ", ".join(f"{n}/{limit} ({n / limit:.0%})" for n in used)
            throttled = sum(1 for entry in log if entry["status"] == 429)
            print(f"K={count}: sent {sent}; per window {ratios}; 429s: {throttled}")

        redis.Redis.from_url(redis_url).flushdb()
        time.sleep(window + 0.5)
        idle = interactive_waits(base_url, redis_url, limit, window, 10)
        processes, results = start_bulk(4, base_url, redis_url, limit, window, window * 3)
        time.sleep(window)  # let the bulk job saturate the budget first
        busy = interactive_waits(base_url, redis_url, limit, window, 10)
        for _ in processes:
            results.get()
        for process in processes:
            process.join()

        def describe(values: list[float]) -> str:
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"

        print(f"interactive request, idle budget: {describe(idle)}")
        print(f"interactive request, budget saturated by 4 bulk processes: {describe(busy)}")


if __name__ == "__main__":
    main()
