"""The Sync page's form: one card or contact to read again from MiniCRM."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.http import IdField


class RecordResyncForm(forms.Form):
    CARD = "card"
    CONTACT = "contact"

    record_type = forms.ChoiceField(
        label=_("Type"), choices=((CARD, _("Card")), (CONTACT, _("Contact")))
    )
    record_id = IdField(label=_("Id"), widget=forms.TextInput(attrs={"inputmode": "numeric"}))

    @property
    def object_type(self) -> str:
        """What the sync calls the record: "project" or "contact"."""
        return "project" if self.cleaned_data["record_type"] == self.CARD else "contact"
