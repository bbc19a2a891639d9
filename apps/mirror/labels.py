"""Values as people read them, named from the mirror: a field by its label, a dropdown's id by
its label, an owner's id by the MiniCRM user's name, a contact's or company's id by its name
(linked to its page), and nested values as text, never a Python repr.

Shared by the pages that show what was sent or received rather than a record: the write
queue, a bulk job, a webhook event. Without a schema or a mirror row a value falls back to the
field's humanized name and the value as it came.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from apps.core.fieldviews import display_value, field_label, name_label
from apps.mirror.models import Contact, Module
from apps.mirror.models import Schema as MirrorSchema
from apps.mirror.store import module_field_schema
from minicrm.resources.schema import Schema

# Fields whose value is a MiniCRM user's id.
USER_FIELDS = frozenset({"UserId", "owner"})
# Fields whose value is a contact's (a person's or a company's) id.
CONTACT_FIELDS = frozenset(
    {"ContactId", "BusinessId", "MainContactId", "CustomerId", "ParentId", "customer_id"}
)


@dataclass(frozen=True)
class Named:
    """One value as a page shows it: the field's label, the value for `core/_value.html`, and
    the page of the object the value names ("" when it names none)."""

    label: str
    value: Any
    href: str = ""


@dataclass(frozen=True)
class ValueNames:
    """Names the mirror knows for ids: MiniCRM's users and the contacts asked for."""

    users: dict[int, str] = field(default_factory=dict)
    contacts: dict[int, str] = field(default_factory=dict)


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def mirror_users() -> dict[int, str]:
    """MiniCRM's users (owners of cards and to-dos) as the mirror's module schemas list them."""
    users: dict[int, str] = {}
    for schema in Module.objects.exclude(schema=None).values_list("schema", flat=True):
        choices = schema.get("UserId") if isinstance(schema, dict) else None
        if isinstance(choices, dict):
            users.update({int(k): str(v) for k, v in choices.items() if str(k).isdigit()})
    return users


def contact_field_schema(entity: str) -> Schema | None:
    """A contact type's schema (Person or Business) as the mirror stored it; None if it has not."""
    data = MirrorSchema.objects.filter(entity=entity).values_list("data", flat=True).first()
    return Schema.parse(entity, data) if isinstance(data, dict) and data else None


def value_names(values: Iterable[dict[str, Any]]) -> ValueNames:
    """The names for every user and contact id in `values` (dicts of field -> value): one query
    for the users, one for the contacts."""
    ids = {
        number
        for mapping in values
        for name, value in mapping.items()
        if name in CONTACT_FIELDS and (number := _as_id(value)) is not None
    }
    contacts = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return ValueNames(users=mirror_users(), contacts={k: v for k, v in contacts.items() if v})


def schema_for(object_type: str, data: dict[str, Any]) -> Schema | None:
    """The schema a card's or contact's values are read with: its module's (by CategoryId), or
    its contact type's (by Type); None when the mirror has none."""
    if object_type in ("project", "Project"):
        category = _as_id(data.get("CategoryId"))
        return module_field_schema(category) if category is not None else None
    if object_type in ("contact", "Contact"):
        entity = str(data.get("Type") or "")
        return contact_field_schema(entity) if entity in ("Person", "Business") else None
    return None


def readable(value: Any) -> Any:
    """A nested value as text people read: a mapping as "Label: value" items, a list of
    mappings as one such line each; plain values as they are."""
    if isinstance(value, dict):
        return [f"{name_label(k)}: {_flat(value[k])}" for k in in_field_order(value, None)]
    if isinstance(value, list | tuple):
        return [_flat(item) for item in value]
    return value


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{name_label(k)}: {_flat(value[k])}" for k in in_field_order(value, None))
    if isinstance(value, list | tuple):
        return ", ".join(_flat(item) for item in value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def named_value(name: str, value: Any, schema: Schema | None, names: ValueNames) -> Named:
    """One field's value labelled: owners and contacts by their names, dropdowns by their
    labels, other values by the schema's type; what is unknown stays as it came."""
    spec = schema.fields.get(name) if schema is not None else None
    label = field_label(spec) if spec is not None else name_label(name)
    number = _as_id(value)
    if name in CONTACT_FIELDS and number is not None:
        shown = names.contacts.get(number)
        href = reverse("contacts:contact", args=[number])
        return Named(label, f"{shown} (#{number})" if shown else f"#{number}", href)
    if name in USER_FIELDS and number is not None:
        if spec is not None and spec.kind == "select" and spec.choice_key(value) is not None:
            return Named(label, display_value(spec, value))
        return Named(label, names.users.get(number, value))
    if spec is not None:
        return Named(label, display_value(spec, value))
    return Named(label, readable(value))


def named_values(data: dict[str, Any], schema: Schema | None, names: ValueNames) -> list[Named]:
    return [named_value(name, data[name], schema, names) for name in in_field_order(data, schema)]


# The fields every record has, first, in the order a card's page shows them.
LEADING_FIELDS = ("Name", "StatusId", "UserId", "ContactId", "BusinessId", "CategoryId")


def in_field_order(data: dict[str, Any], schema: Schema | None) -> list[str]:
    """A record's field names in one order whatever stored them (PostgreSQL's jsonb keeps
    keys in an order of its own): the leading fields, then the schema's, then the rest by
    name."""
    position = {name: i for i, name in enumerate(schema.fields)} if schema is not None else {}

    def rank(name: str) -> tuple[int, int, str]:
        if name in LEADING_FIELDS:
            return (0, LEADING_FIELDS.index(name), name)
        if name in position:
            return (1, position[name], name)
        return (2, 0, name)

    return sorted((str(name) for name in data), key=rank)
