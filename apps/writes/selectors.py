"""What the dashboard reads about the write queue: per object, per user, per job, in total."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis
from django.contrib.auth.models import User
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.minicrm import minicrm_budget
from apps.mirror.labels import (
    ValueNames,
    in_field_order,
    named_value,
    schema_for,
    value_names,
)
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.writes.models import BulkJob, Write
from minicrm.ratelimit import reserved_limit
from minicrm.resources.schema import Schema


def writes_for_object(*, target_type: str, target_id: int) -> QuerySet[Write]:
    """The writes of one object that are not done yet: pending, failed or in conflict."""
    return Write.objects.filter(
        target_type=target_type, target_id=target_id, state__in=Write.OPEN_STATES
    ).order_by("id")


# -- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: Any  # what the person saw ("" when the form did not say)
    new: Any
    href: str = ""  # the page of the contact or company the new value names


def change_text(change: FieldChange) -> str:
    """A change as one line of text (for files): "Status: Érdeklődő → Elvesztett"."""

    def text(value: Any) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return "" if value is None else str(value)

    old = text(change.old)
    return f"{change.label}: {old + ' → ' if old else ''}{text(change.new)}"


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an object's history: a change made through the console, or a status
    change MiniCRM recorded (a card's status history)."""

    at: datetime | None
    who: str
    what: str
    changes: list[FieldChange]
    state: str  # the write's state ("done", "failed", ...), "minicrm" for MiniCRM's lines
    state_label: str
    error: str = ""


def write_changes(
    write: Write, schema: Schema | None, names: ValueNames | None = None
) -> list[FieldChange]:
    """Which fields a write changed, labelled, from what the person saw to what they sent
    (dropdowns by their labels, owners and contacts by their names where `names` knows them,
    nested values as text)."""
    names = names or ValueNames()
    seen = write.seen or {}
    changes = []
    payload = write.payload or {}
    for name in in_field_order(payload, schema):
        new = named_value(name, payload[name], schema, names)
        old = seen.get(name, "")
        if old not in ("", None):
            old = named_value(name, old, schema, names).value
        changes.append(FieldChange(new.label, old, new.value, new.href))
    return changes


def _who(user: Any) -> str:
    if user is None:
        return str(_("someone no longer here"))
    return str(user.get_full_name() or user.get_username())


def write_history_entry(
    write: Write, schema: Schema | None, names: ValueNames | None = None
) -> HistoryEntry:
    return HistoryEntry(
        at=write.done_at or write.created_at,
        who=_who(write.requested_by),
        what=str(write.get_kind_display()),
        changes=write_changes(write, schema, names),
        state=str(write.state),
        state_label=str(write.get_state_display()),
        error=write.last_error if write.state in (Write.State.FAILED, Write.State.CONFLICT) else "",
    )


def object_history(
    *, target_type: str, target_id: int, schema: Schema | None, extra: list[HistoryEntry]
) -> list[HistoryEntry]:
    """An object's history, newest first: every change asked for through the console (done,
    failed, in conflict, pending or discarded) and the lines MiniCRM recorded (`extra`)."""
    writes = list(
        Write.objects.filter(target_type=target_type, target_id=target_id).select_related(
            "requested_by"
        )
    )
    names = value_names(payload for write in writes for payload in _values_of(write))
    entries = [write_history_entry(write, schema, names) for write in writes] + list(extra)
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: e.at or oldest, reverse=True)


# -- the audit page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    person_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    module_id: int | None = None  # cards of this module
    since: date | None = None  # local dates, both ends included
    until: date | None = None


@dataclass(frozen=True)
class WriteRow:
    """A write as the queue, job, object and audit pages list it, its changes labelled."""

    write: Write
    entry: HistoryEntry

    @property
    def changes(self) -> list[FieldChange]:
        return self.entry.changes


def audit_writes(*, filters: AuditFilters) -> QuerySet[Write]:
    """Every change asked for through the console that matches the filters, newest first."""
    writes = Write.objects.select_related("requested_by").order_by("-created_at", "-id")
    if filters.person_id is not None:
        writes = writes.filter(requested_by_id=filters.person_id)
    if filters.object_type:
        writes = writes.filter(target_type=filters.object_type)
    if filters.object_id is not None:
        writes = writes.filter(target_id=filters.object_id)
    if filters.module_id is not None:
        cards = MirrorCard.objects.filter(category_id=filters.module_id).values("pk")
        module_writes = Q(target_type="project", target_id__in=cards)
        creates = Q(kind=Write.Kind.PROJECT_CREATE, payload__CategoryId=filters.module_id)
        writes = writes.filter(module_writes | creates)
    zone = timezone.get_current_timezone()
    if filters.since is not None:
        start = datetime.combine(filters.since, datetime.min.time(), tzinfo=zone)
        writes = writes.filter(created_at__gte=start)
    if filters.until is not None:
        end = datetime.combine(filters.until + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        writes = writes.filter(created_at__lt=end)
    return writes


def _values_of(write: Write) -> list[dict[str, Any]]:
    return [mapping for mapping in (write.payload, write.seen) if isinstance(mapping, dict)]


def write_rows(writes: Iterable[Write]) -> Iterator[WriteRow]:
    """The writes with their changes labelled: by their module's or contact type's schema
    (read once each), owners and contacts by the names the mirror holds; 500 at a time."""
    schemas: dict[tuple[str, Any], Schema | None] = {}
    users: dict[int, str] | None = None
    batch: list[Write] = []

    def flush() -> Iterator[WriteRow]:
        nonlocal users
        cards = [w.target_id for w in batch if w.target_type == "project" and w.target_id]
        contacts = [w.target_id for w in batch if w.target_type == "contact" and w.target_id]
        modules = dict(MirrorCard.objects.filter(pk__in=cards).values_list("pk", "category_id"))
        types = dict(MirrorContact.objects.filter(pk__in=contacts).values_list("pk", "type"))
        found = value_names(mapping for write in batch for mapping in _values_of(write))
        users = found.users if users is None else users
        names = ValueNames(users=users, contacts=found.contacts)
        for write in batch:
            payload = write.payload if isinstance(write.payload, dict) else {}
            if write.target_type == "project":
                key = modules.get(write.target_id or 0) or payload.get("CategoryId")
                data = {"CategoryId": key}
            elif write.target_type == "contact":
                key = types.get(write.target_id or 0) or payload.get("Type")
                data = {"Type": key}
            else:
                key, data = None, {}
            if (write.target_type, key) not in schemas:
                schemas[write.target_type, key] = schema_for(write.target_type, data)
            schema = schemas[write.target_type, key]
            yield WriteRow(write, write_history_entry(write, schema, names))

    for write in writes:
        batch.append(write)
        if len(batch) == 500:
            yield from flush()
            batch = []
    yield from flush()


def object_writes(*, target_type: str, target_id: int) -> list[WriteRow]:
    """The writes of one object that are not done yet, their changes labelled."""
    return list(write_rows(writes_for_object(target_type=target_type, target_id=target_id)))


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
