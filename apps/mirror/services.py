"""The sync: keeping the mirror in step with MiniCRM within the sync's share of the budget.

One sync runs at a time (a lock in Redis), started by beat every MIRROR_TICK_SECONDS and
kicked by webhooks, writes and pages; it works in small steps, most urgent first:

1. modules and schemas, when never read or older than MIRROR_SCHEMA_SECONDS;
2. records marked stale (a webhook, the poll, a landed write, a page opened on an old copy);
3. list passes: each module's cards by status group and every contact, 100 a request (the
   first fill, then a rescan every MIRROR_RESCAN_SECONDS that finds deletions), resumable
   from the last stored page;
4. the incremental poll (`UpdatedSince`) every MIRROR_POLL_SECONDS;
5. the backfill: details, to-dos and histories of what the lists brought, open cards and the
   newest first.

Every step's progress is in the database, so a killed worker loses at most the page it was
reading.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from apps.core.fieldviews import minicrm_naive
from apps.core.minicrm import SYNC_SOURCE, _redis, minicrm_budget, minicrm_client, tallied
from apps.mirror import store
from apps.mirror.models import Card, Completeness, Contact, Module, Schema, SyncState
from minicrm import MiniCRMClient, MiniCRMError, NotFound, Priority, RateLimited
from minicrm.ratelimit import CappedBudget, RedisBudget
from minicrm.resources.schema import RedisSchemaCache
from minicrm.types import to_datetime

log = logging.getLogger(__name__)

STATUS_GROUPS = ("Lead", "Open", "Success", "Failed")
CONTACTS = "contacts"
POLLS = ("poll:Project", "poll:Contact")
# The requests one card's full read costs: detail, to-do list, status history.
CARD_REQUESTS = 3
SLOT_WAIT_SECONDS = 10.0


def module_key(category_id: int) -> str:
    return f"module:{category_id}"


# -- the sync's client and budget -------------------------------------------------------------


def sync_cap() -> RedisBudget:
    """The sync's own share of the budget; its log counts what the sync spent in the window."""
    limit = max(1, math.floor(settings.MINICRM_RATE_LIMIT * settings.MIRROR_BUDGET_SHARE))
    return RedisBudget(
        _redis(settings.REDIS_URL),
        system_id=f"{settings.MINICRM_SYSTEM_ID}:mirror",
        limit=limit,
        window=settings.MINICRM_RATE_WINDOW,
        reserve=0.0,
    )


def sync_client() -> MiniCRMClient:
    """A client at bulk priority whose requests also count against the sync's share."""
    return MiniCRMClient(
        system_id=settings.MINICRM_SYSTEM_ID,
        api_key=settings.MINICRM_API_KEY,
        base_url=settings.MINICRM_BASE_URL,
        budget=tallied(CappedBudget(minicrm_budget(), sync_cap()), SYNC_SOURCE),
        priority=Priority.BULK,
        # A step waits this long for a slot at most; the run goes on with the next step.
        deadline=SLOT_WAIT_SECONDS,
        schema_cache=RedisSchemaCache(_redis(settings.REDIS_URL), ttl=settings.MINICRM_SCHEMA_TTL),
        timeout=(settings.MINICRM_CONNECT_TIMEOUT, settings.MINICRM_READ_TIMEOUT),
        max_retries=settings.MINICRM_MAX_RETRIES,
        backoff=settings.MINICRM_RETRY_BACKOFF,
    )


def _state(key: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(key=key)
    return state


def _failed(key: str, error: Exception) -> None:
    SyncState.objects.update_or_create(
        key=key, defaults={"error": str(error)[:2000], "error_at": timezone.now()}
    )


def _succeeded(key: str) -> None:
    SyncState.objects.filter(key=key).exclude(error="").update(error="", error_at=None)


# -- reading one record (the sync, and pages at interactive priority) ------------------------


def schema_ensure(*, category_id: int, client: MiniCRMClient) -> None:
    """The module's schema in the mirror (and its row, for a module not listed yet)."""
    module = Module.objects.filter(pk=category_id).first()
    if module is not None and module.schema:
        return
    data = client.request("GET", f"/Api/R3/Schema/Project/{int(category_id)}")
    if module is None:  # the sync may list it meanwhile: get_or_create takes its row then
        Module.objects.get_or_create(
            id=category_id, defaults={"name": f"#{category_id}", "listed": False}
        )
    store.module_schema_store(
        category_id=category_id, data=data if isinstance(data, dict) else {}, fetched_at=now()
    )


def card_fetch(*, card_id: int, client: MiniCRMClient | None = None) -> Card | None:
    """Read a card (detail, to-dos, status history) and store it; None when MiniCRM has no such
    card (the mirror's copy is marked deleted). MiniCRM's other errors are raised."""
    client = client or minicrm_client()
    fetched_at = now()
    try:
        project = client.projects.get(card_id)
    except NotFound:
        store.card_store_deleted(card_id=card_id, at=fetched_at)
        return None
    if project.category_id:
        schema_ensure(category_id=project.category_id, client=client)
    store.card_store_detail(project.fields, fetched_at=fetched_at)
    todos = client.todos.list(card_id, status="All").items
    store.todos_store(card_id=card_id, todos=todos, fetched_at=fetched_at)
    history = client.projects.status_history(card_id)
    store.history_store(card_id=card_id, changes=history, fetched_at=fetched_at)
    Card.objects.filter(pk=card_id, stale_since__lte=fetched_at).update(stale_since=None)
    return Card.objects.filter(pk=card_id).first()


def contact_fetch(*, contact_id: int, client: MiniCRMClient | None = None) -> Contact | None:
    """Read a contact and store it; None when MiniCRM has no such contact."""
    client = client or minicrm_client()
    fetched_at = now()
    try:
        contact = client.contacts.get(contact_id)
    except NotFound:
        store.contact_store_deleted(contact_id=contact_id, at=fetched_at)
        return None
    store.contact_store_detail(contact.fields, fetched_at=fetched_at)
    Contact.objects.filter(pk=contact_id, stale_since__lte=fetched_at).update(stale_since=None)
    return Contact.objects.filter(pk=contact_id).first()


def todo_fetch(*, todo_id: int, client: MiniCRMClient | None = None) -> Any:
    """Read one to-do's detail and store it (MiniCRM's NotFound is raised)."""
    client = client or minicrm_client()
    fetched_at = now()
    todo = client.todos.get(todo_id)
    return store.todo_store_detail(todo.fields, fetched_at=fetched_at)


# -- marking records for the sync -------------------------------------------------------------


def record_mark_stale(*, object_type: str, object_id: int) -> bool:
    """Ask the sync to read a card ("project") or contact again soon; False when the mirror
    has no such row (a card of an unknown module gets a placeholder the sync fills in)."""
    moment = now()
    if object_type == "project":
        updated = Card.objects.filter(pk=object_id, stale_since__isnull=True).update(
            stale_since=moment
        )
        if not updated and not Card.objects.filter(pk=object_id).exists():
            Card.objects.create(id=object_id, category_id=0, synced_at=moment, stale_since=moment)
    else:
        updated = Contact.objects.filter(pk=object_id, stale_since__isnull=True).update(
            stale_since=moment
        )
        if not updated and not Contact.objects.filter(pk=object_id).exists():
            Contact.objects.create(id=object_id, synced_at=moment, stale_since=moment)
    sync_kick()
    return True


def refresh_if_old(*, object_type: str, record: Card | Contact) -> bool:
    """A page opened a copy older than MIRROR_STALE_SECONDS: read it again in the background
    (once, however many people open it). True when a refresh is on its way."""
    if record.stale_since is not None:
        return True
    age = (now() - record.synced_at).total_seconds()
    if age < settings.MIRROR_STALE_SECONDS:
        return False
    return record_mark_stale(object_type=object_type, object_id=record.pk)


KICK_KEY = "mirror:kick"


def sync_kick() -> None:
    """Start a sync soon (at most one kick every two seconds; beat starts one anyway)."""

    def kick() -> None:
        try:
            if _redis(settings.REDIS_URL).set(_key(KICK_KEY), "1", nx=True, px=2000):
                from apps.mirror.tasks import sync_mirror

                sync_mirror.delay()
        except (redis.RedisError, OSError) as error:  # beat starts the sync anyway
            log.warning("could not start the mirror's sync: %s", error)

    transaction.on_commit(kick)


# -- webhooks and writes ----------------------------------------------------------------------


def webhook_apply(*, object_type: str, object_id: int, data: dict[str, Any]) -> None:
    """A webhook's Data, laid over the mirror at once; the sync reads the record again."""
    received = now()
    if object_type == "Project":
        card = store.card_store_webhook(data, card_id=object_id, received_at=received)
        if card is None:
            record_mark_stale(object_type="project", object_id=object_id)
    elif object_type == "Contact":
        contact = store.contact_store_webhook(data, contact_id=object_id, received_at=received)
        if contact is None:
            record_mark_stale(object_type="contact", object_id=object_id)
    else:
        return
    SyncState.objects.update_or_create(key="webhooks", defaults={"webhook_at": received})
    sync_kick()


def write_apply(*, write: Any) -> None:
    """A write that landed in MiniCRM, applied to the mirror from what was sent and what
    MiniCRM answered, so everyone sees it at once; the sync confirms it with a read."""
    target_id = write.target_id
    if not target_id:
        return
    landed = write.done_at or now()
    sent = write.sending_since or write.first_attempt_at
    payload = dict(write.payload or {})
    kind = str(write.kind)
    if kind in ("project.create", "project.update"):
        store.card_store_write(
            card_id=target_id,
            changes=payload,
            landed_at=landed,
            sent_at=sent,
            category_id=int(payload.get("CategoryId") or 0) or None,
        )
        record_mark_stale(object_type="project", object_id=target_id)
    elif kind in ("contact.create", "contact.update"):
        if kind == "contact.create" and not Contact.objects.filter(pk=target_id).exists():
            Contact.objects.create(
                id=target_id, type=str(payload.get("Type") or "Person"), synced_at=landed
            )
        store.contact_store_write(
            contact_id=target_id, changes=payload, landed_at=landed, sent_at=sent
        )
        record_mark_stale(object_type="contact", object_id=target_id)
    elif kind == "contact.purge":
        store.contact_store_deleted(contact_id=target_id, at=landed)
    elif kind in ("todo.create", "todo.update"):
        card_id = int(payload.get("ProjectId") or 0) or _todo_card(target_id)
        if kind == "todo.update":
            store.todo_store_write(todo_id=target_id, changes=payload, landed_at=landed)
        else:
            store.todo_store_created(
                todo_id=target_id, card_id=card_id, values=payload, landed_at=landed
            )
        if card_id:
            record_mark_stale(object_type="project", object_id=card_id)
    elif kind.startswith("order."):
        # MiniCRM keeps an order's card in step with it (Piszkozat, Teljesítve, Sztornó):
        # the sync reads the card again.
        card_id = int(((write.result or {}).get("order") or {}).get("project_id") or 0)
        if card_id:
            record_mark_stale(object_type="project", object_id=card_id)


def conflict_apply(*, write: Any) -> None:
    """A write found MiniCRM's values changed since the person saw them: the values it found
    are applied to the mirror at once (the person decides on them) and the record is read
    again."""
    target_id = write.target_id
    if not target_id or write.target_type not in ("project", "contact"):
        return
    clashes = (write.result or {}).get("conflict") or {}
    found = {name: clash["now"] for name, clash in clashes.items() if "now" in clash}
    moment = now()
    if found and write.target_type == "project":
        store.card_store_write(card_id=target_id, changes=found, landed_at=moment)
    elif found:
        store.contact_store_write(contact_id=target_id, changes=found, landed_at=moment)
    record_mark_stale(object_type=write.target_type, object_id=target_id)


def _todo_card(todo_id: int) -> int:
    from apps.mirror.models import ToDo

    todo = ToDo.objects.filter(pk=todo_id).only("card_id").first()
    return todo.card_id if todo else 0


# -- the steps of a sync ----------------------------------------------------------------------


def modules_due() -> bool:
    oldest = now() - timedelta(seconds=settings.MIRROR_SCHEMA_SECONDS)
    listed = Module.objects.filter(listed=True)
    return (
        not listed.exists()
        or listed.filter(Q(synced_at__lt=oldest) | Q(synced_at__isnull=True)).exists()
        or listed.filter(Q(schema__isnull=True) | Q(schema_synced_at__lt=oldest)).exists()
        or not Schema.objects.filter(entity="Person", synced_at__gte=oldest).exists()
    )


def modules_sync(*, client: MiniCRMClient) -> list[Module]:
    """MiniCRM's modules, their schemas and the contact schemas, read again."""
    fetched_at = now()
    modules = store.modules_store(client.categories.list(), fetched_at=fetched_at)
    for module in modules:
        data = client.request("GET", f"/Api/R3/Schema/Project/{module.id}")
        store.module_schema_store(
            category_id=module.id, data=data if isinstance(data, dict) else {}, fetched_at=now()
        )
        SyncState.objects.get_or_create(key=module_key(module.id))
    for entity in ("Person", "Business"):
        data = client.request("GET", f"/Api/R3/Schema/{entity}")
        store.contact_schema_store(
            entity=entity, data=data if isinstance(data, dict) else {}, fetched_at=now()
        )
    SyncState.objects.get_or_create(key=CONTACTS)
    _succeeded("modules")
    return modules


def schemas_forget(*entities: str) -> None:
    """Forget mirrored schemas ("Person", "Business", "Project/10"); all if none named."""
    contacts = [e for e in entities if e in ("Person", "Business")]
    modules = [int(e.split("/", 1)[1]) for e in entities if e.startswith("Project/")]
    if not entities:
        Schema.objects.all().delete()
        Module.objects.update(schema=None, schema_synced_at=None)
        return
    Schema.objects.filter(entity__in=contacts).delete()
    Module.objects.filter(pk__in=modules).update(schema=None, schema_synced_at=None)


def stale_next() -> tuple[str, int] | None:
    """The record waiting longest for a read, as ("project" | "contact", id)."""
    card = Card.objects.filter(stale_since__isnull=False).order_by("stale_since", "id").first()
    contact = (
        Contact.objects.filter(stale_since__isnull=False).order_by("stale_since", "id").first()
    )
    if card is None and contact is None:
        return None
    if contact is None or (card is not None and card.stale_since <= contact.stale_since):  # type: ignore[operator]
        assert card is not None
        return "project", card.pk
    return "contact", contact.pk


def stale_refresh(*, client: MiniCRMClient) -> bool:
    """Read the record waiting longest; False when none waits."""
    return _read(stale_next(), client)


def _read(record: tuple[str, int] | None, client: MiniCRMClient) -> bool:
    """Read one ("project" | "contact", id) in full; False when there is none to read."""
    if record is None:
        return False
    object_type, object_id = record
    if object_type == "project":
        card_fetch(card_id=object_id, client=client)
    else:
        contact_fetch(contact_id=object_id, client=client)
    return True


def pass_due(state: SyncState) -> bool:
    if state.pass_started_at is not None or state.rescanned_at is None:
        return True
    age = (now() - state.rescanned_at).total_seconds()
    return age >= settings.MIRROR_RESCAN_SECONDS


def pass_next() -> SyncState | None:
    """The list pass to work on: one under way first, then modules and contacts never filled,
    then rescans that are due."""
    keys = [module_key(m.pk) for m in Module.objects.filter(listed=True)] + [CONTACTS]
    states = {s.key: s for s in SyncState.objects.filter(key__in=keys)}
    ordered = [states.get(key) or _state(key) for key in keys]
    for state in ordered:
        if state.pass_started_at is not None:
            return state
    for state in ordered:
        if state.filled_at is None:
            return state
    for state in ordered:
        if pass_due(state):
            return state
    return None


def pass_step(*, state: SyncState, client: MiniCRMClient) -> None:
    """Read one page of a list pass and store it; finish the pass after its last page."""
    if state.pass_started_at is None:
        state.pass_started_at = now()
        state.pass_group = state.pass_page = state.pass_seen = 0
        state.save()
        _poll_cursor_start(state.key, state.pass_started_at)
    fetched_at = now()
    if state.key == CONTACTS:
        page = client.contacts.search(page=state.pass_page)
        with transaction.atomic():
            for row in page.items:
                store.contact_store_row(row, fetched_at=fetched_at, listed_at=state.pass_started_at)
        last_page = state.pass_page + 1 >= page.pages
        state.pass_seen += len(page.items)
        state.pass_page = 0 if last_page else state.pass_page + 1
        finished = last_page
    else:
        category_id = int(state.key.split(":", 1)[1])
        group = STATUS_GROUPS[state.pass_group]
        schema = store.module_field_schema(category_id)
        cards = client.projects.search(
            category_id=category_id, status_group=group, page=state.pass_page
        )
        store.status_groups_learn(
            category_id=category_id,
            group=group,
            status_ids={r.status.id for r in cards.items if r.status.id is not None},
        )
        with transaction.atomic():
            for card_row in cards.items:
                store.card_store_row(
                    card_row,
                    category_id=category_id,
                    fetched_at=fetched_at,
                    status_group=group,
                    listed_at=state.pass_started_at,
                    schema=schema,
                )
        state.pass_seen += len(cards.items)
        if state.pass_page + 1 >= cards.pages:
            state.pass_group += 1
            state.pass_page = 0
        else:
            state.pass_page += 1
        finished = state.pass_group >= len(STATUS_GROUPS)
    if finished:
        _pass_finish(state)
    else:
        state.save()
    _succeeded(state.key)


def _pass_finish(state: SyncState) -> None:
    """The pass saw every listed record: what it did not see (and nothing wrote since it
    began) is read again, which marks it deleted if MiniCRM has it no more."""
    started = state.pass_started_at
    assert started is not None
    rows = (
        Card.objects.filter(category_id=int(state.key.split(":", 1)[1]))
        if state.key != CONTACTS
        else Contact.objects.all()
    )
    unseen = rows.filter(deleted=False, synced_at__lt=started).filter(
        Q(listed_at__isnull=True) | Q(listed_at__lt=started)
    )
    unseen.filter(stale_since__isnull=True).update(stale_since=now())
    finished = now()
    state.listed_total = state.pass_seen
    state.filled_at = state.filled_at or finished
    state.rescanned_at = finished
    state.pass_started_at = None
    state.pass_group = state.pass_page = 0
    state.save()


def _poll_cursor_start(key: str, started: datetime) -> None:
    """The first fill's start is where the incremental poll begins (what changed during the
    fill is polled again)."""
    poll = "poll:Contact" if key == CONTACTS else "poll:Project"
    state = _state(poll)
    if not state.cursor:
        state.cursor = minicrm_naive(started).strftime("%Y-%m-%d %H:%M:%S")
        state.save(update_fields=["cursor"])


def poll_next() -> SyncState | None:
    for key in POLLS:
        state = _state(key)
        if not state.cursor:
            continue
        if state.polled_at is None:
            return state
        if (now() - state.polled_at).total_seconds() >= settings.MIRROR_POLL_SECONDS:
            return state
    return None


def poll_step(*, state: SyncState, client: MiniCRMClient) -> int:
    """Ask MiniCRM what changed since the cursor (minus a margin); store the rows and mark them
    for a read. The cursor moves only once every page is stored. Returns how many changed."""
    cursor = to_datetime(state.cursor)
    assert cursor is not None
    since = cursor - timedelta(seconds=settings.MIRROR_POLL_MARGIN_SECONDS)
    started = minicrm_naive(now())
    fetched_at = now()
    changed = 0
    if state.key == "poll:Contact":
        for contact_row in client.contacts.search_all(updated_since=since):
            store.contact_store_row(contact_row, fetched_at=fetched_at)
            record_mark_stale(object_type="contact", object_id=contact_row.id)
            changed += 1
    else:
        for card_row in client.projects.search_all(updated_since=since):
            known = Card.objects.filter(pk=card_row.id).exclude(category_id=0).first()
            if known is not None:
                store.card_store_row(card_row, category_id=known.category_id, fetched_at=fetched_at)
            record_mark_stale(object_type="project", object_id=card_row.id)
            changed += 1
    state.cursor = started.strftime("%Y-%m-%d %H:%M:%S")
    state.polled_at = now()
    state.save(update_fields=["cursor", "polled_at"])
    _succeeded(state.key)
    return changed


def backfill_next() -> tuple[str, int] | None:
    """The next record the lists brought that has no full read yet: open cards first, the
    newest first; then contacts."""
    card = (
        Card.objects.filter(deleted=False)
        .exclude(category_id=0)
        .filter(
            Q(completeness=Completeness.ROW)
            | Q(todos_synced_at__isnull=True)
            | Q(history_synced_at__isnull=True)
        )
        .annotate(
            closed=Case(
                When(status_group__in=("Lead", "Open"), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-id")
        .only("id")
        .first()
    )
    if card is not None:
        return "project", card.pk
    contact = (
        Contact.objects.filter(deleted=False, completeness=Completeness.ROW)
        .order_by("-id")
        .only("id")
        .first()
    )
    return ("contact", contact.pk) if contact is not None else None


def backfill_step(*, client: MiniCRMClient) -> bool:
    return _read(backfill_next(), client)


def sync_step(*, client: MiniCRMClient) -> str | None:
    """Do the most urgent piece of work; its name, or None when the mirror is up to date.

    Modules first (everything else needs them), then a due poll (one request finds what
    changed), the first fill's lists (pages need them whole), records marked stale, rescans,
    and the backfill with what is left."""
    if modules_due():
        return _step("modules", lambda: modules_sync(client=client))
    poll = poll_next()
    if poll is not None:
        return _step(poll.key, lambda: poll_step(state=poll, client=client), "poll")
    state = pass_next()
    if state is not None and state.filled_at is None:
        return _step(state.key, lambda: pass_step(state=state, client=client), "list")
    if stale_refresh(client=client):
        return "refresh"
    if state is not None:
        return _step(state.key, lambda: pass_step(state=state, client=client), "list")
    if backfill_step(client=client):
        return "backfill"
    return None


def _step(key: str, work: Any, name: str | None = None) -> str:
    try:
        work()
    except MiniCRMError as error:
        if not isinstance(error, RateLimited):
            _failed(key, error)
        raise
    except DatabaseError as error:  # what MiniCRM sent and the mirror could not store
        _failed(key, error)
        raise
    return name or key


@dataclass
class SyncReport:
    ran: bool = False  # False when another sync held the lock
    steps: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    caught_up: bool = False


LOCK_KEY = "mirror:lock"


def _key(name: str) -> str:
    return f"{name}:{settings.MINICRM_SYSTEM_ID}"


def sync_lock_key() -> str:
    """The Redis key a running sync holds (the Sync page shows whether one runs)."""
    return _key(LOCK_KEY)


RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def sync_run(*, seconds: float | None = None, until_caught_up: bool = False) -> SyncReport:
    """Run the sync for up to `seconds` (MIRROR_RUN_SECONDS), or until the mirror is up to date;
    does nothing while another sync runs."""
    seconds = settings.MIRROR_RUN_SECONDS if seconds is None else seconds
    connection = _redis(settings.REDIS_URL)
    token = uuid.uuid4().hex
    # Held for one step at a time (renewed before each): a killed worker's lock lapses soon.
    attempts = settings.MINICRM_MAX_RETRIES + 1
    hold_ms = int((SLOT_WAIT_SECONDS + settings.MINICRM_READ_TIMEOUT * attempts + 5) * 1000)
    lock = _key(LOCK_KEY)
    if not connection.set(lock, token, nx=True, px=hold_ms):
        return SyncReport()
    report = SyncReport(ran=True)
    client = sync_client()
    end = time.monotonic() + seconds
    try:
        while until_caught_up or time.monotonic() < end:
            connection.eval(RENEW_SCRIPT, 1, lock, token, hold_ms)
            try:
                step = sync_step(client=client)
            except RateLimited:
                time.sleep(1.0)
                continue
            except (MiniCRMError, DatabaseError) as error:
                log.warning("the mirror's sync failed a step: %s", error)
                report.errors += 1
                if report.errors >= 3:
                    break
                time.sleep(min(5.0, report.errors * 1.0))
                continue
            if step is None:
                report.caught_up = True
                break
            report.steps[step] = report.steps.get(step, 0) + 1
    finally:
        connection.eval(RELEASE_SCRIPT, 1, lock, token)
        client.close()
    return report


# -- what people ask for (the Sync page, `manage.py mirror_sync`) -----------------------------


def module_resync(*, category_id: int) -> None:
    """Read a module's list again from its first page, and every card of it again."""
    state = _state(module_key(category_id))
    state.pass_started_at = None
    state.rescanned_at = None
    state.save()
    Card.objects.filter(category_id=category_id, stale_since__isnull=True).update(stale_since=now())
    sync_kick()


def contacts_resync() -> None:
    state = _state(CONTACTS)
    state.pass_started_at = None
    state.rescanned_at = None
    state.save()
    Contact.objects.filter(stale_since__isnull=True).update(stale_since=now())
    sync_kick()


def mirror_resync_all() -> None:
    """Everything read again: modules and schemas, every list, every record."""
    Module.objects.update(synced_at=None)
    for module in Module.objects.filter(listed=True):
        module_resync(category_id=module.pk)
    contacts_resync()


def now() -> datetime:
    return timezone.now()
