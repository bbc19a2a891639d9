"""Reads of the mirror itself: whether it is on, how fresh a record is, and the records pages
build on (cards, contacts, to-dos and histories as MiniCRM's own types)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from apps.core.fieldviews import minicrm_naive
from apps.mirror.models import Card, Completeness, Contact, StatusChange, ToDo
from minicrm.types import StatusChange as RemoteStatusChange
from minicrm.types import ToDoSummary


def mirror_on() -> bool:
    return bool(settings.MIRROR_ENABLED)


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


def card_todos(*, card_id: int) -> list[ToDoSummary]:
    """A card's to-dos as the to-do list answers them (naive MiniCRM local deadlines)."""
    return [
        ToDoSummary(
            id=todo.id,
            status=todo.status,
            comment=todo.comment,
            deadline=minicrm_naive(todo.deadline) if todo.deadline else None,
            user_id=todo.user_id,
            type_id=todo.type_id,
            url=str((todo.data or {}).get("Url", "")),
        )
        for todo in ToDo.objects.filter(card_id=card_id).order_by("id")
    ]


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
