"""What a person keeps of a module's changelist: the columns they chose and their saved
filters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ColumnChoice(models.Model):
    """The columns a person shows on a module's changelist, in order (column keys: "status",
    "owner", "company", "updated", "created", "status_updated", or a schema field's name)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    category_id = models.BigIntegerField()
    columns = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "category_id"], name="one_column_choice")
        ]

    def __str__(self) -> str:
        return f"{self.user}'s columns of module {self.category_id}"


class SavedFilter(models.Model):
    """A changelist's query string a person named, listed in the module's sidebar."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    category_id = models.BigIntegerField()
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "category_id", "name"], name="one_saved_filter_name"
            )
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
