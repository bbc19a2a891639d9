"""Changes to orders: checked here, then queued for MiniCRM.

Subject and items change only in Draft; custom fields in any status; the status moves only
through MiniCRM's actions (Finalize, Edit, Complete, Paid, Storno).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.core.storable import column_fitted
from apps.orders.models import OrderRecord
from apps.writes.models import Write
from apps.writes.services import Requester, write_enqueue
from minicrm.resources.schema import SchemaValidationError
from minicrm.types import Order, to_decimal

VAT_RATES = ("27", "18", "5", "0")
CURRENCIES = ("HUF", "EUR", "USD")
ACTIONS = {
    "finalize": Write.Kind.ORDER_FINALIZE,
    "edit": Write.Kind.ORDER_EDIT,
    "complete": Write.Kind.ORDER_COMPLETE,
    "paid": Write.Kind.ORDER_PAID,
    "storno": Write.Kind.ORDER_STORNO,
}


# Bounds of an item's numbers, checked before anything is stored: 15 significant digits,
# 2 decimal places. A price is never negative (a discount is a lower price, not a negative
# row) and a quantity is more than zero.
MAX_PRICE = Decimal("9999999999999.99")
MAX_QUANTITY = Decimal("999999999.99")
CENT = Decimal("0.01")


def item_number(value: Any, *, limit: Decimal) -> Decimal:
    """An item's price or quantity as a number ("1000", "1000,5", "1 000"), or ValueError."""
    number = to_decimal(value) if str(value).strip() else None
    if number is None:
        raise ValueError("Enter a number.")
    if abs(number) > limit:
        raise ValueError(f"Enter a number of at most {limit:,.2f}.".replace(",", " "))
    return number.quantize(CENT)


def clean_items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order items as MiniCRM takes them; SchemaValidationError names `Items.<n>.<field>`."""
    errors: dict[str, str] = {}
    cleaned = []
    for index, item in enumerate(items):
        prefix = f"Items.{index}."
        name = str(item.get("Name", "")).strip()
        if not name:
            errors[prefix + "Name"] = "Name the item."
        numbers = {}
        for key, limit in (("PriceNet", MAX_PRICE), ("Quantity", MAX_QUANTITY)):
            try:
                numbers[key] = item_number(item.get(key, ""), limit=limit)
            except ValueError as error:
                errors[prefix + key] = str(error)
        if numbers.get("Quantity") is not None and numbers["Quantity"] <= 0:
            errors[prefix + "Quantity"] = "The quantity must be more than zero."
        if numbers.get("PriceNet") is not None and numbers["PriceNet"] < 0:
            errors[prefix + "PriceNet"] = "The price cannot be negative."
        vat = str(item.get("VAT", "27")).strip().rstrip("%")
        if vat not in VAT_RATES:
            errors[prefix + "VAT"] = f"Choose one of {', '.join(VAT_RATES)} %."
        row: dict[str, Any] = {
            "Name": name,
            "SKU": str(item.get("SKU", "")).strip(),
            "Unit": str(item.get("Unit", "")).strip(),
            "PriceNet": f"{numbers.get('PriceNet', Decimal(0)):.2f}",
            "Quantity": f"{numbers.get('Quantity', Decimal(0)):.2f}",
            "VAT": vat,
        }
        if item.get("Id"):
            row["Id"] = int(item["Id"])
        cleaned.append(row)
    if errors:
        raise SchemaValidationError(errors)
    return cleaned


def order_create(
    *,
    customer_id: int,
    currency: str,
    items: list[dict[str, Any]],
    subject: str = "",
    customer: dict[str, str] | None = None,
    user: Requester = None,
    idempotency_key: str | None = None,
) -> Write:
    """Queue a new order; the same `idempotency_key` (the form's key) gives the first write."""
    if currency not in CURRENCIES:
        raise SchemaValidationError({"CurrencyCode": f"Choose one of {', '.join(CURRENCIES)}."})
    payload: dict[str, Any] = {
        "CustomerId": int(customer_id),
        "CurrencyCode": currency,
        "Subject": subject,
        "Items": clean_items(items),
    }
    if customer:
        payload["Customer"] = customer
    return write_enqueue(
        kind=Write.Kind.ORDER_CREATE,
        target_type="order",
        payload=payload,
        user=user,
        idempotency_key=idempotency_key,
    )


def order_modify(
    *,
    order_id: int,
    customer_id: int,
    subject: str | None = None,
    items: list[dict[str, Any]] | None = None,
    user: Requester = None,
) -> Write:
    """Change a Draft order's subject, add items (no Id) or overwrite items (with Id)."""
    payload: dict[str, Any] = {"CustomerId": int(customer_id)}
    if subject is not None:
        payload["Subject"] = subject
    if items:
        payload["Items"] = clean_items(items)
    return write_enqueue(
        kind=Write.Kind.ORDER_MODIFY,
        target_type="order",
        target_id=order_id,
        payload=payload,
        user=user,
    )


def order_delete_item(*, order_id: int, item_id: int, user: Requester = None) -> Write:
    return write_enqueue(
        kind=Write.Kind.ORDER_DELETE_ITEM,
        target_type="order",
        target_id=order_id,
        payload={"ItemId": int(item_id)},
        user=user,
    )


def order_set_custom_fields(
    *, order_id: int, values: dict[str, Any], user: Requester = None
) -> Write:
    return write_enqueue(
        kind=Write.Kind.ORDER_CUSTOM_FIELDS,
        target_type="order",
        target_id=order_id,
        payload=values,
        user=user,
    )


def order_transition(*, order_id: int, action: str, user: Requester = None) -> Write:
    """Finalize, edit (back to Draft), complete, paid or storno."""
    return write_enqueue(
        kind=ACTIONS[action], target_type="order", target_id=order_id, payload={}, user=user
    )


def order_index_refresh(order: Order) -> None:
    """Keep the console's index of this order in step with what MiniCRM showed."""
    OrderRecord.objects.update_or_create(
        order_id=order.id,
        defaults=order_index_fit(
            {
                "customer_id": order.customer_id,
                "customer_name": order.customer.get("Name", ""),
                "number": order.number,
                "subject": order.subject,
                "status": order.status,
                "currency": order.currency,
                "amount_net": order.amount_net,
                "amount": order.amount,
                "updated_at": timezone.now(),
            }
        ),
    )


def order_index_fit(values: dict[str, Any]) -> dict[str, Any]:
    """The index's text values made storable in their columns: MiniCRM's texts have no such
    limits, and PostgreSQL refuses a longer value (SQLite would store it whole)."""
    return {
        name: column_fitted(OrderRecord._meta.get_field(name), value)
        for name, value in values.items()
    }
