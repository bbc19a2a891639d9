"""The write queue: record a change, send it paced and in order, retry, or stop for a person.

The database is the queue. `write_enqueue` stores a write (in the caller's transaction) and,
after commit, starts a `send_write` task. Each task sends its write and then keeps draining
writes that are due, so a burst of a thousand writes needs a handful of tasks, and a lost
Celery message loses nothing: the periodic `writes_sweep` starts tasks again while writes
are due. Writes to one object go one at a time (a Redis lock per object) and in id order;
a failed or conflicting write holds the later writes to its object back until a person
retries or discards it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import LockError, RedisError

from apps.core.minicrm import minicrm_client, redis_connection
from apps.core.readcache import forget_object
from apps.core.storable import json_storable
from apps.writes.delivery import REFERENCE_PREFIX, Conflict, MaybeApplied, deliver, snapshot
from apps.writes.models import BulkJob, Write, bulk_job_title
from apps.writes.signals import write_done
from minicrm import (
    BadRequest,
    MethodNotAllowed,
    MiniCRMError,
    NotFound,
    Priority,
    RateLimited,
    Unauthorized,
)

log = logging.getLogger(__name__)

PERMANENT_ERRORS = (BadRequest, NotFound, MethodNotAllowed)
DRAIN_SECONDS = 50.0  # a task drains this long, then hands over to a fresh task
DRAINERS = 4  # tasks started for a bulk job or by the sweep
SUMMARY_PART_LIMIT = 200  # characters of a bulk job summary's value kept for its title
HEARTBEAT_KEY = "minicrm:writes:draining"

Requester = User | AnonymousUser | None
# What publishing a task raises when the broker (Redis) is down.
BROKER_ERRORS = (BrokerUnreachable, RedisError, OSError)
# A queued write's last error when no task could be started for it.
QUEUE_UNREACHABLE = "The queue (Redis) could not be reached: the write waits for the sweep."


# -- recording --------------------------------------------------------------------------------


def write_enqueue(
    *,
    kind: str,
    target_type: str,
    target_id: int | None = None,
    payload: dict[str, Any],
    seen: dict[str, Any] | None = None,
    user: Requester = None,
    job: BulkJob | None = None,
    idempotency_key: str | None = None,
    hold: float = 0.0,
) -> Write:
    """Record one change for MiniCRM; it is sent after the surrounding transaction commits, or
    `hold` seconds later (a one-click change its person may undo until then: `write_undo`).

    With an `idempotency_key` (a create form's one-time key), a write already made under it
    is returned instead of recording another, unless it was discarded (refused): the form was
    then corrected and is sent again.
    """
    if idempotency_key:
        # A refused (discarded) write frees its key: the corrected form is sent under it.
        Write.objects.filter(idempotency_key=idempotency_key, state=Write.State.DISCARDED).update(
            idempotency_key=None
        )
    write = Write(
        kind=kind,
        target_type=target_type,
        target_id=target_id,
        payload=payload,
        seen=_checkable(seen),
        requested_by=user if isinstance(user, User) else None,
        job=job,
        idempotency_key=idempotency_key or None,
        next_attempt_at=timezone.now() + timedelta(seconds=max(0.0, hold)),
    )
    if kind == Write.Kind.PROJECT_CREATE and not payload.get("ReferenceId"):
        # The reference lets a retry find the card if an earlier attempt created it.
        write.payload = {**payload, "ReferenceId": f"{REFERENCE_PREFIX}{write.reference}"}
    try:
        with transaction.atomic():
            write.save()
    except IntegrityError:
        if not idempotency_key:
            raise
        # The same form was sent before, or at this very moment by another request (the unique
        # key lets only one write in): answer the write it made.
        return Write.objects.get(idempotency_key=idempotency_key)
    _start_after_commit([write.pk], countdown=max(0.0, hold))
    return write


def _checkable(seen: dict[str, Any] | None) -> dict[str, Any] | None:
    """The seen values that can be stored and checked. A value holding a NUL character or a
    lone surrogate (the browser sends `seen` back as JSON, where escapes of both pass the form's
    checks, and MiniCRM's own values may hold them) is left out: PostgreSQL's jsonb cannot
    store it."""
    kept = {name: value for name, value in (seen or {}).items() if json_storable([name, value])}
    return kept or None


def bulk_update(
    *,
    target_type: str,
    target_ids: Iterable[int],
    payload: dict[str, Any],
    description: str = "",
    summary: dict[str, Any] | None = None,
    user: Requester = None,
) -> BulkJob:
    """Queue the same change for many objects as one job with progress.

    `summary` holds the parts of the job's title (see `BulkJob.summary`), shown in each
    viewer's language; `description` is the title as text, made from `summary` when not given.
    """
    ids = list(dict.fromkeys(int(i) for i in target_ids))
    if summary is not None:
        # A value quoted in full could be a thousand characters long.
        summary = {
            name: Truncator(part).chars(SUMMARY_PART_LIMIT) if isinstance(part, str) else part
            for name, part in summary.items()
        }
        description = description or bulk_job_title(summary)
    # A description quotes the value, which may be longer than the column (PostgreSQL refuses
    # to store that, SQLite would keep it whole).
    limit = BulkJob._meta.get_field("description").max_length or 300
    description = Truncator(description).chars(limit)
    kind = {"project": Write.Kind.PROJECT_UPDATE, "contact": Write.Kind.CONTACT_UPDATE}[target_type]
    with transaction.atomic():
        job = BulkJob.objects.create(
            description=description,
            summary=summary,
            created_by=user if isinstance(user, User) else None,
            total=len(ids),
        )
        writes = Write.objects.bulk_create(
            Write(
                kind=kind,
                target_type=target_type,
                target_id=target_id,
                payload=payload,
                requested_by=job.created_by,
                job=job,
            )
            for target_id in ids
        )
        _start_after_commit([w.pk for w in writes[:DRAINERS]])
    return job


def _start_after_commit(write_ids: list[int], *, countdown: float = 0.0) -> None:
    """After commit, start a task per write (`countdown` seconds later). The outbox row is the
    truth: when the broker cannot be reached, the write stays queued with QUEUE_UNREACHABLE as
    its last error (the page says so) and beat's sweep starts it once the queue is back."""

    def start() -> None:
        from apps.writes.tasks import send_write

        Write.objects.filter(pk__in=write_ids).update(enqueued_at=timezone.now())
        try:
            for write_id in write_ids:
                if countdown > 0:
                    send_write.apply_async((write_id,), countdown=countdown)
                else:
                    send_write.delay(write_id)
        except BROKER_ERRORS as error:
            log.warning("queue unreachable; writes %s wait for the sweep: %s", write_ids, error)
            Write.objects.filter(pk__in=write_ids, state=Write.State.QUEUED).update(
                enqueued_at=None, last_error=QUEUE_UNREACHABLE
            )

    transaction.on_commit(start)


# -- people's decisions -------------------------------------------------------------------------


def write_retry(*, write_id: int, overwrite: bool = False) -> Write:
    """Send a failed write again (a conflict is sent over MiniCRM's value with overwrite)."""
    with transaction.atomic():
        write = Write.objects.select_for_update().get(pk=write_id)
        if write.state not in (Write.State.FAILED, Write.State.CONFLICT):
            return write
        if write.state == Write.State.CONFLICT and overwrite:
            write.seen = None
        if write.kind == Write.Kind.ORDER_CREATE:
            write.uncertain = False  # a person looked at the customer's orders and said so
        write.state = Write.State.QUEUED
        write.next_attempt_at = timezone.now()
        write.last_error = ""
        write.error_field = ""
        write.save()
        _start_after_commit([write.pk])
    write.refresh_from_db()  # as the start after commit left it (enqueued or not)
    return write


def write_undo(*, write_id: int, user: Requester) -> bool:
    """Take back a one-click change its person made: discarded while no attempt to send it
    has begun (it waits out its hold in the queue), so nothing reaches MiniCRM. False when it
    is too late (sent, being sent, or not this person's)."""
    with transaction.atomic():
        write = Write.objects.select_for_update().filter(pk=write_id).first()
        if (
            write is None
            or write.state != Write.State.QUEUED
            or write.attempts > 0
            or not isinstance(user, User)
            or write.requested_by_id != user.pk
        ):
            return False
        write.state = Write.State.DISCARDED
        write.result = {**(write.result or {}), "undone": True}
        write.save()
        _start_next_after_commit(write)
    return True


def write_discard(*, write_id: int) -> Write:
    """Give up a write that has not reached MiniCRM; later writes to its object go on."""
    with transaction.atomic():
        write = Write.objects.select_for_update().get(pk=write_id)
        if write.state in (Write.State.QUEUED, Write.State.FAILED, Write.State.CONFLICT):
            write.state = Write.State.DISCARDED
            write.save()
            _start_next_after_commit(write)
    return write


# -- sending --------------------------------------------------------------------------------


def write_send(write_id: int | None) -> int:
    """Send this write if it is due, then any others that are due; return how many were sent.

    Safe to call any number of times for the same write: a done write is not sent again, and
    a write whose object another task is sending is left to that task.
    """
    sent = 0
    started = time.monotonic()
    candidate: int | None = write_id
    while True:
        if candidate is not None and _send_one(candidate):
            sent += 1
        redis_connection().set(HEARTBEAT_KEY, "1", ex=int(DRAIN_SECONDS))
        if time.monotonic() - started > DRAIN_SECONDS:
            _hand_over()
            return sent
        candidate = _next_due()
        if candidate is None:
            return sent


def _due_filter(now: Any) -> Q:
    stale = now - timedelta(seconds=settings.WRITE_QUEUE_STALE_SECONDS)
    return Q(state=Write.State.QUEUED, next_attempt_at__lte=now) | Q(
        state=Write.State.SENDING, sending_since__lt=stale
    )


def _sendable() -> QuerySet[Write]:
    """Due writes that no earlier write of the same object holds back, oldest first."""
    earlier_open = Write.objects.filter(
        target_type=OuterRef("target_type"),
        target_id=OuterRef("target_id"),
        id__lt=OuterRef("id"),
        state__in=Write.OPEN_STATES,
    )
    return (
        Write.objects.filter(_due_filter(timezone.now()))
        .filter(Q(target_id__isnull=True) | ~Exists(earlier_open))
        .order_by("id")
    )


def _next_due() -> int | None:
    """The oldest sendable write whose object nobody is sending right now."""
    for write in _sendable()[:50]:
        if not _locked(write):
            return write.pk
    return None


def _held_back(write: Write) -> bool:
    if write.target_id is None:
        return False
    return Write.objects.filter(
        target_type=write.target_type,
        target_id=write.target_id,
        id__lt=write.pk,
        state__in=Write.OPEN_STATES,
    ).exists()


def _lock(write: Write) -> Any:
    return redis_connection().lock(
        f"minicrm:writes:lock:{write.lock_key}",
        timeout=settings.WRITE_QUEUE_STALE_SECONDS,
        blocking=False,
    )


def _locked(write: Write) -> bool:
    return bool(redis_connection().exists(f"minicrm:writes:lock:{write.lock_key}"))


def _send_one(write_id: int) -> bool:
    write = Write.objects.filter(pk=write_id).first()
    if write is None:
        return False
    lock = _lock(write)
    if not lock.acquire(blocking=False):
        return False  # another task is sending a write of this object
    try:
        return _send_locked(write_id)
    finally:
        try:
            lock.release()
        except LockError:  # it expired: the write was stale anyway
            log.warning("write %s outlived its lock", write_id)


def _send_locked(write_id: int) -> bool:
    with transaction.atomic():
        write = Write.objects.select_for_update().get(pk=write_id)
        now = timezone.now()
        # A write found "sending" while we hold its object's lock lost its sender (a killed
        # worker): it is resumed, as an attempt that may already have reached MiniCRM.
        due = write.state == Write.State.SENDING or (
            write.state == Write.State.QUEUED and write.next_attempt_at <= now
        )
        if not due or _held_back(write):
            return False
        write.uncertain = write.uncertain or write.state == Write.State.SENDING
        write.state = Write.State.SENDING
        write.attempts += 1
        write.first_attempt_at = write.first_attempt_at or write.sending_since or now
        write.sending_since = now
        write.save()
    client = minicrm_client(Priority.BULK)
    try:
        before = snapshot(client, write)
        if before:
            write.result = {**(write.result or {}), **before}
            write.save(update_fields=["result", "updated_at"])
        delivered = deliver(client, write)
    except Conflict as conflict:
        _finish(
            write,
            Write.State.CONFLICT,
            error="The object changed in MiniCRM since it was read.",
            result={"conflict": conflict.fields},
        )
    except MaybeApplied as unsure:
        _finish(write, Write.State.FAILED, error=str(unsure))
    except PERMANENT_ERRORS as error:
        field = error.field if isinstance(error, BadRequest) else None
        _finish(
            write,
            Write.State.FAILED,
            error=error.message,
            field=field or "",
            result={"http_status": error.status},
        )
    except RateLimited as error:
        _retry_later(write, error, ambiguous=False, at_least=error.retry_after)
    except Unauthorized as error:
        _retry_later(write, error, ambiguous=False, at_least=60)
    except MiniCRMError as error:  # connection, timeout, 5xx: it may or may not have landed
        _retry_later(write, error, ambiguous=True)
    else:
        write.target_id = delivered.target_id if delivered.target_id else write.target_id
        _finish(write, Write.State.DONE, result=delivered.result)
        return True
    return False


def _finish(
    write: Write,
    state: str,
    *,
    error: str = "",
    field: str = "",
    result: dict[str, Any] | None = None,
) -> None:
    with transaction.atomic():
        write.state = state
        write.last_error = error
        write.error_field = field
        write.uncertain = False if state == Write.State.DONE else write.uncertain
        if result:
            write.result = {**(write.result or {}), **result}
        if state == Write.State.DONE:
            write.done_at = timezone.now()
        write.save()
        if state == Write.State.DONE:
            _start_next_after_commit(write)
            # The copies kept of MiniCRM (the mirror, the order index) take the change in this
            # same transaction: no page reads the write done while a copy still shows the old
            # value (and no longer pending). Each receiver keeps its failures to itself.
            for receiver, failure in write_done.send_robust(sender=Write, write=write):
                if isinstance(failure, Exception):
                    log.error("write %s landed; %r failed: %r", write.pk, receiver, failure)
    if state in (Write.State.DONE, Write.State.CONFLICT):
        # The next read shows the change, or (in a conflict) MiniCRM's value the user has to
        # see before deciding.
        forget_object(write.target_type, write.target_id)
    if state != Write.State.DONE:
        log.warning("write %s %s: %s", write.pk, state, error)


def _retry_later(
    write: Write, error: MiniCRMError, *, ambiguous: bool, at_least: float = 0.0
) -> None:
    backoff = min(settings.WRITE_QUEUE_MAX_BACKOFF, 2.0 ** min(write.attempts, 16))
    delay = max(at_least, backoff * (0.5 + random.random() / 2))
    with transaction.atomic():
        write.state = Write.State.QUEUED
        write.uncertain = write.uncertain or ambiguous
        write.last_error = error.message
        write.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        write.save()
    log.info("write %s: %s; retrying in %.0f s", write.pk, error.message, delay)
    if delay <= 60:
        from apps.writes.tasks import send_write

        send_write.apply_async((write.pk,), countdown=delay)


def _start_next_after_commit(write: Write) -> None:
    """Start the next write of the same object, which this one held back."""
    if write.target_id is None:
        return
    following = (
        Write.objects.filter(
            target_type=write.target_type,
            target_id=write.target_id,
            id__gt=write.pk,
            state=Write.State.QUEUED,
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        _start_after_commit([following])


def _hand_over() -> None:
    following = _next_due()
    if following is not None:
        _start_after_commit([following])


def writes_sweep() -> int:
    """Start tasks for due writes nobody is draining (lost messages, a restarted Redis or a
    killed worker, retries whose time has come); return how many tasks were started."""
    due = list(_sendable().values_list("pk", flat=True)[:DRAINERS])
    if not due:
        return 0
    stale = Write.objects.filter(
        state=Write.State.SENDING,
        sending_since__lt=timezone.now() - timedelta(seconds=settings.WRITE_QUEUE_STALE_SECONDS),
    ).exists()
    if redis_connection().exists(HEARTBEAT_KEY) and not stale:
        return 0  # tasks are draining the queue right now
    _start_after_commit(due)
    return len(due)
