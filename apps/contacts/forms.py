"""Forms of the contact pages: the search box; the contact form is built from the schema."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=_("Keyword, email or phone"))
    p = forms.IntegerField(required=False, min_value=1, max_value=100000)

    def query(self) -> str:
        return self.cleaned_data["q"].strip() if self.is_valid() else ""

    def page(self) -> int:
        """MiniCRM's page number (from 0)."""
        if self.is_valid() and self.cleaned_data["p"]:
            return int(self.cleaned_data["p"]) - 1
        return 0
