"""Reads of webhooks: handlers, the event log with filters, an object's automations, and the
MiniCRM schemas a handler is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.core.minicrm import minicrm_client
from apps.core.selectors import modules_all
from apps.mirror.labels import Named, named_value, readable, schema_for, value_names
from apps.webhooks.models import Action, Event, Handler
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


@dataclass(frozen=True)
class EventView:
    """An event as its page shows it: MiniCRM's Data and the fields it says changed labelled
    from the schema and the mirror, and each action's result as readable rows."""

    event: Event
    data: list[Named]
    changed: list[str]
    results: list[Named]


def _result_row(entry: Any) -> Named:
    kinds = dict(Action.Kind.choices)
    if isinstance(entry, dict) and "action" in entry:
        label = kinds.get(str(entry["action"]), str(entry["action"]))
        return Named(str(label), readable(entry.get("result")))
    if isinstance(entry, dict) and set(entry) == {"forward"}:
        return Named(str(kinds[Action.Kind.FORWARD]), readable(entry["forward"]))
    return Named(_("Result"), readable(entry))


def event_view(*, event: Event) -> EventView:
    message = event.message if isinstance(event.message, dict) else {}
    found = message.get("Data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    schema = schema_for(event.object_type, data)
    names = value_names([data])
    return EventView(
        event=event,
        data=[named_value(str(name), value, schema, names) for name, value in data.items()],
        changed=[named_value(str(name), "", schema, names).label for name in event.changed or []],
        results=[_result_row(entry) for entry in event.results or []],
    )
