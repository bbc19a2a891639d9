"""Changes to cards: checked against the module's schema, then queued for MiniCRM."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.core.minicrm import minicrm_client
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
    schema = minicrm_client().schemas.project(category_id)
    cleaned = schema.validate(values, creating=True)
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
) -> Write | None:
    """Queue the changed fields of a card (None when nothing changed).

    `seen` holds the values the user saw of those fields: if MiniCRM's differ when the write
    is sent, it stops as a conflict instead of overwriting.
    """
    cleaned = minicrm_client().schemas.project(category_id).validate(changes)
    if not cleaned:
        return None
    return write_enqueue(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card_id,
        payload=cleaned,
        seen={k: v for k, v in (seen or {}).items() if k in cleaned} or None,
        user=user,
    )


def cards_bulk_update(
    *,
    card_ids: Iterable[int],
    category_id: int,
    changes: dict[str, Any],
    description: str,
    user: Requester = None,
) -> BulkJob:
    """Queue one change (status, owner or a field) for many cards of a module as one job."""
    cleaned = minicrm_client().schemas.project(category_id).validate(changes)
    return bulk_update(
        target_type="project",
        target_ids=card_ids,
        payload=cleaned,
        description=description,
        user=user,
    )
