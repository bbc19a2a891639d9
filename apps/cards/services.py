"""Changes to cards: checked against the module's schema, then queued for MiniCRM; and what a
card page asks of the mirror (a fresh read of an old copy, "Refresh from MiniCRM")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.cards.models import ColumnChoice, SavedFilter
from apps.cards.selectors import card_schema
from apps.core.minicrm import minicrm_client
from apps.core.readcache import forget_object
from apps.mirror.models import Card as MirrorCard
from apps.mirror.selectors import Freshness, mirror_on
from apps.mirror.services import card_fetch, refresh_if_old
from apps.writes.models import BulkJob, Write
from apps.writes.services import Requester, bulk_update, write_enqueue


def card_create(
    *,
    category_id: int,
    values: dict[str, Any],
    user: Requester = None,
    idempotency_key: str | None = None,
) -> Write:
    """Queue a new card in a module; raises SchemaValidationError before anything is queued.

    The same `idempotency_key` (the add form's one-time key) gives the first write again."""
    cleaned = card_schema(category_id=category_id).validate(values, creating=True)
    return write_enqueue(
        kind=Write.Kind.PROJECT_CREATE,
        target_type="project",
        payload={"CategoryId": category_id, **cleaned},
        user=user,
        idempotency_key=idempotency_key,
    )


def card_update(
    *,
    card_id: int,
    category_id: int,
    changes: dict[str, Any],
    seen: dict[str, Any] | None = None,
    user: Requester = None,
    hold: float = 0.0,
) -> Write | None:
    """Queue the changed fields of a card (None when nothing changed).

    `seen` holds the values the user saw of those fields: if MiniCRM's differ when the write
    is sent, it stops as a conflict instead of overwriting. `hold`: seconds the write waits,
    undoable, before it is sent.
    """
    cleaned = card_schema(category_id=category_id).validate(changes)
    if not cleaned:
        return None
    return write_enqueue(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card_id,
        payload=cleaned,
        seen={k: v for k, v in (seen or {}).items() if k in cleaned} or None,
        user=user,
        hold=hold,
    )


def cards_bulk_update(
    *,
    card_ids: Iterable[int],
    category_id: int,
    changes: dict[str, Any],
    description: str = "",
    summary: dict[str, Any] | None = None,
    user: Requester = None,
) -> BulkJob:
    """Queue one change (status, owner or a field) for many cards of a module as one job."""
    cleaned = card_schema(category_id=category_id).validate(changes)
    return bulk_update(
        target_type="project",
        target_ids=card_ids,
        payload=cleaned,
        description=description,
        summary=summary,
        user=user,
    )


def card_seen(*, row: MirrorCard | None) -> Freshness:
    """A card page was opened on the mirror's copy: a copy older than MIRROR_STALE_SECONDS is
    read again in the background (the page updates itself when it arrives). How fresh the
    page is."""
    if row is None:
        return Freshness(None)
    refreshing = refresh_if_old(object_type="project", record=row)
    return Freshness(row.synced_at, refreshing=refreshing)


def card_refresh(*, card_id: int) -> bool:
    """Read a card again from MiniCRM now, at interactive priority: its detail, to-dos and
    status history. False when MiniCRM has no such card (any more); its other errors are
    raised."""
    if not mirror_on():
        forget_object("project", card_id)  # the next page reads MiniCRM afresh
        return True
    row = card_fetch(card_id=card_id, client=minicrm_client())
    return row is not None and not row.deleted


# -- what a person keeps of a changelist -----------------------------------------------------


def columns_choose(*, user: Any, category_id: int, keys: list[str]) -> ColumnChoice:
    """Save the columns (in the order given) a person shows on a module's changelist."""
    choice, _created = ColumnChoice.objects.update_or_create(
        user=user, category_id=category_id, defaults={"columns": list(dict.fromkeys(keys))}
    )
    return choice


def saved_filter_save(*, user: Any, category_id: int, name: str, query: str) -> SavedFilter:
    """Name a changelist's query; a filter of the same name is replaced."""
    saved, _created = SavedFilter.objects.update_or_create(
        user=user, category_id=category_id, name=name, defaults={"query": query}
    )
    return saved


def saved_filter_delete(*, user: Any, category_id: int, filter_id: int) -> bool:
    deleted, _rows = SavedFilter.objects.filter(
        pk=filter_id, user=user, category_id=category_id
    ).delete()
    return bool(deleted)
