"""Fields of a MiniCRM record as pages show them, labelled and typed from the schema.

Shared by the card and contact pages: dropdown ids become labels, multi-selects lists, dates
datetimes, and values a queued write will set are shown instead of MiniCRM's, marked.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from minicrm.resources.schema import FieldSpec, Schema, humanize
from minicrm.types import to_date, to_datetime

# Bookkeeping fields MiniCRM keeps on every record: shown apart, never edited in forms.
SYSTEM_FIELDS = ("CreatedAt", "UpdatedAt", "StatusUpdatedAt", "ReferenceId", "Deleted")

# MiniCRM's own fields, labelled in the user's language. The schema gives no labels, so
# custom fields keep the label made from their name (the system's own, usually Hungarian).
STANDARD_LABELS = {
    "Id": _("ID"),
    "Name": _("Name"),
    "FirstName": _("First name"),
    "LastName": _("Last name"),
    "Position": _("Position"),
    "Email": _("Email"),
    "Phone": _("Phone"),
    "Description": _("Description"),
    "Url": _("Website"),
    "BankAccount": _("Bank account"),
    "Swift": _("SWIFT code"),
    "VatNumber": _("VAT number"),
    "RegistrationNumber": _("Registration number"),
    "Industry": _("Industry"),
    "Region": _("Region"),
    "YearlyRevenue": _("Yearly revenue"),
    "Tags": _("Tags"),
    "CategoryId": _("Module"),
    "ContactId": _("Contact"),
    "BusinessId": _("Company"),
    "StatusId": _("Status"),
    "UserId": _("Owner"),
    "ReferenceId": _("Reference"),
    "Deleted": _("Deleted"),
    "Comment": _("Comment"),
    "Deadline": _("Deadline"),
    "CreatedAt": _("Created at"),
    "UpdatedAt": _("Updated at"),
    "StatusUpdatedAt": _("Status updated at"),
}


class NamedFields:
    """The labels administrators gave fields, read once (one query) when a page first needs
    one: {(owner, field name): (English, Hungarian)}."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, str], tuple[str, str]] | None = None

    def get(self, owner: str, name: str) -> tuple[str, str] | None:
        if self._labels is None:
            from apps.core.models import FieldLabel

            rows = FieldLabel.objects.values_list("entity", "field_name", "label_en", "label_hu")
            self._labels = {(entity, field): (en, hu) for entity, field, en, hu in rows}
        return self._labels.get((owner, name))


# One per request (set when it starts, dropped when it ends, in apps.core.apps); outside a
# request (a task, a command) fields keep their default labels and nothing is read.
_named: ContextVar[NamedFields | None] = ContextVar("named_fields", default=None)


def named_fields_start(**_kwargs: Any) -> None:
    """A new request reads the administrators' labels afresh (once, when first needed)."""
    _named.set(NamedFields())


def named_fields_end(**_kwargs: Any) -> None:
    _named.set(None)


def named_fields_forget() -> None:
    """Labels were just saved: the rest of this request reads them again."""
    if _named.get() is not None:
        _named.set(NamedFields())


def name_label(name: str) -> str:
    """A field's label when no schema describes it: MiniCRM's own fields translated, others
    by their humanized name."""
    label = STANDARD_LABELS.get(name)
    return str(label) if label is not None else humanize(name)


def default_field_label(spec: FieldSpec) -> str:
    """A field's label when no administrator named it: MiniCRM's own fields translated,
    others their name made readable."""
    label = STANDARD_LABELS.get(spec.name)
    return str(label) if label is not None else spec.label


def field_label(spec: FieldSpec, *, default: str | None = None) -> str:
    """The label people read for a field, the one place a field is named: the administrator's
    label in the active language (Hungarian when the page is Hungarian and one is set, else
    the English one), else `default` if given (a column's own short name), else the default
    label."""
    named = _named.get()
    labels = named.get(spec.owner, spec.name) if named is not None and spec.owner else None
    if labels is not None:
        english, hungarian = labels
        if hungarian and (get_language() or "").startswith("hu"):
            return hungarian
        if english:
            return english
    return str(default) if default is not None else default_field_label(spec)


@dataclass(frozen=True)
class FieldView:
    spec: FieldSpec
    value: Any  # labels for choices, a list for multi-selects, datetime/date, bool, or text
    raw: Any  # the value as MiniCRM sent it: what the user saw, for conflict checks
    pending: bool = False  # a queued write will change it; `value` shows the new value

    @property
    def label(self) -> str:
        return field_label(self.spec)

    @property
    def is_empty(self) -> bool:
        return self.value in (None, "", [])


def minicrm_aware(moment: datetime | None) -> datetime | None:
    """MiniCRM's naive local time as an aware datetime (templates show it in the user's zone)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zoneinfo.ZoneInfo(settings.MINICRM_TIME_ZONE))


def minicrm_naive(moment: datetime) -> datetime:
    """An aware datetime as MiniCRM's naive local time."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zoneinfo.ZoneInfo(settings.MINICRM_TIME_ZONE)).replace(tzinfo=None)


def display_value(spec: FieldSpec, value: Any) -> Any:
    """A value for people: labels for choices, lists for multi-selects, dates as dates."""
    if spec.kind in ("select", "multiselect"):
        return spec.display(value)
    if spec.kind == "datetime":
        return minicrm_aware(to_datetime(value) if isinstance(value, str) else value)
    if spec.kind == "date":
        return to_date(value) if isinstance(value, str) else value
    if spec.kind == "bool":
        if value in ("", None):
            return ""
        return str(value).strip().casefold() in ("1", "true", "igen", "yes")
    return "" if value is None else value


def label_of(spec: FieldSpec | None, value: Any) -> str:
    """A dropdown's value (a label, or an id from a write) as its label."""
    if spec is None:
        return "" if value is None else str(value)
    shown = spec.display(value)
    return ", ".join(shown) if isinstance(shown, list) else str(shown)


def choice_id(spec: FieldSpec | None, value: Any) -> int | None:
    """A dropdown's value as its id: text is a label first (detail views answer labels)."""
    if spec is None:
        return None
    return spec.choice_key(value)


def system_views(schema: Schema, data: dict[str, Any]) -> list[FieldView]:
    """The record's bookkeeping fields (created, updated, reference), for a small side table."""
    return [
        FieldView(
            schema.fields[name], display_value(schema.fields[name], data.get(name)), data.get(name)
        )
        for name in SYSTEM_FIELDS
        if name in schema.fields and name in data
    ]


def field_views(
    schema: Schema, data: dict[str, Any], pending: dict[str, Any], *, skip: Collection[str] = ()
) -> list[FieldView]:
    """Every field of the record in schema order, but those in `skip` and the system fields."""
    views = []
    for name, spec in schema.fields.items():
        if name in skip or name in SYSTEM_FIELDS or (name not in data and name not in pending):
            continue
        raw = data.get(name)
        if name in pending:
            views.append(FieldView(spec, display_value(spec, pending[name]), raw, pending=True))
        else:
            views.append(FieldView(spec, display_value(spec, raw), raw))
    return views
