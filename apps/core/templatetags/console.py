"""Template helpers of the console: MiniCRM's local times, fields by their labels, and query
strings that keep filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe

from apps.core.fieldviews import (
    STANDARD_LABELS,
    default_field_label,
    field_label,
    minicrm_aware,
)

register = template.Library()


@register.filter
def aware(value: Any) -> Any:
    """A naive MiniCRM time as an aware one, so `|date` shows it in the user's time zone."""
    return minicrm_aware(value) if isinstance(value, datetime) else value


@register.filter
def field_name(schema: Any, name: str) -> str:
    """A field of the schema as people read it (`{{ card.schema|field_name:"StatusId" }}`):
    an administrator's label, else the default one."""
    spec = schema.fields.get(name) if schema is not None else None
    return field_label(spec) if spec is not None else str(STANDARD_LABELS.get(name, name))


@register.filter
def default_label(spec: Any) -> str:
    """A field's label when no administrator has named it."""
    return default_field_label(spec)


@register.filter
def dictitem(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template, or {} when missing."""
    return mapping.get(key, {}) if isinstance(mapping, dict) else {}


@register.filter
def overdue(todo: Any) -> bool:
    """An open to-do whose deadline has passed."""
    deadline = minicrm_aware(getattr(todo, "deadline", None))
    return bool(getattr(todo, "is_open", False) and deadline and deadline < timezone.now())


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None or "" removes one)."""
    request = context["request"]
    query: QueryDict = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_query(context: dict[str, Any], key: str) -> str:
    """The query string that sorts a changelist by a column (`o`), ascending first and then
    descending, back on the first page; the other parameters kept."""
    current = context["request"].GET.get("o", "")
    return query_with(context, o=f"-{key}" if current == key else key, p=None)


@register.filter
def kind_of(value: Any) -> str:
    """What a displayed value is, for the template that renders it."""
    if value is None or value == "" or value == []:
        return "empty"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, list):
        return "list"
    if isinstance(value, datetime):
        return "datetime"
    if hasattr(value, "isoformat"):
        return "date"
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return "url"
    return "text"


@register.simple_tag(takes_context=True)
def facet_query(context: dict[str, Any], param: str, value: str) -> str:
    """The changelist's query with one filter set (or removed, for "All"), on the first page;
    `facets` (the no-JavaScript way to the counts) dropped."""
    return query_with(context, **{param: value, "p": None, "facets": None})


@register.filter
def grouped(value: Any) -> str:
    """A number with the language's thousands separator (1 890 000 in Hungarian)."""
    return number_format(value, use_l10n=True, force_grouping=True)


@register.simple_tag
def choice_options(choices: Any, selected: Any) -> str:
    """A select's options of (value, label) pairs, `selected` chosen: in one call, as a board
    renders them for each of its hundreds of cards (a template loop took a third of its time)."""
    return mark_safe(  # noqa: S308 (each value and label is escaped)
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in choices
        )
    )
