"""Field definitions of the sandbox: which fields an entity has, and how values are checked.

A value written through the API is coerced to its canonical stored form (dropdowns by id,
multi-selects as sorted lists of ids) or refused with MiniCRM's kind of message; a stored value
is rendered back as the API shows it (labels in detail views, ids in search rows, strings in
webhook messages).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

TEXT_TYPE = re.compile(r"^Text\((\d+)\)$")
MAX_MULTI_ID = 2**35
MAX_INT = 2**63 - 1  # what SQLite can store


class FieldError(ValueError):
    """A value MiniCRM would refuse; the message is the API's plain-text explanation."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str  # Int, Float, Text(n), Date, DateTime, Boolean, File(10MB), Select, MultiSelect
    options: dict[int, str] = field(default_factory=dict)
    required: bool = False
    writable: bool = True

    @property
    def is_choice(self) -> bool:
        return self.type in ("Select", "MultiSelect")

    @property
    def max_length(self) -> int | None:
        match = TEXT_TYPE.match(self.type)
        return int(match.group(1)) if match else None

    def schema_value(self) -> str | dict[str, str]:
        """The value the Schema endpoint shows: the type name, or {id: label} for choices."""
        if self.is_choice:
            return {str(key): label for key, label in self.options.items()}
        return self.type

    # -- writing ------------------------------------------------------------------------

    def invalid(self, value: Any, hint: str = "") -> FieldError:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return FieldError(f"Invalid value '{shown}' for the {self.label} field.{hint}")

    def coerce(self, value: Any) -> Any:
        """The canonical stored form of a written value, or FieldError."""
        if value is None or value == "":
            if self.required:
                raise FieldError(f"The {self.label} field is required.")
            return [] if self.type == "MultiSelect" else None
        kind = self.type
        if kind == "Int":
            return self._coerce_int(value)
        if kind == "Float":
            if isinstance(value, bool):
                raise self.invalid(value, " A number is expected.")
            try:
                return (
                    float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
                )
            except (TypeError, ValueError):
                raise self.invalid(value, " A number is expected.") from None
        if kind == "Boolean":
            if value in (True, 1, "1", "true", "True", "Igen", "igen", "Yes", "yes"):
                return 1
            if value in (False, 0, "0", "false", "False", "Nem", "nem", "No", "no"):
                return 0
            raise self.invalid(value, " Yes or no is expected.")
        if kind == "Date":
            return self._coerce_date(value)
        if kind == "DateTime":
            return self._coerce_datetime(value)
        if kind == "Select":
            return self._choice_id(value)
        if kind == "MultiSelect":
            return self._coerce_multi(value)
        if kind.startswith("File"):
            if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
                raise self.invalid(value, " A public http(s) URL of the file is expected.")
            return value
        # Text(n)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.invalid(value, " Text is expected.")
        text = str(value)
        limit = self.max_length
        if limit is not None and len(text) > limit:
            raise self.invalid(text, f" At most {limit} characters are allowed.")
        return text

    def _coerce_int(self, value: Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value)
        ):
            number = int(value)
        if number is None or abs(number) > MAX_INT:
            raise self.invalid(value, " A whole number is expected.")
        return number

    def _coerce_date(self, value: Any) -> str:
        text = str(value).strip() if isinstance(value, str) else ""
        try:
            return date.fromisoformat(text[:10]).isoformat() if len(text) in (10, 19) else _fail()
        except ValueError:
            raise self.invalid(value, " A date (YYYY-MM-DD) is expected.") from None

    def _coerce_datetime(self, value: Any) -> str:
        text = str(value).strip().replace("T", " ") if isinstance(value, str) else ""
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).strftime("%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
        raise self.invalid(value, " A date and time (YYYY-MM-DD HH:MM:SS) is expected.")

    def _choice_id(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.invalid(value)
        if isinstance(value, int | str) and str(value).strip().isdigit():
            key = int(str(value).strip())
            if key in self.options:
                return key
        if isinstance(value, str):
            wanted = value.strip().casefold()
            for key, label in self.options.items():
                if label.casefold() == wanted:
                    return key
        raise self.invalid(value)

    def _coerce_multi(self, value: Any) -> list[int]:
        if isinstance(value, int | str) and not isinstance(value, bool):
            text = str(value).strip()
            if text.isdigit() and int(text) not in self.options:
                mask = int(text)
                ids = [key for key in self.options if mask & key]
                if sum(ids) != mask or mask > 2 * MAX_MULTI_ID:
                    raise self.invalid(value)
                return sorted(ids)
            items: list[Any] = [part for part in text.split(",")] if "," in text else [value]
        elif isinstance(value, list):
            items = value
        else:
            raise self.invalid(value)
        return sorted({self._choice_id(item) for item in items})

    # -- reading ------------------------------------------------------------------------

    def render(self, value: Any) -> Any:
        """The value as a detail view shows it: labels for choices, "" for empty."""
        if value is None:
            return ""
        if self.type == "Select":
            return self.options.get(value, "")
        if self.type == "MultiSelect":
            return [self.options[key] for key in value if key in self.options]
        return value

    def render_webhook(self, value: Any) -> Any:
        """The value as a webhook message carries it: strings, multi-selects as a bitmask."""
        if value is None:
            return ""
        if self.type == "MultiSelect":
            return sum(value)
        return str(value)

    def matches(self, stored: Any, wanted: str) -> bool:
        """Whether a stored value equals a search parameter (labels or ids for choices)."""
        if self.type == "MultiSelect":
            try:
                return self._choice_id(wanted) in (stored or [])
            except FieldError:
                return False
        if self.type == "Select":
            try:
                return stored == self._choice_id(wanted)
            except FieldError:
                return False
        if stored is None:
            return wanted == ""
        return str(stored).casefold() == wanted.strip().casefold()


def _fail() -> str:
    raise ValueError


def _text(name: str, size: int = 255, **kw: Any) -> Field:
    return Field(name, kw.pop("label", name), f"Text({size})", **kw)


def _ro(name: str, kind: str) -> Field:
    return Field(name, name, kind, writable=False)


CONTACT_COMMON = [
    _ro("Id", "Int"),
    Field("BusinessId", "BusinessId", "Int"),
    _text("Email", 128),
    _text("Phone", 128),
    _text("Description", 65535),
    _text("Url"),
    _text("BankAccount"),
    _text("Swift"),
    _text("VatNumber"),
    _text("Industry"),
    _text("Region"),
    Field("YearlyRevenue", "YearlyRevenue", "Int"),
    _ro("Deleted", "Int"),
    _ro("CreatedAt", "DateTime"),
    _ro("UpdatedAt", "DateTime"),
    _ro("ParentId", "Int"),
]
PERSON_STANDARD = [
    CONTACT_COMMON[0],
    CONTACT_COMMON[1],
    _text("FirstName"),
    _text("LastName"),
    _text("Position"),
    *CONTACT_COMMON[2:],
]
BUSINESS_STANDARD = [
    CONTACT_COMMON[0],
    _text("Name"),
    _text("RegistrationNumber"),
    *CONTACT_COMMON[2:],
]
PROJECT_STANDARD_BEFORE = [
    _ro("Id", "Int"),
    Field("CategoryId", "CategoryId", "Int"),
    Field("ContactId", "ContactId", "Int"),
    _ro("BusinessId", "Int"),
    _text("Name", 512),
]
PROJECT_STANDARD_AFTER = [
    _text("ReferenceId"),
    Field("Deleted", "Deleted", "Int"),
    _ro("StatusUpdatedAt", "DateTime"),
    _ro("CreatedAt", "DateTime"),
    _ro("UpdatedAt", "DateTime"),
]


def custom_fields(db: sqlite3.Connection, entity: str, category_id: int = 0) -> list[Field]:
    rows = db.execute(
        "SELECT * FROM fields WHERE entity = ? AND category_id = ? ORDER BY position",
        (entity, category_id),
    ).fetchall()
    return [
        Field(
            row["name"],
            row["label"],
            ("MultiSelect" if row["multi"] else "Select") if row["options"] else row["type"],
            {int(k): v for k, v in json.loads(row["options"]).items()} if row["options"] else {},
            required=bool(row["required"]),
        )
        for row in rows
    ]


def contact_fields(db: sqlite3.Connection, contact_type: str) -> dict[str, Field]:
    standard = PERSON_STANDARD if contact_type == "Person" else BUSINESS_STANDARD
    return {f.name: f for f in [*standard, *custom_fields(db, contact_type)]}


def project_fields(db: sqlite3.Connection, category_id: int) -> dict[str, Field]:
    statuses = {
        row["id"]: row["name"]
        for row in db.execute(
            "SELECT id, name FROM statuses WHERE category_id = ? ORDER BY position", (category_id,)
        )
    }
    users = {row["id"]: row["name"] for row in db.execute("SELECT id, name FROM users ORDER BY id")}
    choices = [
        Field("StatusId", "StatusId", "Select", statuses),
        Field("UserId", "UserId", "Select", users),
    ]
    return {
        f.name: f
        for f in [
            *PROJECT_STANDARD_BEFORE,
            *choices,
            *PROJECT_STANDARD_AFTER,
            *custom_fields(db, "Project", category_id),
        ]
    }
