"""Reads of the mirror itself: whether it is on, how fresh a record is, and the records pages
build on (cards, contacts, to-dos and histories as MiniCRM's own types)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.fieldviews import minicrm_naive
from apps.core.minicrm import _redis
from apps.core.parallel import in_gather
from apps.mirror.models import (
    Card,
    Completeness,
    Contact,
    Module,
    StatusChange,
    SyncState,
    ToDo,
)
from apps.mirror.services import (
    CARD_REQUESTS,
    CONTACTS,
    POLLS,
    STATUS_GROUPS,
    sync_cap,
    sync_lock_key,
)
from minicrm.types import StatusChange as RemoteStatusChange
from minicrm.types import ToDoSummary


def mirror_on() -> bool:
    return bool(settings.MIRROR_ENABLED)


def mirror_here() -> bool:
    """The mirror is read (and what MiniCRM answers stored) in this thread: it is on, and this
    is not one of `gather`'s threads, which do no database work."""
    return mirror_on() and not in_gather()


@dataclass(frozen=True)
class Freshness:
    """How old a page's data is: when it was last read from MiniCRM, and whether a read is on
    its way (a webhook, the poll or the page itself asked for one)."""

    synced_at: datetime | None
    refreshing: bool = False

    @property
    def age_seconds(self) -> int | None:
        if self.synced_at is None:
            return None
        return max(0, int((timezone.now() - self.synced_at).total_seconds()))

    @property
    def version(self) -> str:
        """Changes whenever the record is written again (pages poll for it)."""
        return self.synced_at.isoformat() if self.synced_at else ""


def freshness_of(record: Card | Contact | None) -> Freshness:
    if record is None:
        return Freshness(None)
    return Freshness(record.synced_at, refreshing=record.stale_since is not None)


def card_row(*, card_id: int) -> Card | None:
    return Card.objects.filter(pk=card_id).exclude(category_id=0).first()


def card_complete(card: Card | None) -> bool:
    """The mirror holds all a card page shows: the detail, the to-dos and the status history."""
    return (
        card is not None
        and card.completeness == Completeness.DETAIL
        and card.todos_synced_at is not None
        and card.history_synced_at is not None
    )


def contact_row(*, contact_id: int) -> Contact | None:
    return Contact.objects.filter(pk=contact_id).exclude(type="").first()


def todo_summary(todo: ToDo) -> ToDoSummary:
    """A mirrored to-do as the to-do list answers it (a naive MiniCRM local deadline)."""
    return ToDoSummary(
        id=todo.id,
        status=todo.status,
        comment=todo.comment,
        deadline=minicrm_naive(todo.deadline) if todo.deadline else None,
        user_id=todo.user_id,
        type_id=todo.type_id,
        url=str((todo.data or {}).get("Url", "")),
    )


def card_todos(*, card_id: int) -> list[ToDoSummary]:
    """A card's to-dos as the to-do list answers them."""
    return [todo_summary(todo) for todo in ToDo.objects.filter(card_id=card_id).order_by("id")]


def card_history(*, card_id: int) -> list[RemoteStatusChange]:
    """A card's status history, oldest first (naive MiniCRM local times)."""
    return [
        RemoteStatusChange(
            id=change.id,
            project_id=change.card_id,
            user_id=change.user_id,
            at=minicrm_naive(change.at) if change.at else None,
            old_status_id=change.old_status_id,
            new_status_id=change.new_status_id,
            old_status_name=change.old_status_name,
            new_status_name=change.new_status_name,
        )
        for change in StatusChange.objects.filter(card_id=card_id).order_by("at", "id")
    ]


# -- the Sync page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """A time the page shows, with how long ago it was (whole seconds)."""

    at: datetime
    age_seconds: int


def _moment(at: datetime | None, now: datetime) -> Moment | None:
    if at is None:
        return None
    return Moment(at, max(0, int((now - at).total_seconds())))


@dataclass(frozen=True)
class ListPass:
    """Where a module's or the contacts' list pass stands."""

    filled: Moment | None  # the first complete pass (the first fill) ended
    running: bool
    started: Moment | None  # the pass under way began
    group: str  # the status group it reads (modules), "" for contacts
    page: int  # the page it reads next, from 1
    seen: int  # records seen so far in this pass
    rescanned: Moment | None  # the last complete pass ended


@dataclass(frozen=True)
class MirrorPart:
    """A module's cards or the contacts, as the mirror holds them."""

    key: str  # the SyncState key: "module:26" or "contacts"
    name: str
    category_id: int | None  # None for the contacts
    rows: int  # records in the mirror (not deleted), each at least as a search row
    detail: int  # of those, complete: full detail (cards: also to-dos and status history)
    deleted: int
    stale: int  # waiting for the sync to read them again
    listed_total: int | None  # how many MiniCRM listed in the last complete list pass
    list_pass: ListPass
    error: str
    error_at: Moment | None

    @property
    def missing(self) -> int:
        return max(0, self.rows - self.detail)

    @property
    def percent(self) -> int:
        return _percent(self.detail, self.rows)


@dataclass(frozen=True)
class Poll:
    key: str  # "poll:Project" or "poll:Contact"
    entity: str  # "Project" or "Contact"
    polled: Moment | None
    cursor: str  # MiniCRM local time the next poll asks from ("" before the first fill)


@dataclass(frozen=True)
class SyncError:
    key: str
    label: str  # what failed, in words: a module's name, "Contacts", "Poll of cards" ...
    error: str
    at: Moment | None


def _state_label(key: str, module_names: dict[int, str]) -> str:
    labels = {
        "modules": _("Modules and schemas"),
        CONTACTS: _("Contacts"),
        "poll:Project": _("Poll of cards"),
        "poll:Contact": _("Poll of contacts"),
        "webhooks": _("Webhooks"),
    }
    if key in labels:
        return str(labels[key])
    kind, _sep, number = key.partition(":")
    if kind == "module" and number.isdecimal():
        return module_names.get(int(number)) or _("Module #%(id)s") % {"id": number}
    return key


@dataclass(frozen=True)
class SyncOverview:
    """Everything the Sync page shows, ready to render."""

    enabled: bool
    modules: list[MirrorPart]
    contacts: MirrorPart
    # The backfill: records the lists brought, and how many of them are complete.
    complete: int
    total: int
    missing_cards: int
    missing_contacts: int
    requests_needed: int  # missing cards x 3 + missing contacts x 1
    share_limit: int  # the requests the sync may make per window
    window: float
    eta_seconds: int  # the backfill's time at the sync's share of the budget (0: done)
    resync_all_seconds: int  # the same for reading every record again
    polls: list[Poll]
    webhook: Moment | None
    lag_seconds: int | None  # since the last poll or webhook, whichever came last
    errors: list[SyncError]
    stale: int  # records waiting for a read (placeholders of unknown records too)
    requests_used: int | None  # the sync's requests in the last window; None: Redis is down
    running: bool | None  # a sync holds the lock now; None: Redis is down

    @property
    def percent(self) -> int:
        return _percent(self.complete, self.total)

    @property
    def redis_down(self) -> bool:
        return self.requests_used is None


def _percent(part: int, whole: int) -> int:
    """A share in whole percent: 100 only when all is done (0 of nothing is 0)."""
    if whole <= 0:
        return 0
    if part >= whole:
        return 100
    return min(99, part * 100 // whole)


def _budget_seconds(requests: int, limit: int, window: float) -> int:
    """How long `requests` take at `limit` requests per `window` seconds."""
    if requests <= 0:
        return 0
    return math.ceil(requests * window / max(1, limit))


def _resync_requests(modules: list[MirrorPart], contacts: MirrorPart) -> int:
    """What reading everything again costs: the modules and schemas, each list (a page per
    100 records and status group) and every record."""
    pages = sum(len(STATUS_GROUPS) + math.ceil(part.rows / 100) for part in modules) + max(
        1, math.ceil(contacts.rows / 100)
    )
    records = sum(part.rows for part in modules) * CARD_REQUESTS + contacts.rows
    return 1 + len(modules) + 2 + pages + records


def sync_share_limit() -> int:
    """The requests the sync may make per MINICRM_RATE_WINDOW: its share of the budget."""
    return max(1, math.floor(settings.MINICRM_RATE_LIMIT * settings.MIRROR_BUDGET_SHARE))


def listed_module(*, category_id: int) -> Module | None:
    """A module MiniCRM lists (the Sync page and `mirror_sync --module` resync only those)."""
    return Module.objects.filter(pk=category_id, listed=True).first()


def _list_pass(state: SyncState | None, now: datetime, *, contacts: bool) -> ListPass:
    if state is None:
        return ListPass(None, False, None, "", 1, 0, None)
    running = state.pass_started_at is not None
    group = ""
    if running and not contacts:
        group = STATUS_GROUPS[min(state.pass_group, len(STATUS_GROUPS) - 1)]
    return ListPass(
        filled=_moment(state.filled_at, now),
        running=running,
        started=_moment(state.pass_started_at, now),
        group=group,
        page=state.pass_page + 1,
        seen=state.pass_seen if running else 0,
        rescanned=_moment(state.rescanned_at, now),
    )


def _redis_view() -> tuple[int | None, bool | None]:
    """The sync's requests in the last window and whether a sync runs; (None, None) without
    Redis."""
    try:
        used = sync_cap().usage().used
        running = bool(_redis(settings.REDIS_URL).exists(sync_lock_key()))
    except (redis.RedisError, OSError):
        return None, None
    return used, running


def sync_overview() -> SyncOverview:
    """The mirror's state for the Sync page (a few aggregate queries, no table loaded)."""
    now = timezone.now()
    states = {state.key: state for state in SyncState.objects.all()}
    complete = Q(
        completeness=Completeness.DETAIL,
        todos_synced_at__isnull=False,
        history_synced_at__isnull=False,
    )
    live = Q(deleted=False)
    card_counts = {
        row["category_id"]: row
        for row in Card.objects.exclude(category_id=0)
        .values("category_id")
        .annotate(
            rows=Count("id", filter=live),
            detail=Count("id", filter=live & complete),
            deleted=Count("id", filter=Q(deleted=True)),
            stale=Count("id", filter=Q(stale_since__isnull=False)),
        )
        .order_by()
    }
    modules = []
    module_names = dict(Module.objects.values_list("id", "name"))
    for module in Module.objects.filter(listed=True).order_by("position", "id"):
        counts = card_counts.get(module.pk, {})
        key = f"module:{module.pk}"
        state = states.get(key)
        modules.append(
            MirrorPart(
                key=key,
                name=module.name,
                category_id=module.pk,
                rows=counts.get("rows", 0),
                detail=counts.get("detail", 0),
                deleted=counts.get("deleted", 0),
                stale=counts.get("stale", 0),
                listed_total=state.listed_total if state else None,
                list_pass=_list_pass(state, now, contacts=False),
                error=state.error if state else "",
                error_at=_moment(state.error_at, now) if state else None,
            )
        )
    contact_counts = Contact.objects.exclude(type="").aggregate(
        rows=Count("id", filter=live),
        detail=Count("id", filter=live & Q(completeness=Completeness.DETAIL)),
        deleted=Count("id", filter=Q(deleted=True)),
        stale=Count("id", filter=Q(stale_since__isnull=False)),
    )
    state = states.get(CONTACTS)
    contacts = MirrorPart(
        key=CONTACTS,
        name=str(_("Contacts")),
        category_id=None,
        rows=contact_counts["rows"] or 0,
        detail=contact_counts["detail"] or 0,
        deleted=contact_counts["deleted"] or 0,
        stale=contact_counts["stale"] or 0,
        listed_total=state.listed_total if state else None,
        list_pass=_list_pass(state, now, contacts=True),
        error=state.error if state else "",
        error_at=_moment(state.error_at, now) if state else None,
    )
    missing_cards = sum(part.missing for part in modules)
    all_cards = sum(part.rows for part in modules)
    requests_needed = missing_cards * CARD_REQUESTS + contacts.missing
    limit = sync_share_limit()
    window = float(settings.MINICRM_RATE_WINDOW)
    polls = []
    for key in POLLS:
        poll = states.get(key)
        polls.append(
            Poll(
                key=key,
                entity=key.split(":", 1)[1],
                polled=_moment(poll.polled_at, now) if poll else None,
                cursor=poll.cursor if poll else "",
            )
        )
    hooks = states.get("webhooks")
    webhook_at = hooks.webhook_at if hooks else None
    heard = [m.at for m in (p.polled for p in polls) if m is not None]
    if webhook_at is not None:
        heard.append(webhook_at)
    stale = (
        Card.objects.filter(stale_since__isnull=False).count()
        + Contact.objects.filter(stale_since__isnull=False).count()
    )
    used, running = _redis_view()
    return SyncOverview(
        enabled=mirror_on(),
        modules=modules,
        contacts=contacts,
        complete=sum(part.detail for part in modules) + contacts.detail,
        total=all_cards + contacts.rows,
        missing_cards=missing_cards,
        missing_contacts=contacts.missing,
        requests_needed=requests_needed,
        share_limit=limit,
        window=window,
        eta_seconds=_budget_seconds(requests_needed, limit, window),
        resync_all_seconds=_budget_seconds(_resync_requests(modules, contacts), limit, window),
        polls=polls,
        webhook=_moment(webhook_at, now),
        lag_seconds=max(0, int((now - max(heard)).total_seconds())) if heard else None,
        errors=[
            SyncError(
                key=s.key,
                label=_state_label(s.key, module_names),
                error=s.error,
                at=_moment(s.error_at, now),
            )
            for s in sorted(states.values(), key=lambda s: s.key)
            if s.error
        ],
        stale=stale,
        requests_used=used,
        running=running,
    )


def mirror_has_record(*, object_type: str, object_id: int) -> bool:
    """Whether the mirror holds a card ("project") or contact (placeholders aside)."""
    if object_type == "project":
        return card_row(card_id=object_id) is not None
    return contact_row(contact_id=object_id) is not None
