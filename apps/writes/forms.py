"""The audit page's filters."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from apps.writes.selectors import AuditFilters

OBJECT_TYPES = (
    ("", "—"),
    ("project", _("Cards")),
    ("contact", _("Contacts")),
    ("todo", _("To-dos")),
    ("order", _("Orders")),
)


class AuditFilterForm(forms.Form):
    person = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Person"))
    object_type = forms.ChoiceField(required=False, choices=OBJECT_TYPES, label=_("Object"))
    object_id = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, label=_("Id"))
    module = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Module"))
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    p = forms.IntegerField(required=False, min_value=1, max_value=100000, label=_("Page"))

    def __init__(self, data: Any, *, modules: list[tuple[int, str]]) -> None:
        super().__init__(data)
        people = User.objects.filter(minicrm_writes__isnull=False).distinct().order_by("username")
        cast(forms.TypedChoiceField, self.fields["person"]).choices = [
            ("", "—"),
            *((user.pk, user.get_full_name() or user.get_username()) for user in people),
        ]
        cast(forms.TypedChoiceField, self.fields["module"]).choices = [("", "—"), *modules]

    def filters(self) -> AuditFilters:
        """The valid filters (an invalid one is left out and shown with its error)."""
        self.is_valid()
        data = self.cleaned_data
        return AuditFilters(
            person_id=data.get("person"),
            object_type=data.get("object_type") or None,
            object_id=data.get("object_id"),
            module_id=data.get("module"),
            since=data.get("since"),
            until=data.get("until"),
        )

    def page(self) -> int:
        self.is_valid()
        return int(self.cleaned_data.get("p") or 1)
