"""Changes to to-dos: checked here, then queued for MiniCRM.

MiniCRM creates to-dos with PUT and a ProjectId, refuses to change a to-do's ProjectId,
Members or Notes, and refuses any change to a closed to-do.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.todos.models import CardVisit
from apps.writes.models import Write
from apps.writes.services import Requester, write_enqueue
from minicrm.resources.schema import FieldSpec, Schema, SchemaValidationError

EDITABLE = {
    "Comment": FieldSpec(name="Comment", kind="text", label="Comment", max_length=65535),
    "Deadline": FieldSpec(name="Deadline", kind="datetime", label="Deadline"),
    "UserId": FieldSpec(name="UserId", kind="int", label="Owner"),
    "Type": FieldSpec(name="Type", kind="int", label="Type"),
}
FIXED = ("ProjectId", "Members", "Notes")
TODO_SCHEMA = Schema("ToDo", None, EDITABLE)


def todo_create(
    *,
    project_id: int,
    values: dict[str, Any],
    user: Requester = None,
    idempotency_key: str | None = None,
) -> Write:
    """Queue a new to-do on a card: comment (required), owner, deadline, type.

    The same `idempotency_key` (the add form's one-time key) gives the first write again."""
    cleaned = TODO_SCHEMA.validate(values)
    if not str(cleaned.get("Comment", "")).strip():
        raise SchemaValidationError({"Comment": "This field is required."})
    return write_enqueue(
        kind=Write.Kind.TODO_CREATE,
        target_type="todo",
        payload={"ProjectId": int(project_id), **cleaned},
        user=user,
        idempotency_key=idempotency_key,
    )


def todo_update(*, todo_id: int, changes: dict[str, Any], user: Requester = None) -> Write | None:
    """Queue changes to an open to-do: comment, deadline, owner (None when nothing changed)."""
    refused = {name: "MiniCRM does not let this field change." for name in changes if name in FIXED}
    if refused:
        raise SchemaValidationError(refused)
    cleaned = TODO_SCHEMA.validate(changes)
    if not cleaned:
        return None
    return write_enqueue(
        kind=Write.Kind.TODO_UPDATE,
        target_type="todo",
        target_id=todo_id,
        payload=cleaned,
        user=user,
    )


def todo_close(*, todo_id: int, user: Requester = None, hold: float = 0.0) -> Write:
    """Queue closing a to-do (`hold`: seconds it waits, undoable, before it is sent)."""
    return write_enqueue(
        kind=Write.Kind.TODO_UPDATE,
        target_type="todo",
        target_id=todo_id,
        payload={"Status": "Closed"},
        user=user,
        hold=hold,
    )


def card_visit_record(*, user: Any, card_id: int, card_name: str) -> None:
    """Remember that the user opened a card ("my to-dos" looks there)."""
    if not getattr(user, "is_authenticated", False):
        return
    CardVisit.objects.update_or_create(
        user=user,
        card_id=card_id,
        defaults={"card_name": card_name[:512], "visited_at": timezone.now()},
    )
