"""Changes to companies and persons: checked against the schema, then queued for MiniCRM;
and the mirror's copy of a contact page, refreshed when it is old or when asked."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.contacts.selectors import (
    card_rows_store,
    company_people_live,
    contact_rows_store,
    late_names,
    module_cards_live,
)
from apps.core.minicrm import minicrm_client
from apps.core.parallel import PageDeadline, gather
from apps.core.readcache import forget_object
from apps.core.selectors import modules_all
from apps.mirror.models import Card as MirrorCard
from apps.mirror.models import Contact as MirrorContact
from apps.mirror.selectors import Freshness, mirror_on
from apps.mirror.services import card_fetch, contact_fetch, record_mark_stale, refresh_if_old
from apps.writes.models import Write
from apps.writes.services import Requester, write_enqueue
from minicrm.types import Contact


def contact_create(
    *,
    contact_type: str,
    values: dict[str, Any],
    user: Requester = None,
    idempotency_key: str | None = None,
) -> Write:
    """Queue a new company (`Business`, needs Name) or person (`Person`, needs FirstName).

    The same `idempotency_key` (the add form's one-time key) gives the first write again."""
    schema = minicrm_client().schemas.contact(contact_type)
    cleaned = schema.validate({**values, "Type": contact_type}, creating=True)
    return write_enqueue(
        kind=Write.Kind.CONTACT_CREATE,
        target_type="contact",
        payload=cleaned,
        user=user,
        idempotency_key=idempotency_key,
    )


def contact_update(
    *,
    contact_id: int,
    contact_type: str,
    changes: dict[str, Any],
    seen: dict[str, Any] | None = None,
    user: Requester = None,
) -> Write | None:
    """Queue the changed fields of a contact (None when nothing changed)."""
    cleaned = minicrm_client().schemas.contact(contact_type).validate(changes)
    if not cleaned:
        return None
    return write_enqueue(
        kind=Write.Kind.CONTACT_UPDATE,
        target_type="contact",
        target_id=contact_id,
        payload=cleaned,
        seen={k: v for k, v in (seen or {}).items() if k in cleaned} or None,
        user=user,
    )


def contact_purge(*, contact_id: int, user: Requester = None) -> Write:
    """Queue the deletion of a person (MiniCRM refuses while it is a card's main contact)."""
    return write_enqueue(
        kind=Write.Kind.CONTACT_PURGE,
        target_type="contact",
        target_id=contact_id,
        payload={},
        user=user,
    )


# -- the mirror's copy of a contact page ------------------------------------------------------


def contact_seen(*, row: MirrorContact | None) -> Freshness:
    """A contact page was opened on the mirror's copy: a copy older than MIRROR_STALE_SECONDS
    is read again in the background. How fresh the page is."""
    if row is None:
        return Freshness(None)
    refreshing = refresh_if_old(object_type="contact", record=row)
    return Freshness(row.synced_at, refreshing=refreshing)


# Persons and cards a refresh finds no longer listed on the page, read again at once; more
# are left to the sync.
UNLISTED_READ = 10


def contact_refresh(*, contact_id: int) -> list[str] | None:
    """Read a contact again from MiniCRM at interactive priority, with what its page shows:
    a person's company, a company's persons and its cards in every module (side by side, up
    to the page's bound). Persons and cards the mirror places on the page that MiniCRM no
    longer lists there are read again too (the first few now, the others by the sync).

    What MiniCRM did not answer in time (named as a page names it); None when MiniCRM has no
    such contact. MiniCRM's other errors are raised."""
    if not mirror_on():
        forget_object("contact", contact_id)  # the next page reads MiniCRM afresh
        return []
    client = minicrm_client()
    row = contact_fetch(contact_id=contact_id, client=client)
    if row is None:
        return None
    contact = Contact.parse(row.data)
    modules = modules_all()
    calls: dict[str, Callable[[], Any]] = {}
    if contact.is_person:
        if contact.business_id:
            contact_fetch(contact_id=contact.business_id, client=client)
    else:
        calls["people"] = partial(company_people_live, contact.id)
    for module in modules:
        calls[f"cards:{module.id}"] = partial(module_cards_live, contact, module)
    fetched_at = timezone.now()
    arrived = gather(calls, deadline=PageDeadline())
    unlisted: list[tuple[str, int]] = []
    with transaction.atomic():
        if "people" in arrived.results:
            people = arrived.results["people"]
            contact_rows_store(people, fetched_at=fetched_at)
            persons = MirrorContact.objects.filter(business_id=contact.id, type="Person")
            unlisted += _unlisted("contact", persons, {person.id for person in people})
        for module in modules:
            if (group := arrived.results.get(f"cards:{module.id}")) is None:
                continue
            count, rows = group
            card_rows_store(module, rows, fetched_at=fetched_at)
            if count <= len(rows):  # MiniCRM listed them all: the others are not its any more
                cards = MirrorCard.objects.filter(category_id=module.id)
                cards = (
                    cards.filter(contact_id=contact.id)
                    if contact.is_person
                    else cards.filter(business_id=contact.id)
                )
                unlisted += _unlisted("project", cards, {card.id for card in rows})
    for object_type, object_id in unlisted[:UNLISTED_READ]:
        if object_type == "contact":
            contact_fetch(contact_id=object_id, client=client)
        else:
            card_fetch(card_id=object_id, client=client)
    for object_type, object_id in unlisted[UNLISTED_READ:]:
        record_mark_stale(object_type=object_type, object_id=object_id)
    return late_names(arrived.late, modules)


def _unlisted(object_type: str, rows: Any, listed: set[int]) -> list[tuple[str, int]]:
    """The rows MiniCRM did not list (moved elsewhere, or deleted)."""
    ids = rows.filter(deleted=False).exclude(pk__in=listed).values_list("pk", flat=True)
    return [(object_type, object_id) for object_id in ids]
