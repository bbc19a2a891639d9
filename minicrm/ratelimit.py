"""The shared request budget: at most N requests per system in any trailing window.

`RedisBudget` holds the budget for every process on every machine that shares one Redis: a
sliding log in a sorted set, changed only by one small Lua script that takes its clock from
Redis (`TIME`), so client clocks may drift. A caller waits for a slot up to a deadline.

Two priorities share the log. Interactive requests (the web UI) may use all N slots; bulk
requests (Celery workers, commands) stop at N minus a reserved share while interactive
demand was seen within the last window, and use all N when nobody is browsing. A 429 from
MiniCRM sets a shared cool-down that pauses both.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import redis


class Priority(StrEnum):
    INTERACTIVE = "interactive"
    BULK = "bulk"


@dataclass(frozen=True)
class Slot:
    """The answer to one try: granted, or how long to wait before the next try."""

    granted: bool
    wait: float = 0.0


@dataclass(frozen=True)
class BudgetUsage:
    used: int
    limit: int
    window: float
    cooling_down: float  # seconds left of a 429 cool-down, 0 when none
    oldest_age: float = 0.0  # seconds since the oldest request still in the window

    @property
    def next_free(self) -> float:
        """Seconds until a slot frees when the budget is full (0 while slots are free)."""
        if self.used < self.limit:
            return 0.0
        return max(0.0, self.window - self.oldest_age)


class Budget(Protocol):
    limit: int
    window: float

    def try_acquire(self, priority: Priority) -> Slot: ...

    def cool_down(self, seconds: float) -> None: ...

    def usage(self) -> BudgetUsage: ...


def acquire(budget: Budget, priority: Priority, deadline: float) -> float:
    """Wait for a slot for up to `deadline` seconds; return the seconds waited.

    Raises TimeoutError with the expected wait when no slot frees in time.
    """
    started = time.monotonic()
    while True:
        slot = budget.try_acquire(priority)
        waited = time.monotonic() - started
        if slot.granted:
            return waited
        if waited + slot.wait > deadline:
            raise BudgetExhausted(slot.wait)
        time.sleep(max(slot.wait, 0.005))


class BudgetExhausted(TimeoutError):
    def __init__(self, expected_wait: float) -> None:
        super().__init__(
            f"no request slot free within the deadline (next in {expected_wait:.1f} s)"
        )
        self.expected_wait = expected_wait


def reserved_limit(limit: int, reserve: float) -> int:
    """How many slots bulk callers may take while interactive demand is seen."""
    return max(1, limit - max(1, math.ceil(limit * reserve))) if limit > 1 else limit


# KEYS[1] the log (sorted set), KEYS[2] the cool-down key, KEYS[3] the interactive-demand key.
# ARGV: limit for this caller, window (ms), a unique member, interactive flag, full limit.
# Returns {1, 0} when granted, else {0, milliseconds to wait}.
# How much later than its slot a request may reach MiniCRM (see RedisBudget).
ARRIVAL_MARGIN = 0.25

ACQUIRE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[1])
if ARGV[4] == '1' then
  redis.call('SET', KEYS[3], '1', 'PX', window)
  limit = tonumber(ARGV[5])
elseif redis.call('EXISTS', KEYS[3]) == 0 then
  limit = tonumber(ARGV[5])
end
local cooling = redis.call('PTTL', KEYS[2])
if cooling > 0 then
  return {0, cooling}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - now)}
"""

USAGE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = now - tonumber(oldest[2]) end
return {redis.call('ZCARD', KEYS[1]), redis.call('PTTL', KEYS[2]), age}
"""

# Lengthen the cool-down to ARGV[1] ms, never shortening a longer one.
COOL_DOWN_SCRIPT = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisBudget:
    """The budget of one MiniCRM system, shared through Redis by every process."""

    def __init__(
        self,
        connection: redis.Redis,
        *,
        system_id: str,
        limit: int = 180,
        window: float = 60.0,
        reserve: float = 0.2,
        margin: float | None = None,
    ) -> None:
        self.redis = connection
        self.limit = limit
        self.window = window
        self.reserve = reserve
        # Requests admitted here reach MiniCRM a little later and not in the same order (a
        # process paused between its slot and its send, on a busy machine): a margin of
        # 0.25 s, whatever the window, keeps MiniCRM's own window from ever seeing N + 1.
        self.margin = ARRIVAL_MARGIN if margin is None else margin
        prefix = f"minicrm:budget:{system_id}"
        self.keys = [f"{prefix}:log", f"{prefix}:cooldown", f"{prefix}:interactive"]
        self._acquire = self.redis.register_script(ACQUIRE_SCRIPT)
        self._usage = self.redis.register_script(USAGE_SCRIPT)
        self._cool_down = self.redis.register_script(COOL_DOWN_SCRIPT)

    @property
    def _window_ms(self) -> int:
        return int((self.window + self.margin) * 1000)

    def try_acquire(self, priority: Priority) -> Slot:
        interactive = priority == Priority.INTERACTIVE
        granted, wait_ms = self._acquire(
            keys=self.keys,
            args=[
                self.limit if interactive else reserved_limit(self.limit, self.reserve),
                self._window_ms,
                uuid.uuid4().hex,
                "1" if interactive else "0",
                self.limit,
            ],
        )
        return Slot(bool(granted), int(wait_ms) / 1000)

    def cool_down(self, seconds: float) -> None:
        """Pause every process of this system for `seconds` (never shortening a longer pause)."""
        milliseconds = max(1, int(seconds * 1000))
        self._cool_down(keys=[self.keys[1]], args=[milliseconds])

    def usage(self) -> BudgetUsage:
        used, cooling, age = self._usage(keys=self.keys[:2], args=[int(self.window * 1000)])
        return BudgetUsage(
            int(used), self.limit, self.window, max(0, int(cooling)) / 1000, int(age) / 1000
        )


class LocalBudget:
    """The same budget held in this process only: for scripts and tests without Redis."""

    def __init__(self, *, limit: int = 180, window: float = 60.0, reserve: float = 0.2) -> None:
        self.limit = limit
        self.window = window
        self.reserve = reserve
        self._log: deque[float] = deque()
        self._cool_until = 0.0
        self._interactive_seen = -math.inf
        self._lock = threading.Lock()

    def try_acquire(self, priority: Priority) -> Slot:
        with self._lock:
            now = time.monotonic()
            if priority == Priority.INTERACTIVE:
                self._interactive_seen = now
            limit = self.limit
            if priority == Priority.BULK and now - self._interactive_seen < self.window:
                limit = reserved_limit(self.limit, self.reserve)
            if now < self._cool_until:
                return Slot(False, self._cool_until - now)
            while self._log and self._log[0] <= now - self.window:
                self._log.popleft()
            if len(self._log) < limit:
                self._log.append(now)
                return Slot(True)
            oldest = self._log[len(self._log) - limit]
            return Slot(False, max(0.001, oldest + self.window - now))

    def cool_down(self, seconds: float) -> None:
        with self._lock:
            self._cool_until = max(self._cool_until, time.monotonic() + seconds)

    def usage(self) -> BudgetUsage:
        with self._lock:
            now = time.monotonic()
            live = [t for t in self._log if t > now - self.window]
            age = now - live[0] if live else 0.0
            return BudgetUsage(
                len(live), self.limit, self.window, max(0.0, self._cool_until - now), age
            )


class CappedBudget:
    """A caller's share of a budget: requests through it take a slot of `shared` and of `cap`,
    a smaller budget of its own (e.g. the sync's share of the system's budget).

    The cap is looked at before the shared slot is taken and recorded after it, so a refusal of
    either wastes nothing of the other; one process at a time should use a given cap.
    """

    def __init__(self, shared: Budget, cap: Budget) -> None:
        self.shared = shared
        self.cap = cap
        self.limit = shared.limit
        self.window = shared.window

    def try_acquire(self, priority: Priority) -> Slot:
        own = self.cap.usage()
        if own.used >= own.limit:
            return Slot(False, max(0.05, own.next_free))
        slot = self.shared.try_acquire(priority)
        if slot.granted:
            self.cap.try_acquire(Priority.INTERACTIVE)  # the cap has no reserve: just record
        return slot

    def cool_down(self, seconds: float) -> None:
        self.shared.cool_down(seconds)

    def usage(self) -> BudgetUsage:
        return self.shared.usage()


class TalliedBudget:
    """A budget whose granted slots are also counted per minute under a `source` (people, the
    sync, the write queue), in Redis for `keep` seconds: what was spent on what, lately."""

    def __init__(
        self,
        budget: Budget,
        connection: redis.Redis,
        *,
        system_id: str,
        source: str,
        keep: int = 2 * 3600,
    ) -> None:
        self.budget = budget
        self.redis = connection
        self.source = source
        self.keep = keep
        self.prefix = tally_prefix(system_id)
        self.limit = budget.limit
        self.window = budget.window

    def try_acquire(self, priority: Priority) -> Slot:
        slot = self.budget.try_acquire(priority)
        if slot.granted:
            key = f"{self.prefix}{int(time.time() // 60)}"
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(key, self.source, 1)
            pipe.expire(key, self.keep)
            pipe.execute()
        return slot

    def cool_down(self, seconds: float) -> None:
        self.budget.cool_down(seconds)

    def usage(self) -> BudgetUsage:
        return self.budget.usage()


def tally_prefix(system_id: str) -> str:
    return f"minicrm:tally:{system_id}:"


def tally_minutes(
    connection: redis.Redis, *, system_id: str, minutes: int, now: float | None = None
) -> list[tuple[float, dict[str, int]]]:
    """The requests counted by `TalliedBudget` in each of the last `minutes` minutes, oldest
    first: (the minute's start as a Unix time, {source: requests})."""
    current = int((time.time() if now is None else now) // 60)
    wanted = list(range(current - minutes + 1, current + 1))
    pipe = connection.pipeline(transaction=False)
    for minute in wanted:
        pipe.hgetall(f"{tally_prefix(system_id)}{minute}")
    counted = pipe.execute()
    return [
        (minute * 60.0, {_text(key): int(value) for key, value in (counts or {}).items()})
        for minute, counts in zip(wanted, counted, strict=True)
    ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
