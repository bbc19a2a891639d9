"""One error hierarchy for everything the MiniCRM API (or the way to it) can answer.

`raise_for_response` is the single place that maps an HTTP status to an exception. Messages
carry MiniCRM's own plain text and the request's method and path, never the credentials.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import requests


class MiniCRMError(Exception):
    """Base of every client error."""

    status: int | None = None

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        self.message = message
        self.method = method
        self.path = path
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message}")


class BadRequest(MiniCRMError):
    """400: MiniCRM refused the data; `field` names the field its message is about, if any."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.field = field


class Unauthorized(MiniCRMError):
    status = 401


class NotFound(MiniCRMError):
    status = 404


class MethodNotAllowed(MiniCRMError):
    status = 405


class ServerError(MiniCRMError):
    status = 500


class RateLimited(MiniCRMError):
    """429, or no slot in the shared budget before the caller's deadline."""

    status = 429

    def __init__(self, message: str, *, retry_after: float = 0.0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ConnectionFailed(MiniCRMError):
    """MiniCRM could not be reached (refused, reset, DNS, TLS)."""


class RequestTimeout(ConnectionFailed):
    """MiniCRM did not answer in time; a write may or may not have been applied."""


STATUS_ERRORS: dict[int, type[MiniCRMError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    429: RateLimited,
}

_FIELD_PATTERNS = (
    re.compile(r"Invalid value '(?P<value>.*)' for the (?P<label>.+?) field"),
    re.compile(r"Unknown field '(?P<name>[^']+)'"),
    re.compile(r"The (?P<label>.+?) field(?: of an existing [\w-]+)? (?:is required|cannot be)"),
    re.compile(r"The (?P<label>\w+) of an existing \w+ cannot be changed"),
)


def error_text(response: requests.Response) -> str:
    """MiniCRM's message: plain text, or the one JSON shape seen in the field."""
    text = response.text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict) and isinstance(data.get("Message"), str):
            return data["Message"]
    prefix = re.match(r"^\w+ \((?:GET|PUT|POST|PATCH|DELETE|\w+)\): ", text)
    return text[prefix.end() :] if prefix else text or response.reason or "error"


def field_of(message: str, payload: dict[str, Any] | None) -> str | None:
    """The field a 400 message is about.

    MiniCRM names a field by its label ("for the Lead qualification field"), which the API
    never lists; so the label is matched against the names sent (exactly, then as the end of
    a name: "Sales status" is "AutoSalesV3_SalesStatus"), then the refused value against the
    values sent (MiniCRM cuts long ones to "..."), and last a one-word label is taken as the
    name without its accents ("Forrás" is "Forras").
    """
    payload = payload or {}
    for pattern in _FIELD_PATTERNS:
        match = pattern.search(message)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("name"):
            return groups["name"]
        label = groups.get("label") or ""
        return (
            _by_label(label, payload)
            or _by_value(groups.get("value"), payload)
            or (_plain(label) if label and " " not in label.strip() else None)
        )
    return None


def _by_label(label: str, payload: dict[str, Any]) -> str | None:
    wanted = _squash(label)
    if not wanted:
        return None
    exact = [key for key in payload if _squash(key) == wanted]
    ending = [key for key in payload if _squash(key).endswith(wanted)]
    for found in (exact, ending):
        if len(found) == 1:
            return found[0]
    return None


def _by_value(value: str | None, payload: dict[str, Any]) -> str | None:
    if value is None:
        return None
    cut = value.endswith("...")
    found = [
        key
        for key, sent in payload.items()
        if _as_text(sent) == value or (cut and _as_text(sent).startswith(value[:-3]))
    ]
    return found[0] if len(found) == 1 else None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _plain(text).casefold())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def raise_for_response(
    response: requests.Response, *, method: str, path: str, payload: dict[str, Any] | None = None
) -> None:
    """Raise the exception for a non-2xx answer; return quietly on success."""
    status = response.status_code
    if status < 400:
        return
    message = error_text(response)
    if status == 400:
        raise BadRequest(message, field=field_of(message, payload), method=method, path=path)
    if status == 429:
        raise RateLimited(
            message, retry_after=retry_after_seconds(response), method=method, path=path
        )
    error_class = STATUS_ERRORS.get(status)
    if error_class is None:
        error_class = ServerError if status >= 500 else MiniCRMError
    error = error_class(message, method=method, path=path)
    error.status = status
    raise error


def retry_after_seconds(response: requests.Response) -> float:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 0.0
