"""A changelist's columns: the card's name, the mirror's own columns (status, owner, company,
times) and every field of the module's schema; which of them a person shows (saved per module,
`ColumnChoice`), their headers, and what each card shows in them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.cards.models import ColumnChoice
from apps.core.fieldviews import SYSTEM_FIELDS, display_value, field_label
from apps.mirror.models import Card as MirrorCard
from minicrm.resources.schema import Schema

# The mirror's own columns: (the schema field it shows, its header when the schema has none).
BUILTIN = {
    "status": ("StatusId", _("Status")),
    "owner": ("UserId", _("Owner")),
    "company": ("BusinessId", _("Company")),
    "updated": ("UpdatedAt", _("Updated")),
    "created": ("CreatedAt", _("Created")),
    "status_updated": ("StatusUpdatedAt", _("Status changed")),
}
# The built-in columns that hold a moment, and the mirror's column each reads.
MOMENT_COLUMNS = {
    "updated": "updated_at",
    "created": "created_at",
    "status_updated": "status_updated_at",
}
BUILTIN_KINDS = {"company": "company", **dict.fromkeys(MOMENT_COLUMNS, "datetime")}
DEFAULT = ("status", "owner", "company", "updated")
# Schema fields never offered as columns: shown by a column above, or not a value to list.
NOT_COLUMNS = {"Id", "Name", "CategoryId", "ContactId", "BusinessId", "StatusId", "UserId"}
NOT_COLUMNS |= set(SYSTEM_FIELDS) | {"Deleted", "StatusUpdatedAt"}
NUMBER_KINDS = ("int", "float")


@dataclass(frozen=True)
class Column:
    key: str  # a BUILTIN key, or a schema field's name
    label: str
    kind: str  # "company", "datetime", or the field's kind (text, int, select, ...)


@dataclass(frozen=True)
class Cell:
    key: str
    kind: str
    value: Any  # None, "" or [] show as "—"
    href: str = ""  # the company's page, for the company column


def column_label(schema: Schema, key: str, default: Any) -> str:
    """A built-in column's header: the label an administrator gave its field, else the
    column's own short name."""
    name = "Name" if key == "name" else BUILTIN.get(key, ("", ""))[0]
    spec = schema.fields.get(name)
    return field_label(spec, default=str(default)) if spec is not None else str(default)


def column_options(schema: Schema) -> list[Column]:
    """Every column a module's changelist can show, built-in ones first, then the schema's
    fields in its order."""
    options = [
        Column(key, column_label(schema, key, label), BUILTIN_KINDS.get(key, "text"))
        for key, (_name, label) in BUILTIN.items()
    ]
    options += [
        Column(spec.name, field_label(spec), spec.kind)
        for spec in schema.fields.values()
        if spec.name not in NOT_COLUMNS and spec.kind != "file"
    ]
    return options


def chooser_columns(*, schema: Schema, shown: list[Column]) -> list[Column]:
    """The column chooser's list: the columns shown, in their order, then the others in the
    schema's (the chooser saves them in the order it lists them)."""
    keys = {column.key for column in shown}
    return list(shown) + [column for column in column_options(schema) if column.key not in keys]


def columns_shown(*, schema: Schema, user: Any, category_id: int) -> list[Column]:
    """The columns the person chose for the module (those the schema still has), else the
    default ones."""
    options = {column.key: column for column in column_options(schema)}
    chosen: list[str] = list(DEFAULT)
    if getattr(user, "is_authenticated", False):
        saved = ColumnChoice.objects.filter(user=user, category_id=category_id).first()
        if saved is not None and isinstance(saved.columns, list):
            chosen = [str(key) for key in saved.columns]
    shown = [options[key] for key in chosen if key in options]
    return shown or default_columns(schema)


def default_columns(schema: Schema) -> list[Column]:
    """The columns a changelist shows until its person chooses: status, owner, company,
    updated (MiniCRM's search rows have these, so they also head a list not mirrored yet)."""
    options = {column.key: column for column in column_options(schema)}
    return [options[key] for key in DEFAULT]


def card_cells(
    card: MirrorCard, columns: list[Column], schema: Schema, names: dict[int, str]
) -> list[Cell]:
    """What a mirrored card shows in each column (dropdowns by label, numbers as numbers)."""
    statuses = schema.fields["StatusId"].choices if "StatusId" in schema.fields else {}
    owners = schema.fields["UserId"].choices if "UserId" in schema.fields else {}
    # The fields' JSON only when a column shows a field (a narrow row defers it).
    data = (card.data or {}) if any(c.key not in BUILTIN for c in columns) else {}
    cells = []
    for column in columns:
        key = column.key
        if key == "status":
            cells.append(Cell(key, "text", statuses.get(card.status_id or 0, "")))
        elif key == "owner":
            cells.append(Cell(key, "text", owners.get(card.user_id or 0, "")))
        elif key == "company":
            cells.append(company_cell(card.business_id, card.contact_id, names))
        elif key in MOMENT_COLUMNS:
            cells.append(Cell(key, "datetime", getattr(card, MOMENT_COLUMNS[key])))
        else:
            spec = schema.fields.get(key)
            raw = data.get(key)
            value = display_value(spec, raw) if spec is not None else raw
            if column.kind in NUMBER_KINDS:
                value = as_number(value)
            cells.append(Cell(key, "number" if column.kind in NUMBER_KINDS else "value", value))
    return cells


def company_cell(business_id: int | None, contact_id: int | None, names: dict[int, str]) -> Cell:
    """The company column: the company's name (else the contact's), linked; "—" without one."""
    shown = business_id or contact_id
    if not shown:
        return Cell("company", "company", None)
    return Cell(
        "company",
        "company",
        names.get(shown) or f"#{shown}",
        reverse("contacts:contact", args=[shown]),
    )


def as_number(value: Any) -> Any:
    """A number field's value as a number (MiniCRM sends some as text), to be formatted for
    the page's language; a value that is no number is shown as it is."""
    if isinstance(value, bool) or value in (None, ""):
        return value
    if isinstance(value, int | float | Decimal):
        return value
    try:
        number = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    return int(number) if number == number.to_integral_value() else number
