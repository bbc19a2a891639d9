"""Forms of the card pages: changelist filters, bulk actions, status change, the card form.

The card form itself is built from the module's schema (apps/core/schema_forms.py).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.cards.columns import NOT_COLUMNS, column_label, column_options
from apps.cards.selectors import (
    STATUS_GROUPS,
    CardFilters,
    card_form_names,
    searchable_fields,
)
from apps.core.fieldviews import field_label
from minicrm.resources.schema import FieldSpec, Schema, ascii_digits

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


# The mirror's date columns a changelist filters by range (`updated_from`, `updated_to`).
DATE_COLUMNS = (
    ("created", _("Created")),
    ("updated", _("Updated")),
    ("status_updated", _("Status changed")),
)
REVERSED = "reversed"  # the code of a range end that comes before its start
FIELD_PREFIX = "f_"  # a field's filter: f_Tipus=12, f_Vip=1, f_Hatarido_from=2026-12-01


def choice_filter_specs(schema: Schema) -> list[FieldSpec]:
    """The fields a changelist filters by a choice: dropdowns, multi-selects (a card with the
    choice among its values) and yes/no fields."""
    return [
        spec
        for spec in schema.fields.values()
        if spec.name not in NOT_COLUMNS
        and not spec.read_only
        and (spec.kind == "bool" or (spec.kind in ("select", "multiselect") and spec.choices))
    ]


def date_filter_specs(schema: Schema) -> list[FieldSpec]:
    return [
        spec
        for spec in schema.fields.values()
        if spec.name not in NOT_COLUMNS and spec.kind in ("date", "datetime")
    ]


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
    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    p = forms.IntegerField(required=False, min_value=1, max_value=100000, label=_("Page"))
    o = forms.ChoiceField(required=False, label=_("Sort"))

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        self.schema = schema
        _module_choices(self, schema)
        keys = ["name", *(column.key for column in column_options(schema))]
        _choices(self, "o", [("", ""), *((f"{w}{key}", key) for key in keys for w in ("", "-"))])
        # Filters only the mirror answers: a choice for each dropdown and yes/no field, a
        # range of days for each date column and date field.
        self.choice_names: list[str] = []
        self.bool_names: set[str] = set()
        for spec in choice_filter_specs(schema):
            name = FIELD_PREFIX + spec.name
            if spec.kind == "bool":
                self.bool_names.add(name)
                options = [("", "—"), ("1", _("Yes")), ("0", _("No"))]
            else:
                options = [("", "—"), *((str(k), v) for k, v in spec.choices.items())]
            self.fields[name] = forms.ChoiceField(
                required=False, label=field_label(spec), choices=options
            )
            self.choice_names.append(name)
        self.date_keys: list[tuple[str, str]] = [
            (key, column_label(schema, key, label)) for key, label in DATE_COLUMNS
        ]
        self.date_keys += [
            (FIELD_PREFIX + s.name, field_label(s)) for s in date_filter_specs(schema)
        ]
        for key, label in self.date_keys:
            for end, word in (("from", _("from")), ("to", _("to"))):
                self.fields[f"{key}_{end}"] = forms.DateField(
                    required=False,
                    label=f"{label} ({word})",
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                )

    def choice_filters(self) -> list[forms.BoundField]:
        return [self[name] for name in self.choice_names]

    def dates_chosen(self) -> bool:
        """Some date range is in the query (its part of the form is shown open)."""
        return any(
            self.data.get(f"{key}_{end}") for key, _l in self.date_keys for end in ("from", "to")
        )

    def date_filters(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(label, from, to) of each date range filter."""
        return [(label, self[f"{key}_from"], self[f"{key}_to"]) for key, label in self.date_keys]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key, _label in self.date_keys:
            start, end = data.get(f"{key}_from"), data.get(f"{key}_to")
            if start and end and start > end:
                message = _("The end of a range cannot come before its start.")
                self.add_error(f"{key}_to", forms.ValidationError(message, code=REVERSED))
        return data

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
            q=(data.get("q") or "").strip() or None,
            choices=tuple(
                (
                    name.removeprefix(FIELD_PREFIX),
                    data[name] == "1" if name in self.bool_names else int(data[name]),
                )
                for name in self.choice_names
                if data.get(name) not in (None, "")
            ),
            dates=tuple(
                (key.removeprefix(FIELD_PREFIX), data.get(f"{key}_from"), data.get(f"{key}_to"))
                for key, _label in self.date_keys
                if data.get(f"{key}_from") or data.get(f"{key}_to")
            ),
        )

    def valid_query(self) -> str:
        """The query string of the filters that are valid (the others, and anything the form
        does not know, left out)."""
        self.is_valid()
        kept = {name: self.data[name] for name in self.fields if name in self.data}
        return urlencode({k: v for k, v in kept.items() if k not in self.errors and v})

    def ignored(self) -> list[str]:
        """The labels of the query's values that are not understood (and so left out)."""
        return self._left_out(reversed_ranges=False)

    def reversed_ranges(self) -> list[str]:
        """The labels of the range ends left out because they come before their start."""
        return self._left_out(reversed_ranges=True)

    def _left_out(self, *, reversed_ranges: bool) -> list[str]:
        self.is_valid()
        return [
            str(self.fields[name].label or name)
            for name, errors in self.errors.as_data().items()
            if any(error.code == REVERSED for error in errors) == reversed_ranges
        ]

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

    selected = CardIdsField(required=False)
    # Every card the changelist's filters match (every page), not only those ticked.
    all_matching = forms.BooleanField(required=False)
    # Sent from the preview: the person saw what the change will do and said yes.
    confirm = forms.BooleanField(required=False)
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
        if (
            not data.get("all_matching")
            and not data.get("selected")
            and "selected" not in self.errors
        ):
            self.add_error("selected", CardIdsField.default_error_messages["required"])
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

    def summary(self, count: int | None = None) -> dict[str, Any]:
        """The parts of the job's title (`BulkJob.summary`): shown in each viewer's language."""
        data = self.cleaned_data
        count = len(data["selected"]) if count is None else count
        if data["action"] == "status":
            label = self.schema.fields["StatusId"].choices.get(data["status"], "")
            return {"action": "status", "label": label, "count": count}
        if data["action"] == "owner":
            label = self.schema.fields["UserId"].choices.get(data["owner"], "")
            return {"action": "owner", "label": label, "count": count}
        return {"action": "field", "field": data["field"], "value": data["value"], "count": count}


class ColumnsForm(forms.Form):
    """The columns a person shows on a module's changelist (at least one)."""

    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        error_messages={"required": _("Choose at least one column.")},
    )

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        _choices(self, "columns", [(c.key, c.label) for c in column_options(schema)])


class SavedFilterForm(forms.Form):
    """A name for the changelist's current filters."""

    name = forms.CharField(label=_("Name"), max_length=100)
    query = forms.CharField(required=False, max_length=2000)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name):
            raise forms.ValidationError(_("Give the filter a name (letters, digits, spaces)."))
        return name

    def clean_query(self) -> str:
        query = self.cleaned_data["query"]
        # Only the filters' parameters are kept: not the page, and never another site's URL.
        kept = [
            (k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k not in ("p", "facets")
        ]
        return urlencode(kept)


class StatusForm(forms.Form):
    status = forms.TypedChoiceField(coerce=int)
    seen = forms.CharField(required=False)

    def __init__(self, data: Any, *, schema: Schema) -> None:
        super().__init__(data)
        statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
        _choices(self, "status", [(str(k), v) for k, v in statuses.items()])
