"""What the console keeps about its users beyond Django's accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """A console user's MiniCRM identity: whose to-dos and cards are "mine"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_profile"
    )
    minicrm_user_id = models.BigIntegerField(
        _("MiniCRM user"), null=True, blank=True, help_text=_("Your user in MiniCRM.")
    )

    def __str__(self) -> str:
        return f"{self.user} → {self.minicrm_user_id or '—'}"


# How long an admin's label may be: a column header, not a description.
LABEL_MAX_LENGTH = 100


class FieldLabel(models.Model):
    """An administrator's name for a MiniCRM field (its schema has none), in English and
    Hungarian; a blank label is the default (the field's name made readable)."""

    # Whose field: a module's id ("20") for cards, Business or Person for contacts.
    entity = models.CharField(_("entity"), max_length=32)
    field_name = models.CharField(_("field"), max_length=255)
    label_en = models.CharField(_("English label"), max_length=LABEL_MAX_LENGTH, blank=True)
    label_hu = models.CharField(_("Hungarian label"), max_length=LABEL_MAX_LENGTH, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "field_name"], name="core_field_label_once")
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.field_name}: {self.label_en or '—'} / {self.label_hu or '—'}"
