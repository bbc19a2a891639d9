"""What the sandbox's resources share: the request context, paging, body checks and text search."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.sandbox.errors import bad_request
from apps.sandbox.fields import MAX_INT, Field, FieldError

PAGE_SIZE = 100


@dataclass
class Ctx:
    """One API request: the open database (inside a transaction for writes) and where we serve."""

    db: sqlite3.Connection
    base_url: str  # e.g. http://127.0.0.1:8001, for the Url fields of results
    system_id: str

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def now_text() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def page_number(params: dict[str, str]) -> int:
    raw = params.get("Page", "0").strip() or "0"
    if not raw.isdigit():
        raise bad_request(f"Invalid value '{raw}' for the Page parameter.")
    return int(raw)


def page_slice(items: Sequence[Any], page: int) -> Sequence[Any]:
    return items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def parse_int_param(name: str, raw: str) -> int:
    if not raw.strip().lstrip("-").isdigit() or abs(int(raw)) > MAX_INT:
        raise bad_request(f"Invalid value '{raw}' for the {name} parameter.")
    return int(raw)


def parse_since(raw: str) -> str:
    """UpdatedSince as the API takes it, lenient about separators ("2018-0214+10:00:00")."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 8:
        raise bad_request(f"Invalid value '{raw}' for the UpdatedSince parameter.")
    try:
        moment = datetime.strptime(digits[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        raise bad_request(f"Invalid value '{raw}' for the UpdatedSince parameter.") from None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def coerce_or_400(field: Field, value: Any) -> Any:
    try:
        return field.coerce(value)
    except FieldError as error:
        raise bad_request(str(error)) from None


def fold(text: str) -> str:
    """Lower-case, accent-free text with punctuation turned into spaces, for whole-word search."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())


def phone_digits(text: str) -> str:
    """A phone number normalised to its national digits: '+36 20 236 7532' -> '202367532'."""
    digits = re.sub(r"\D", "", text)
    for prefix in ("0036", "36", "06"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 8:
            return digits[len(prefix) :]
    return digits


def looks_like_phone(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s()+\-/.]+", text.strip())) and len(re.sub(r"\D", "", text)) >= 4
