"""Reads of orders: one order (and the index entry it refreshes), the index by status, and
which workflow steps are legal from a status."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from apps.cards.selectors import card_get, card_schema
from apps.core.minicrm import minicrm_client
from apps.core.readcache import cached_json
from apps.orders.models import OrderRecord
from apps.writes.models import Write
from apps.writes.selectors import writes_for_object
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
    """The order as MiniCRM has it (cached briefly); its index entry is refreshed."""
    data = cached_json("order", order_id, lambda: _raw_order(order_id))
    order = Order.parse(data)
    order_index_refresh(order)
    return order


def _raw_order(order_id: int) -> dict[str, object]:
    # The typed Order is rebuilt from MiniCRM's JSON: keep that JSON in the cache.
    return dict(minicrm_client().request("GET", f"/Api/Order/{int(order_id)}") or {})


def order_index_refresh(order: Order) -> None:
    """Keep the console's index of this order in step with what MiniCRM showed."""
    OrderRecord.objects.update_or_create(
        order_id=order.id,
        defaults={
            "customer_id": order.customer_id,
            "customer_name": order.customer.get("Name", ""),
            "number": order.number,
            "subject": order.subject[:1024],
            "status": order.status,
            "currency": order.currency,
            "amount_net": order.amount_net,
            "amount": order.amount,
            "updated_at": timezone.now(),
        },
    )


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


def order_writes(*, order_id: int) -> list[Write]:
    return list(writes_for_object(target_type="order", target_id=order_id))
