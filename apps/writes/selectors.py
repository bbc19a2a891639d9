"""What the dashboard reads about the write queue: per object, per user, per job, in total."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.contrib.auth.models import User
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from apps.core.minicrm import minicrm_budget
from apps.writes.models import BulkJob, Write
from minicrm.ratelimit import reserved_limit


def writes_for_object(*, target_type: str, target_id: int) -> QuerySet[Write]:
    """The writes of one object that are not done yet: pending, failed or in conflict."""
    return Write.objects.filter(
        target_type=target_type, target_id=target_id, state__in=Write.OPEN_STATES
    ).order_by("id")


def writes_for_user(*, user: User, states: tuple[str, ...] = ()) -> QuerySet[Write]:
    writes = Write.objects.filter(requested_by=user)
    if states:
        writes = writes.filter(state__in=states)
    return writes.order_by("-id")


def pending_values(*, target_type: str, target_id: int) -> dict[str, Any]:
    """The values queued writes will set on an object, latest last, to show over MiniCRM's."""
    values: dict[str, Any] = {}
    for write in writes_for_object(target_type=target_type, target_id=target_id).filter(
        state__in=Write.PENDING_STATES, kind__endswith=".update"
    ):
        values.update(write.payload)
    return values


def pending_statuses(*, target_ids: list[int] | None = None) -> dict[int, Any]:
    """The status each card will have once its queued writes land: card id -> StatusId, for
    cards with a queued status change (all of them, or those of `target_ids`)."""
    writes = Write.objects.filter(
        target_type="project", state__in=Write.PENDING_STATES, kind__endswith=".update"
    ).order_by("created_at", "pk")
    if target_ids is not None:
        writes = writes.filter(target_id__in=target_ids)
    statuses: dict[int, Any] = {}
    for target_id, payload in writes.values_list("target_id", "payload"):
        if target_id and isinstance(payload, dict) and "StatusId" in payload:
            statuses[target_id] = payload["StatusId"]
    return statuses


def writes_per_second() -> float:
    """How fast the queue drains at worst: the bulk share of the budget, per second."""
    budget = minicrm_budget()
    return reserved_limit(budget.limit, budget.reserve) / budget.window


def seconds_to_send(count: int, *, rate: float | None = None) -> float:
    """The expected time to send `count` queued writes within the budget.

    The slots left in the budget's window go at once, at `rate` (how fast these writes were
    seen to go, writes a second); the rest wait for the oldest slot to free and then go at the
    budget's pace (or `rate`, if slower). Any pause MiniCRM asked for comes first. Without a
    `rate` the writes are taken to go at the budget's pace. Never more than the worst case:
    the wait for a free slot, then every write at the budget's pace.
    """
    if count <= 0:
        return 0.0
    pace = writes_per_second()
    try:
        usage = minicrm_budget().usage()
    except redis.RedisError:  # the budget is unknown; the pace alone still tells
        return count / pace
    worst = usage.cooling_down + usage.next_free + count / pace
    speed = rate if rate is not None and rate > 0 else pace
    budget = minicrm_budget()
    free = max(0, reserved_limit(budget.limit, budget.reserve) - usage.used)
    at_once = min(count, free)
    expected = usage.cooling_down + at_once / speed
    if count > at_once:
        expected += max(0.0, usage.window - usage.oldest_age) + (count - at_once) / min(speed, pace)
    return min(worst, expected)


def _observed_rate(settled: int, since: datetime | None) -> float | None:
    """Writes a second, from `settled` writes since `since`; None until two have settled."""
    if settled < 2 or since is None:
        return None
    elapsed = (timezone.now() - since).total_seconds()
    return settled / elapsed if elapsed > 0 else None


def queue_rate() -> float | None:
    """How fast the queue has been sending: the writes done within the budget's last window."""
    since = timezone.now() - timedelta(seconds=minicrm_budget().window)
    recent = Write.objects.filter(state=Write.State.DONE, done_at__gte=since)
    return _observed_rate(recent.count(), recent.aggregate(first=Min("done_at"))["first"])


@dataclass(frozen=True)
class QueueStatus:
    counts: dict[str, int]  # state -> number of writes
    pending: int
    eta_seconds: float


def queue_status() -> QueueStatus:
    counts = dict.fromkeys(Write.State.values, 0)
    for row in Write.objects.values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    pending = counts[Write.State.QUEUED] + counts[Write.State.SENDING]
    eta = seconds_to_send(pending, rate=queue_rate() if pending else None)
    return QueueStatus(counts=counts, pending=pending, eta_seconds=eta)


@dataclass(frozen=True)
class JobProgress:
    job: BulkJob
    done: int
    failed: int
    pending: int
    discarded: int = 0

    @property
    def total(self) -> int:
        return self.job.total

    @property
    def finished(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        settled = self.done + self.failed + self.discarded
        return round(100 * settled / self.total) if self.total else 100

    rate: float | None = None  # writes a second the job has been seen to settle

    @property
    def eta_seconds(self) -> float:
        return seconds_to_send(self.pending, rate=self.rate)


def bulk_job_progress(*, job_id: int) -> JobProgress:
    job = BulkJob.objects.get(pk=job_id)
    counts = {row["state"]: row["n"] for row in job.writes.values("state").annotate(n=Count("id"))}
    done = counts.get(Write.State.DONE, 0)
    failed = sum(counts.get(s, 0) for s in (Write.State.FAILED, Write.State.CONFLICT))
    pending = sum(counts.get(s, 0) for s in Write.PENDING_STATES)
    discarded = counts.get(Write.State.DISCARDED, 0)
    rate = None
    if pending:
        started = job.writes.aggregate(first=Min("first_attempt_at"))["first"]
        rate = _observed_rate(done + failed, started) or queue_rate()
    return JobProgress(
        job=job, done=done, failed=failed, pending=pending, discarded=discarded, rate=rate
    )


def write_wait(*, write_id: int, seconds: float) -> Write:
    """The write once it is done, failed or in conflict, or as it is after `seconds`.

    Forms use this to show MiniCRM's answer in place when the queue is quick, and say the
    change is queued (with its expected time) when it is not.
    """
    deadline = time.monotonic() + seconds
    while True:
        write = Write.objects.get(pk=write_id)
        if write.state not in Write.PENDING_STATES or time.monotonic() >= deadline:
            return write
        time.sleep(0.1)


def write_eta(*, write: Write) -> float:
    """Expected seconds until a pending write is sent: the queue ahead of it, at the queue's
    pace within the budget."""
    ahead = Write.objects.filter(state__in=Write.PENDING_STATES, id__lt=write.pk).count()
    return seconds_to_send(ahead + 1, rate=queue_rate())
