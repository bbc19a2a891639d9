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
