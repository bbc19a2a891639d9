"""The reads a page needs from MiniCRM, sent side by side and waited for up to the page's bound.

A slow MiniCRM (seconds a request) must not make a page wait for the sum of its requests, nor
past PAGE_MINICRM_BUDGET_SECONDS: `gather` runs the reads in a small pool of threads (each
thread has its own client and HTTP session: `requests.Session` is not thread-safe) and
returns what arrived in time; the page says what is missing. A read that arrives late still
fills the read cache, so the next visit has it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from minicrm import RequestTimeout

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running: set[Future[Any]] = set()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.PAGE_MINICRM_THREADS, thread_name_prefix="minicrm-read"
            )
        return _pool


class PageDeadline:
    """When a page stops waiting for MiniCRM (PAGE_MINICRM_BUDGET_SECONDS from its start)."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = settings.PAGE_MINICRM_BUDGET_SECONDS if seconds is None else seconds
        self.at = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


@dataclass
class Gathered:
    results: dict[str, Any] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # keys that did not arrive in time


def gather(calls: dict[str, Callable[[], Any]], *, deadline: PageDeadline) -> Gathered:
    """Run the calls side by side; their results by key, and the keys still running at the
    deadline. A call's error is raised as it is (MiniCRM's errors become pages)."""
    futures = {key: _executor().submit(call) for key, call in calls.items()}
    for future in futures.values():
        _running.add(future)
        future.add_done_callback(_running.discard)
    done, _ = wait(futures.values(), timeout=deadline.remaining())
    gathered = Gathered()
    for key, future in futures.items():
        if future in done:
            gathered.results[key] = future.result()
        else:
            gathered.late.append(key)
    return gathered


def in_gather() -> bool:
    """True in one of `gather`'s threads. Code there does no database work: each thread would
    hold a connection of its own, outside the request's transaction (and on SQLite wait for
    its write lock); reads that store what they got store it in the request's thread."""
    return threading.current_thread().name.startswith("minicrm-read")


def too_slow(deadline: PageDeadline, what: str) -> RequestTimeout:
    """The error for a read a page cannot do without that did not arrive in time."""
    return RequestTimeout(f"MiniCRM did not answer within {deadline.seconds:g} s ({what})")


def wait_idle(timeout: float = 30.0) -> None:
    """Wait for reads still running after their page answered (tests use it between tests)."""
    wait(list(_running), timeout=timeout)
