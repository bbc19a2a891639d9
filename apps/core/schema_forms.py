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
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator, URLValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.fieldviews import (
    SYSTEM_FIELDS,
    choice_id,
    field_label,
    minicrm_aware,
    minicrm_naive,
)
from apps.core.once import ONCE_FIELD, once_field
from minicrm.resources.schema import MAX_DIGITS, MAX_NUMBER, TEXT_PATTERNS, FieldSpec, Schema
from minicrm.types import to_date, to_datetime, to_number

# Form widgets always carry ISO dates and plain numbers, in every language: <input type=date>
# and <input type=number> take nothing else. Only what pages display is localized.
DATE_INPUT = "%Y-%m-%d"
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def _not_in_future(value: date) -> None:
    moment = value.date() if isinstance(value, datetime) else value
    if moment > timezone.localdate():
        raise ValidationError(_("This date cannot be in the future."), code="future")


def _web_address(value: str) -> None:
    """A web address, with or without its scheme (MiniCRM keeps what was typed)."""
    text = value.strip()
    candidate = text if "://" in text else f"https://{text}"
    try:
        URLValidator(schemes=["http", "https"])(candidate)
    except ValidationError:
        raise ValidationError(_("Enter a valid web address."), code="invalid") from None


TEXT_VALIDATORS: dict[str, Any] = {
    "email": (forms.EmailInput, EmailValidator(message=_("Enter a valid email address."))),
    "url": (forms.URLInput, _web_address),
    "phone": (
        forms.TextInput(attrs={"type": "tel"}),
        RegexValidator(
            TEXT_PATTERNS["phone"],
            message=_("Enter a phone number: digits, spaces, +, -, / and brackets."),
        ),
    ),
}


# Fields that hold a contact's id: edited with a picker over the mirror's contacts.
PICKED_FIELDS = {"ContactId": "", "BusinessId": "Business", "MainContactId": "Person"}
PICKED_FIELDS["CustomerId"] = ""


class ContactPicker(forms.TextInput):
    """A contact id typed, or chosen by name: as you type, the mirror's matching contacts are
    offered (HTMX fills the input's <datalist>; each choice's value is the id). Without
    JavaScript, or before the mirror holds the contacts, the id is typed."""

    template_name = "core/widgets/contact_picker.html"

    def __init__(self, kind: str = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.kind = kind

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        from django.urls import reverse

        query = f"?kind={self.kind}" if self.kind else ""
        picker = {
            "list": f"picker-{name}",
            "autocomplete": "off",
            "hx-get": reverse("search:contact_options") + query,
            "hx-trigger": "input changed delay:250ms",
            "hx-target": f"#picker-{name}",
            "hx-swap": "innerHTML",
            "hx-sync": "this:replace",
        }
        return super().get_context(name, value, {**picker, **(attrs or {})})


class MinuteDateTimeField(forms.DateTimeField):
    """A date and time edited to the minute (the datetime-local widget shows no seconds).

    A value the user left alone comes back without MiniCRM's seconds: that is no change, so
    saving another field does not rewrite this one (13:00:59 as 13:00:00).
    """

    def has_changed(self, initial: Any, data: Any) -> bool:
        if isinstance(initial, datetime):
            initial = initial.replace(second=0, microsecond=0)
        return super().has_changed(initial, data)


class NumberField(forms.DecimalField):
    """A decimal number: "NaN", "sNaN" and "Infinity" are no numbers (and compare with
    nothing, so they are refused before anything compares them)."""

    def to_python(self, value: Any) -> Any:
        number = super().to_python(value)
        if number is not None and not number.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


def form_field(spec: FieldSpec, *, required: bool | None = None) -> forms.Field:
    """The Django form field for one MiniCRM field."""
    options: dict[str, Any] = {
        "label": field_label(spec),
        "required": spec.required if required is None else required,
    }
    kind = spec.kind
    if kind in ("int", "float"):
        bounds = {"min_value": 0 if spec.non_negative else -MAX_NUMBER, "max_value": MAX_NUMBER}
        if kind == "int" and spec.name in PICKED_FIELDS:
            picker = ContactPicker(PICKED_FIELDS[spec.name])
            return forms.IntegerField(localize=False, widget=picker, **bounds, **options)
        if kind == "int":
            return forms.IntegerField(localize=False, **bounds, **options)
        # Decimal, not float: "NaN", "Infinity" and "1e7000000" are refused, digits bounded.
        return NumberField(max_digits=MAX_DIGITS, localize=False, **bounds, **options)
    if kind in ("date", "datetime") and spec.past_only:
        options["validators"] = [_not_in_future]
    if kind == "date":
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
            input_formats=[DATE_INPUT, "%Y.%m.%d.", "%Y.%m.%d"],
            localize=False,
            **options,
        )
    if kind == "datetime":
        return MinuteDateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
            input_formats=[
                DATETIME_INPUT,
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
            ],
            localize=False,
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
    widget: Any = forms.Textarea(attrs={"rows": 3}) if (max_length or 0) > 1024 else None
    if spec.text_format in TEXT_VALIDATORS:
        widget, validator = TEXT_VALIDATORS[spec.text_format]
        options["validators"] = [validator]
    return forms.CharField(max_length=max_length, widget=widget, strip=False, **options)


def initial_value(spec: FieldSpec, raw: Any) -> Any:
    """MiniCRM's value (labels in detail views) as the form field's initial value."""
    if raw in (None, ""):
        return [] if spec.kind == "multiselect" else None
    if spec.kind == "select":
        return choice_id(spec, raw)
    if spec.kind == "multiselect":
        return [part for part in spec.choice_parts(raw) if isinstance(part, int)]
    if spec.kind in ("int", "float"):
        # A number as a number: the widget shows it as digits, never as "1 890 000" or "12,5".
        number = to_number(raw)
        return raw if number is None else number
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
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class SchemaForm(forms.Form):
    """A form over some fields of a schema; knows which changed and what the user saw.

    A change form checks only what the user changed: a value MiniCRM already holds is not sent
    again, so an odd one there (an old address, a float's long digits) does not block saving
    another field.
    """

    schema: Schema
    raw_values: dict[str, Any]
    creating: bool = False
    # After a conflict: the clashing fields, MiniCRM's value and the user's (for the template).
    conflict: list[dict[str, str]] | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.creating:
            changed = set(self.changed_data)
            for name in list(self.errors):
                if name in self.fields and name not in changed:
                    del self.errors[name]
        return data

    def changes(self) -> dict[str, Any]:
        """Only the fields the user changed, as the API takes them."""
        return {
            name: api_value(self.schema.fields[name], self.cleaned_data[name])
            for name in self.changed_data
            if name in self.schema.fields
        }

    def seen(self) -> dict[str, Any]:
        """MiniCRM's values of the changed fields, as the user saw them."""
        return {
            name: self.raw_values.get(name)
            for name in self.changed_data
            if name in self.schema.fields
        }

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
    if creating:
        fields[ONCE_FIELD] = once_field()  # Back and Save again makes no second record
    form_class = type("SchemaForm", (SchemaForm,), fields)
    form = form_class(data=data, initial=initial, prefix=prefix)
    form.schema = schema
    form.raw_values = raw_values
    form.creating = creating
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
