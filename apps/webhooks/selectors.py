"""Reads of webhooks: handlers, the event log with filters, an object's automations, and the
MiniCRM schemas a handler is checked against."""

from __future__ import annotations

import redis
from django.db.models import QuerySet

from apps.core.minicrm import minicrm_client
from apps.core.selectors import modules_all
from apps.webhooks.models import Event, Handler
from minicrm import ConnectionFailed, NotFound
from minicrm.resources.schema import Schema


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


def handler_schemas(*, object_type: str, category_id: int | None) -> list[Schema]:
    """The schemas a handler's fields and actions are checked against: its module's, every
    module's when it names none, Person's and Business's for contacts (cached schemas).

    NotFound when MiniCRM has no such module; MiniCRM's own error when it cannot be asked.
    """
    client = minicrm_client()
    try:
        if object_type == Handler.Type.CONTACT:
            return [client.schemas.person(), client.schemas.business()]
        modules = [module.id for module in modules_all()]
        if category_id is not None and category_id not in modules:
            raise NotFound(f"Module {category_id} not found.")
        return [client.schemas.project(m) for m in ([category_id] if category_id else modules)]
    except redis.RedisError as error:  # the schema cache
        raise ConnectionFailed(str(error)) from error
