"""Reads of orders: one order (and the index entry it refreshes), the index by status, and
which workflow steps are legal from a status."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.cards.selectors import card_get, card_schema
from apps.core.minicrm import minicrm_client
from apps.core.readcache import cached_json
from apps.orders.models import OrderRecord
from apps.writes.selectors import WriteRow, object_writes
from minicrm.resources.schema import Schema
from minicrm.types import Order

# action -> (statuses it may start from, status it leads to): MiniCRM's order workflow.
WORKFLOW = {
    "finalize": (("Draft",), "In progress"),
    "edit": (("In progress",), "Draft"),
    "complete": (("In progress",), "Completed"),
    "paid": (("Completed", "Failed"), "Paid"),
    "storno": (("Completed",), "Failed"),
}


def legal_actions(status: str) -> list[str]:
    return [action for action, (sources, _target) in WORKFLOW.items() if status in sources]


def order_get(*, order_id: int) -> Order:
    """The order as MiniCRM has it (cached briefly)."""
    return Order.parse(cached_json("order", order_id, lambda: _raw_order(order_id)))


def _raw_order(order_id: int) -> dict[str, object]:
    # The typed Order is rebuilt from MiniCRM's JSON: keep that JSON in the cache.
    return dict(minicrm_client().request("GET", f"/Api/Order/{int(order_id)}") or {})


def order_list(*, status: str | None = None) -> QuerySet[OrderRecord]:
    records = OrderRecord.objects.all()
    if status:
        records = records.filter(status=status)
    return records


def order_custom_schema(order: Order) -> Schema | None:
    """The custom fields of the order's card (its module's schema), editable in any status."""
    if not order.project_id:
        return None
    return card_schema(category_id=card_get(card_id=order.project_id).category_id)


def order_writes(*, order_id: int) -> list[WriteRow]:
    return object_writes(target_type="order", target_id=order_id)
