"""How each kind of write is sent to MiniCRM, and how a write that may already be there is found.

`deliver` sends one write and returns what MiniCRM answered. When an earlier attempt may have
reached MiniCRM (`write.uncertain`), it first looks for the effect of that attempt, so that a
create is not made twice: a card by its ReferenceId, a contact or a to-do by its fields and
creation time, an order's new items by the item ids it had before, a status change of an
order by the order's status. Updates are sent again as they are: they set the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apps.core.fieldviews import minicrm_naive
from apps.writes.models import Write
from minicrm import MiniCRMClient, NotFound
from minicrm.types import to_datetime

# How far before an uncertain attempt a found record may have been created (clock skew).
CREATED_MARGIN = timedelta(minutes=5)
REFERENCE_PREFIX = "crmconsole-"


@dataclass
class Delivered:
    """What a sent (or found) write produced."""

    target_id: int | None
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conflict(Exception):
    """The object changed in MiniCRM since the user saw it, in a field the write changes."""

    fields: dict[str, dict[str, Any]]  # field -> {"seen": ..., "now": ..., "mine": ...}


def deliver(client: MiniCRMClient, write: Write) -> Delivered:
    sender = SENDERS[write.kind]
    return sender(client, write)


# -- cards, contacts, to-dos ----------------------------------------------------------------


def _project_create(client: MiniCRMClient, write: Write) -> Delivered:
    reference = write.payload.get("ReferenceId") or ""
    if write.uncertain and reference:
        found = client.projects.search(reference_id=reference)
        if found.items:
            return Delivered(found.items[0].id, {"found": True})
    return Delivered(client.projects.create(write.payload))


def _project_update(client: MiniCRMClient, write: Write) -> Delivered:
    if write.seen:
        current = client.projects.get(_target(write)).fields
        _check_conflict(write, current, client.schemas.project(int(current["CategoryId"])))
    return Delivered(client.projects.update(_target(write), write.payload))


def _contact_create(client: MiniCRMClient, write: Write) -> Delivered:
    if write.uncertain:
        found = _find_contact(client, write)
        if found is not None:
            return Delivered(found, {"found": True})
    return Delivered(client.contacts.create(write.payload))


def _find_contact(client: MiniCRMClient, write: Write) -> int | None:
    payload = write.payload
    if payload.get("Email"):
        candidates = client.contacts.search(email=payload["Email"]).items
    else:
        name = payload.get("Name") or " ".join(
            str(payload.get(k) or "") for k in ("LastName", "FirstName")
        )
        candidates = client.contacts.search(query=name).items if name.strip() else []
    for candidate in candidates:
        contact = client.contacts.get(candidate.id)
        same = all(
            str(contact.fields.get(key, "")) == str(value)
            for key, value in payload.items()
            if key in ("Name", "FirstName", "LastName", "Email", "BusinessId")
        )
        if same and _created_during(write, contact.created_at):
            return contact.id
    return None


def _contact_update(client: MiniCRMClient, write: Write) -> Delivered:
    if write.seen:
        current = client.contacts.get(_target(write))
        _check_conflict(write, current.fields, client.schemas.contact(current.type))
    return Delivered(client.contacts.update(_target(write), write.payload))


def _contact_purge(client: MiniCRMClient, write: Write) -> Delivered:
    if write.uncertain:
        try:
            client.contacts.get(_target(write))
        except NotFound:
            return Delivered(_target(write), {"found": True})
    client.contacts.purge(_target(write))
    return Delivered(_target(write))


def _todo_create(client: MiniCRMClient, write: Write) -> Delivered:
    if write.uncertain:
        project_id = int(write.payload["ProjectId"])
        for row in client.todos.list(project_id, status="All").items:
            if row.comment != str(write.payload.get("Comment", "")):
                continue
            todo = client.todos.get(row.id)
            if _created_during(write, todo.created_at):
                return Delivered(todo.id, {"found": True})
    return Delivered(client.todos.create(write.payload))


def _todo_update(client: MiniCRMClient, write: Write) -> Delivered:
    return Delivered(client.todos.update(_target(write), write.payload))


# -- orders ---------------------------------------------------------------------------------


def _order_create(client: MiniCRMClient, write: Write) -> Delivered:
    if write.uncertain:
        # Orders cannot be searched: a person has to look before it is sent again.
        raise MaybeApplied(
            "MiniCRM may have created this order before the connection broke. Check the "
            "customer's orders in MiniCRM, then retry or discard this change."
        )
    order = client.orders.create(write.payload)
    return Delivered(order.id, {"order": _order_summary(order)})


def _new_items(write: Write) -> list[dict[str, Any]]:
    return [item for item in write.payload.get("Items", []) if not item.get("Id")]


def snapshot(client: MiniCRMClient, write: Write) -> dict[str, Any] | None:
    """What to record before the first attempt, so that a retry can tell what it did."""
    if (
        write.kind == Write.Kind.ORDER_MODIFY
        and _new_items(write)
        and "items_before" not in (write.result or {})
    ):
        return {"items_before": [item.id for item in client.orders.get(_target(write)).items]}
    return None


def _order_modify(client: MiniCRMClient, write: Write) -> Delivered:
    order_id = _target(write)
    before = (write.result or {}).get("items_before")
    if write.uncertain and before is not None and _new_items(write):
        order = client.orders.get(order_id)
        added = [item for item in order.items if item.id not in before]
        if len(added) >= len(_new_items(write)):
            return Delivered(order_id, {"order": _order_summary(order), "found": True})
    order = client.orders.modify(order_id, write.payload)
    return Delivered(order_id, {"order": _order_summary(order)})


def _order_delete_item(client: MiniCRMClient, write: Write) -> Delivered:
    order_id, item_id = _target(write), int(write.payload["ItemId"])
    if write.uncertain:
        order = client.orders.get(order_id)
        if all(item.id != item_id for item in order.items):
            return Delivered(order_id, {"order": _order_summary(order), "found": True})
    order = client.orders.delete_item(order_id, item_id)
    return Delivered(order_id, {"order": _order_summary(order)})


def _order_custom_fields(client: MiniCRMClient, write: Write) -> Delivered:
    order = client.orders.set_custom_fields(_target(write), write.payload)
    return Delivered(order.id, {"order": _order_summary(order)})


TRANSITION_TARGETS = {
    Write.Kind.ORDER_FINALIZE: "In progress",
    Write.Kind.ORDER_EDIT: "Draft",
    Write.Kind.ORDER_COMPLETE: "Completed",
    Write.Kind.ORDER_PAID: "Paid",
    Write.Kind.ORDER_STORNO: "Failed",
}


def _order_transition(client: MiniCRMClient, write: Write) -> Delivered:
    order_id = _target(write)
    if write.uncertain:
        order = client.orders.get(order_id)
        if order.status == TRANSITION_TARGETS[Write.Kind(write.kind)]:
            return Delivered(order_id, {"order": _order_summary(order), "found": True})
    action = write.kind.split(".", 1)[1]
    order = getattr(client.orders, action)(order_id)
    return Delivered(order_id, {"order": _order_summary(order)})


def _order_summary(order: Any) -> dict[str, Any]:
    return {
        "status": order.status,
        "project_id": order.project_id,  # the order's card (MiniCRM moves its status too)
        "number": order.number,
        "amount_net": str(order.amount_net),
        "amount_vat": str(order.amount_vat),
        "amount": str(order.amount),
        "currency": order.currency,
    }


# -- shared -------------------------------------------------------------------------------


class MaybeApplied(Exception):
    """An earlier attempt may have been applied and there is no way to look: ask a person."""


def _target(write: Write) -> int:
    assert write.target_id is not None, f"write {write.pk} has no target"
    return int(write.target_id)


def _created_during(write: Write, created_at: Any) -> bool:
    moment = to_datetime(created_at) if isinstance(created_at, str) else created_at
    first = write.first_attempt_at or write.sending_since
    if moment is None or first is None:
        return False
    # MiniCRM's times are local and naive; compare in its time zone.
    since = minicrm_naive(first) - CREATED_MARGIN
    return bool(moment >= since)


def _as_set(value: Any) -> set[str]:
    return {str(v).strip() for v in (value if isinstance(value, list) else [value])}


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, list) or isinstance(right, list):
        return _as_set(left) == _as_set(right)
    return str("" if left is None else left).strip() == str("" if right is None else right).strip()


def _check_conflict(write: Write, current: dict[str, Any], schema: Any) -> None:
    """Refuse to overwrite a field that changed in MiniCRM since the user saw it."""
    seen = write.seen or {}
    clashes = {}
    for name, mine in write.payload.items():
        if name not in seen or name not in current:
            continue
        spec = schema.fields.get(name)
        mine_shown = spec.display(mine) if spec is not None else mine
        now = current[name]
        if not _same(now, seen[name]) and not _same(now, mine_shown):
            clashes[name] = {"seen": seen[name], "now": now, "mine": mine_shown}
    if clashes:
        raise Conflict(clashes)


SENDERS: dict[str, Callable[[MiniCRMClient, Write], Delivered]] = {
    Write.Kind.PROJECT_CREATE: _project_create,
    Write.Kind.PROJECT_UPDATE: _project_update,
    Write.Kind.CONTACT_CREATE: _contact_create,
    Write.Kind.CONTACT_UPDATE: _contact_update,
    Write.Kind.CONTACT_PURGE: _contact_purge,
    Write.Kind.TODO_CREATE: _todo_create,
    Write.Kind.TODO_UPDATE: _todo_update,
    Write.Kind.ORDER_CREATE: _order_create,
    Write.Kind.ORDER_MODIFY: _order_modify,
    Write.Kind.ORDER_DELETE_ITEM: _order_delete_item,
    Write.Kind.ORDER_CUSTOM_FIELDS: _order_custom_fields,
    **{kind: _order_transition for kind in TRANSITION_TARGETS},
}
