"""Request input for views: the request django-htmx's middleware gives every view, the one
strict parser of ids in URLs, query strings and hidden fields, and safe `next` redirects."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

# MiniCRM's ids, and the console's own, are positive and fit a signed 64-bit integer (SQLite's
# and PostgreSQL's bigint): anything else is not an id of anything.
ID_MAX = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")
_DIGITS = re.compile(r"[0-9]{1,100}")  # a form says "too large" for more digits than an id


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def parse_id(value: Any, *, allow_zero: bool = False) -> int | None:
    """An id from user input or a message (ASCII digits, 1 <= id <= 2**63 - 1; 0 too with
    `allow_zero`, MiniCRM's "none"), or None when it is not one.

    `str.isdigit()` is no test: it is true for "²" (which `int()` refuses) and for digits of
    other scripts (which `int()` reads).
    """
    if isinstance(value, bool):
        return None
    lowest = 0 if allow_zero else 1
    if isinstance(value, int):
        return value if lowest <= value <= ID_MAX else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if lowest <= number <= ID_MAX else None


class IdField(forms.IntegerField):
    """A form field for an id: ASCII digits, 1 to 2**63 - 1, with a message instead of a 500
    (Django's own "Enter a whole number." and its range messages)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not _DIGITS.fullmatch(text):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text)


class IdConverter:
    """`<id:name>` in URL patterns: an id as `parse_id` takes it; anything else is a 404."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` a form posted (or a query string carried) when it is a page of this site,
    otherwise `fallback` (a URL or a URL name for `redirect`)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback
