"""Forms of the card pages: changelist filters, bulk actions, status change, the card form.

The card form itself is built from the module's schema (apps/core/schema_forms.py).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.cards.selectors import (
    STATUS_GROUPS,
    CardFilters,
    card_form_names,
    column_label,
    searchable_fields,
)
from apps.core.fieldviews import field_label
from minicrm.resources.schema import Schema, ascii_digits

MAX_ID = 2**63 - 1  # MiniCRM's ids are 64-bit
MAX_SELECTED = 1000

BULK_ACTIONS = (
    ("status", _("Change status")),
    ("owner", _("Change owner")),
    ("field", _("Set a field")),
)


# MiniCRM's status groups, as the status filter names them.
STATUS_GROUP_LABELS = {
    "Lead": pgettext_lazy("status group", "Lead"),
    "Open": pgettext_lazy("status group", "Open"),
    "Success": pgettext_lazy("status group", "Success"),
    "Failed": pgettext_lazy("status group", "Failed"),
}


def _choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def _module_choices(form: forms.Form, schema: Schema, *, editing: bool = False) -> None:
    """The module's statuses, owners and fields as the form's choices: the searchable fields
    to filter by, or (`editing`) only those the change form offers, to set in bulk."""
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    _choices(form, "status", [("", "—"), *((str(k), v) for k, v in statuses.items())])
    _choices(form, "owner", [("", "—"), *((str(k), v) for k, v in owners.items())])
    for name in ("status", "owner"):
        form.fields[name].label = column_label(schema, name, form.fields[name].label)
    specs = searchable_fields(schema)
    if editing:
        offered = set(card_form_names(schema))
        specs = [spec for spec in specs if spec.name in offered]
    fields = [(spec.name, field_label(spec)) for spec in specs]
    _choices(form, "field", [("", "—"), *fields])


class CardIdsField(forms.Field):
    """The ids of the selected cards: whole numbers MiniCRM could have, each once."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select the cards to change first: nothing was changed."),
        "invalid": _("“%(value)s” is not a card id: nothing was changed."),
        "too_many": _("Select at most %(limit)d cards at a time: nothing was changed."),
    }

    def to_python(self, value: Any) -> list[int]:
        if value in (None, ""):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if len(values) > MAX_SELECTED:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": MAX_SELECTED}
            )
        ids: list[int] = []
        for item in values:
            text = str(item).strip()
            if not ascii_digits(text) or len(text) > 19 or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": text[:40]}
                )
            ids.append(int(text))
        return list(dict.fromkeys(ids))


# The changelist's columns, in order (each sorts, on the mirror).
COLUMNS = (
    ("name", _("Name")),
    ("status", _("Status")),
    ("owner", _("Owner")),
    ("company", _("Company")),
    ("updated", _("Updated")),
)


class CardFilterForm(forms.Form):
    """The changelist's query string: filters, field search and the page (`p`, from 1)."""

    status = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Status"))
    group = forms.ChoiceField(
        label=_("Status group"),
        required=False,
        choices=[("", "—"), *((g, STATUS_GROUP_LABELS.get(g, g)) for g in STATUS_GROUPS)],
    )
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Owner"))
    field = forms.ChoiceField(required=False, label=_("Field"))
    value = forms.CharField(required=False, max_length=200, label=_("Value"))
    p = forms.IntegerField(required=False, min_value=1, max_value=100000, label=_("Page"))
    o = forms.ChoiceField(
        required=False,
        label=_("Sort"),
        choices=[("", ""), *((f"{way}{key}", key) for key, _label in COLUMNS for way in ("", "-"))],
    )

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        self.schema = schema
        _module_choices(self, schema)

    def columns(self) -> list[tuple[str, str]]:
        """The changelist's columns (`o`'s keys) and their headers."""
        return [(key, column_label(self.schema, key, label)) for key, label in COLUMNS]

    def filters(self) -> CardFilters:
        """The filters that are valid; a value that is not (see `ignored`) is left out."""
        self.is_valid()
        data = self.cleaned_data
        return CardFilters(
            status_id=data.get("status"),
            status_group=data.get("group") or None,
            owner_id=data.get("owner"),
            field=data.get("field") or None,
            value=data.get("value") or None,
            order=data.get("o") or None,
        )

    def valid_query(self) -> str:
        """The query string of the filters that are valid (the others, and anything the form
        does not know, left out)."""
        self.is_valid()
        kept = {name: self.data[name] for name in self.fields if name in self.data}
        return urlencode({k: v for k, v in kept.items() if k not in self.errors and v})

    def ignored(self) -> list[str]:
        """The labels of the query's values that are not valid (and so left out)."""
        self.is_valid()
        return [str(self.fields[name].label or name) for name in self.errors]

    def page(self) -> int:
        """MiniCRM's page number (from 0)."""
        self.is_valid()
        return int(self.cleaned_data["p"]) - 1 if self.cleaned_data.get("p") else 0


class BoardMoveForm(forms.Form):
    """A card dropped on another status column of the board."""

    card = forms.IntegerField(min_value=1, max_value=MAX_ID)
    status = forms.TypedChoiceField(coerce=int, label=_("Status"))

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
        cast(forms.TypedChoiceField, self.fields["status"]).choices = list(statuses.items())


class BulkActionForm(forms.Form):
    """Change status, owner or one field of the selected cards."""

    selected = CardIdsField()
    action = forms.ChoiceField(choices=BULK_ACTIONS)
    status = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    field = forms.ChoiceField(required=False)
    value = forms.CharField(required=False, max_length=1000)

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        self.schema = schema
        _module_choices(self, schema, editing=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "status" and data.get("status") is None:
            self.add_error("status", _("Choose the new status."))
        if action == "owner" and data.get("owner") is None:
            self.add_error("owner", _("Choose the new owner."))
        if action == "field" and not data.get("field"):
            self.add_error("field", _("Choose the field to set."))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["action"] == "status":
            return {"StatusId": data["status"]}
        if data["action"] == "owner":
            return {"UserId": data["owner"]}
        return {data["field"]: data["value"]}

    def summary(self) -> dict[str, Any]:
        """The parts of the job's title (`BulkJob.summary`): shown in each viewer's language."""
        data = self.cleaned_data
        count = len(data["selected"])
        if data["action"] == "status":
            label = self.schema.fields["StatusId"].choices.get(data["status"], "")
            return {"action": "status", "label": label, "count": count}
        if data["action"] == "owner":
            label = self.schema.fields["UserId"].choices.get(data["owner"], "")
            return {"action": "owner", "label": label, "count": count}
        return {"action": "field", "field": data["field"], "value": data["value"], "count": count}


class StatusForm(forms.Form):
    status = forms.TypedChoiceField(coerce=int)
    seen = forms.CharField(required=False)

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
        _choices(self, "status", [(str(k), v) for k, v in statuses.items()])
