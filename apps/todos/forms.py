"""The to-do form: comment, owner, deadline and type (MiniCRM lets nothing else change)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.fieldviews import minicrm_aware, minicrm_naive
from apps.core.once import ONCE_FIELD, once_field
from apps.core.schema_forms import DATETIME_INPUT
from minicrm.types import ToDo


class ToDoForm(forms.Form):
    Comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=65535
    )
    UserId = forms.TypedChoiceField(label=_("Owner"), coerce=int, required=False, empty_value=None)
    Deadline = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    Type = forms.TypedChoiceField(label=_("Type"), coerce=int, required=False, empty_value=None)
    once = once_field()  # Back and Save again makes no second to-do

    def __init__(
        self,
        data: Any = None,
        *,
        owners: dict[int, str],
        types: dict[int, str],
        todo: ToDo | None = None,
    ) -> None:
        initial = {}
        if todo is not None:
            owner = next((k for k, v in owners.items() if v == todo.user.name), todo.user.id)
            initial = {
                "Comment": todo.comment,
                "UserId": owner,
                "Deadline": minicrm_aware(todo.deadline),
            }
        super().__init__(data, initial=initial)
        cast(forms.ChoiceField, self.fields["UserId"]).choices = [
            ("", "—"),
            *((str(k), v) for k, v in owners.items()),
        ]
        if todo is not None:
            del self.fields["once"]  # only a new to-do can be made twice
        if todo is not None or not types:
            del self.fields["Type"]  # MiniCRM's type is set when the to-do is made
        else:
            cast(forms.ChoiceField, self.fields["Type"]).choices = [
                ("", "—"),
                *((str(k), v) for k, v in types.items()),
            ]

    def values(self, *, changed_only: bool = False) -> dict[str, Any]:
        """The form's values as the API takes them (only the changed ones when editing)."""
        values = {}
        for name in self.changed_data if changed_only else self.fields:
            if name == ONCE_FIELD:
                continue
            value = self.cleaned_data.get(name)
            if name == "Deadline" and value is not None:
                value = minicrm_naive(value).strftime("%Y-%m-%d %H:%M:%S")
            if value not in (None, ""):
                values[name] = value
        return values
