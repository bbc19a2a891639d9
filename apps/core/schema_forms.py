"""Django forms built from a MiniCRM schema: the right widget for each field type.

`schema_form(schema, names, initial=...)` builds a form whose fields follow MiniCRM's types
(select for dropdowns, multi-select, number, date/datetime, checkbox, text with max length,
file by URL). `changes(form)` gives only the fields that changed, in the form the API takes,
with the values the user saw of them (for conflict checks).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.fieldviews import (
    SYSTEM_FIELDS,
    choice_id,
    field_label,
    minicrm_aware,
    minicrm_naive,
)
from minicrm.resources.schema import FieldSpec, Schema
from minicrm.types import to_date, to_datetime

INT_LIMIT = 2**63 - 1
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class MinuteDateTimeField(forms.DateTimeField):
    """A date and time edited to the minute (the datetime-local widget shows no seconds).

    A value the user left alone comes back without MiniCRM's seconds: that is no change, so
    saving another field does not rewrite this one (13:00:59 as 13:00:00).
    """

    def has_changed(self, initial: Any, data: Any) -> bool:
        if isinstance(initial, datetime):
            initial = initial.replace(second=0, microsecond=0)
        return super().has_changed(initial, data)


def form_field(spec: FieldSpec, *, required: bool | None = None) -> forms.Field:
    """The Django form field for one MiniCRM field."""
    options: dict[str, Any] = {
        "label": field_label(spec),
        "required": spec.required if required is None else required,
    }
    kind = spec.kind
    if kind == "int":
        return forms.IntegerField(min_value=-INT_LIMIT, max_value=INT_LIMIT, **options)
    if kind == "float":
        return forms.FloatField(**options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind == "datetime":
        return MinuteDateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
            input_formats=[
                DATETIME_INPUT,
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
            ],
            **options,
        )
    if kind == "bool":
        return forms.TypedChoiceField(
            choices=[("", "—"), ("1", _("Yes")), ("0", _("No"))],
            coerce=int,
            empty_value=None,
            **options,
        )
    if kind == "file":
        return forms.URLField(
            assume_scheme="https",
            help_text=_("The public address MiniCRM downloads the file from."),
            **options,
        )
    if kind == "select":
        return forms.TypedChoiceField(
            choices=[("", "—"), *((str(k), v) for k, v in spec.choices.items())],
            coerce=int,
            empty_value=None,
            **options,
        )
    if kind == "multiselect":
        return forms.TypedMultipleChoiceField(
            choices=[(str(k), v) for k, v in spec.choices.items()],
            coerce=int,
            widget=forms.CheckboxSelectMultiple,
            **options,
        )
    max_length = spec.max_length
    widget = forms.Textarea(attrs={"rows": 3}) if (max_length or 0) > 1024 else None
    return forms.CharField(max_length=max_length, widget=widget, strip=False, **options)


def initial_value(spec: FieldSpec, raw: Any) -> Any:
    """MiniCRM's value (labels in detail views) as the form field's initial value."""
    if raw in (None, ""):
        return [] if spec.kind == "multiselect" else None
    if spec.kind == "select":
        return choice_id(spec, raw)
    if spec.kind == "multiselect":
        values = raw if isinstance(raw, list) else str(raw).split(",")
        return [choice_id(spec, value) for value in values if choice_id(spec, value) is not None]
    if spec.kind == "datetime":
        return minicrm_aware(to_datetime(raw))
    if spec.kind == "date":
        return to_date(raw)
    if spec.kind == "bool":
        return 1 if str(raw).strip().casefold() in ("1", "true", "igen", "yes") else 0
    return raw


def api_value(spec: FieldSpec, value: Any) -> Any:
    """A cleaned form value as the API (and Schema.validate) takes it."""
    if value is None:
        return [] if spec.kind == "multiselect" else ""
    if isinstance(value, datetime):
        return minicrm_naive(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


class SchemaForm(forms.Form):
    """A form over some fields of a schema; knows which changed and what the user saw."""

    schema: Schema
    raw_values: dict[str, Any]
    # After a conflict: the clashing fields, MiniCRM's value and the user's (for the template).
    conflict: list[dict[str, str]] | None = None

    def changes(self) -> dict[str, Any]:
        """Only the fields the user changed, as the API takes them."""
        return {
            name: api_value(self.schema.fields[name], self.cleaned_data[name])
            for name in self.changed_data
            if name in self.schema.fields
        }

    def seen(self) -> dict[str, Any]:
        """MiniCRM's values of the changed fields, as the user saw them."""
        return {name: self.raw_values.get(name) for name in self.changed_data}

    def add_api_errors(self, errors: dict[str, str]) -> None:
        """Show MiniCRM's (or the schema's) messages next to the fields they name."""
        for name, message in errors.items():
            self.add_error(name if name in self.fields else None, message)


def schema_form(
    schema: Schema,
    names: Iterable[str],
    *,
    raw_values: dict[str, Any] | None = None,
    data: Any = None,
    creating: bool = False,
    prefix: str | None = None,
) -> SchemaForm:
    """A form for the named fields, initialised from MiniCRM's values (`raw_values`)."""
    raw_values = raw_values or {}
    fields = {}
    initial = {}
    for name in names:
        spec = schema.fields.get(name)
        if spec is None or spec.read_only or (spec.create_only and not creating):
            continue
        fields[name] = form_field(spec)
        initial[name] = initial_value(spec, raw_values.get(name))
    form_class = type("SchemaForm", (SchemaForm,), fields)
    form = form_class(data=data, initial=initial, prefix=prefix)
    form.schema = schema
    form.raw_values = raw_values
    return form


def editable_names(schema: Schema, *, creating: bool = False) -> list[str]:
    """The fields a change form offers, in schema order."""
    return [
        spec.name
        for spec in schema.fields.values()
        if not spec.read_only
        and (creating or not spec.create_only)
        and spec.name not in ("Id", "Type", *SYSTEM_FIELDS)
    ]


def seen_json(values: dict[str, Any]) -> str:
    """What the user saw, carried through the form so the change can be checked on sending."""
    return json.dumps(values, ensure_ascii=False, default=str)


# A form's `seen` carries one record's values: a few kilobytes, nested a level or two (lists of
# labels). Anything much larger or deeper was not written by the console.
SEEN_MAX_CHARS = 256 * 1024
SEEN_MAX_DEPTH = 4


def _seen_value(value: Any, depth: int = 1) -> bool:
    if depth > SEEN_MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(_seen_value(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(_seen_value(item, depth + 1) for item in value.values())
    return isinstance(value, str | int | float | bool | type(None))


def seen_from(data: Any) -> dict[str, Any] | None:
    """The values a submitted form carried in its `seen` field (None when missing or bad:
    not JSON, too large, or not a flat object of values as `seen_json` writes it)."""
    raw = data.get("seen") or "null"
    if not isinstance(raw, str) or len(raw) > SEEN_MAX_CHARS:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and _seen_value(item) for name, item in value.items()
    ):
        return None
    return value
