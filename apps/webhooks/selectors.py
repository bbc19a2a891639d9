"""Reads of webhooks: handlers, the event log with filters, an object's automations."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.webhooks.models import Event, Handler


def handler_list() -> QuerySet[Handler]:
    return Handler.objects.prefetch_related("actions")


def event_list(
    *,
    handler_id: int | None = None,
    object_type: str = "",
    object_id: int | None = None,
    status: str = "",
) -> QuerySet[Event]:
    events = Event.objects.select_related("handler")
    if handler_id:
        events = events.filter(handler_id=handler_id)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id is not None:
        events = events.filter(object_id=object_id)
    if status:
        events = events.filter(status=status)
    return events


def automations_for(*, object_type: str, object_id: int) -> QuerySet[Event]:
    """The handlers that ran on an object lately (for the card page)."""
    return event_list(object_type=object_type, object_id=object_id).exclude(
        status__in=(Event.Status.DUPLICATE, Event.Status.MALFORMED)
    )[:10]
