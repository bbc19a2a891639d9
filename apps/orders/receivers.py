"""Keep the order index in step when an order write lands in MiniCRM."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from apps.orders.models import OrderRecord
from apps.orders.services import order_index_fit
from apps.writes.models import Write
from apps.writes.signals import write_done


@receiver(write_done)
def index_order(sender: Any, write: Write, **kwargs: Any) -> None:
    with transaction.atomic():  # a savepoint: a failure here leaves the write done
        _index(write)


def _index(write: Write) -> None:
    summary = (write.result or {}).get("order")
    if write.target_type != "order" or not write.target_id or not summary:
        return
    defaults = {
        "status": summary["status"],
        "number": summary.get("number", ""),
        "currency": summary.get("currency", ""),
        "amount_net": Decimal(summary.get("amount_net") or 0),
        "amount": Decimal(summary.get("amount") or 0),
        "updated_at": timezone.now(),
    }
    if write.kind != Write.Kind.ORDER_CREATE:
        # Orders the console did not create or open are not in its index: leave them out.
        OrderRecord.objects.filter(order_id=write.target_id).update(**order_index_fit(defaults))
        return
    defaults["customer_id"] = int(write.payload.get("CustomerId") or 0)
    defaults["subject"] = str(write.payload.get("Subject", ""))
    defaults["customer_name"] = str((write.payload.get("Customer") or {}).get("Name", ""))
    OrderRecord.objects.update_or_create(
        order_id=write.target_id, defaults=order_index_fit(defaults)
    )
