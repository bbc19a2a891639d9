"""Forms of the contact pages: the search box; the contact form is built from the schema."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=_("Keyword, email or phone"))
    p = forms.IntegerField(required=False, min_value=1, max_value=100000)

    def query(self) -> str:
        """The search box; a bad page number does not lose it."""
        self.is_valid()
        return str(self.cleaned_data.get("q") or "").strip()

    def page(self) -> int:
        """MiniCRM's page number (from 0): the first for a `p` below 1 or not a number."""
        self.is_valid()
        return int(self.cleaned_data["p"]) - 1 if self.cleaned_data.get("p") else 0
