"""The console's own index of orders: MiniCRM's API cannot list or search them, so the orders
this console created or opened are remembered here, with their status and totals."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import pgettext_lazy


class OrderRecord(models.Model):
    # "order status": MiniCRM's names, which other words of the console share ("Failed").
    class Status(models.TextChoices):
        DRAFT = "Draft", pgettext_lazy("order status", "Draft")
        IN_PROGRESS = "In progress", pgettext_lazy("order status", "In progress")
        COMPLETED = "Completed", pgettext_lazy("order status", "Completed")
        PAID = "Paid", pgettext_lazy("order status", "Paid")
        FAILED = "Failed", pgettext_lazy("order status", "Failed")

    order_id = models.BigIntegerField(unique=True)
    customer_id = models.BigIntegerField()
    customer_name = models.CharField(max_length=300, blank=True)
    number = models.CharField(max_length=100, blank=True)
    subject = models.CharField(max_length=1024, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    currency = models.CharField(max_length=3, blank=True)
    amount_net = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-order_id"]

    def __str__(self) -> str:
        return f"Order {self.order_id} ({self.status})"


def status_label(status: str) -> str:
    """An order status as people read it, in the current language (unknown ones as they are)."""
    try:
        return str(OrderRecord.Status(status).label)
    except ValueError:
        return status
