"""Changes to companies and persons: checked against the schema, then queued for MiniCRM."""

from __future__ import annotations

from typing import Any

from apps.core.minicrm import minicrm_client
from apps.writes.models import Write
from apps.writes.services import Requester, write_enqueue


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
