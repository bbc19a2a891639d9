"""Cards a user opened in the console: "my to-dos" looks at these and the cards they own."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CardVisit(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    card_id = models.BigIntegerField()
    card_name = models.CharField(max_length=512, blank=True)
    visited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "card_id"], name="one_visit_per_card")
        ]
        ordering = ["-visited_at"]

    def __str__(self) -> str:
        return f"{self.user} opened card {self.card_id}"
