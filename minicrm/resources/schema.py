"""Schema introspection: each field described as a form field, and changes checked before sending.

`Schema/Person`, `Schema/Business` and `Schema/Project/{CategoryId}` answer `{name: type}` with
`{id: label}` for dropdowns; multi-selects are dropdowns whose ids are powers of two. The raw
answers are cached (any object with get/set/delete, a dict with a TTL by default) until
`refresh()` drops them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from minicrm.types import NUMBER

if TYPE_CHECKING:
    from minicrm.client import MiniCRMClient

TEXT_TYPE = re.compile(r"^Text\((\d+)\)$")
KINDS = {"Int": "int", "Float": "float", "Date": "date", "DateTime": "datetime", "Boolean": "bool"}
READ_ONLY = {
    "Person": {"Id", "Deleted", "CreatedAt", "UpdatedAt", "ParentId"},
    "Business": {"Id", "Deleted", "CreatedAt", "UpdatedAt", "ParentId"},
    "Project": {
        "Id",
        "BusinessId",
        "CreatedAt",
        "UpdatedAt",
        "StatusUpdatedAt",
        "ProjectHash",
        "ProjectEmail",
    },
}
REQUIRED = {"Person": {"FirstName"}, "Business": {"Name"}, "Project": {"Name"}}
CREATE_ONLY = {"Project": {"CategoryId"}, "Person": {"Type"}, "Business": {"Type"}}
TRUE_WORDS = {"1", "true", "yes", "on", "igen"}
FALSE_WORDS = {"0", "false", "no", "off", "nem", ""}
# Numbers are bounded before anything is stored: 15 significant digits (what a float keeps).
MAX_DIGITS = 15
MAX_NUMBER = 10**MAX_DIGITS - 1
NON_NEGATIVE = {"YearlyRevenue"}
# Dates of birth and founding dates (by the field's name: MiniCRM's types do not say).
PAST_ONLY = re.compile(r"szulet|birth|alapit|founded|founding", re.IGNORECASE)
# MiniCRM's own text fields whose content has a form.
TEXT_FORMATS = {"Email": "email", "Url": "url", "Phone": "phone"}
TEXT_PATTERNS = {
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}"),
    "url": re.compile(r"(?:https?://)?[^\s/:@]+\.[^\s/:@]{2,}(?::[0-9]{1,5})?(?:/\S*)?", re.I),
    "phone": re.compile(
        r"(?=(?:[^0-9]*[0-9]){3})\+?[0-9 ()/.\-]{3,40}"
        r"(?:\s*(?:ext\.?|x|mellék)\s*[0-9]{1,6})?",
        re.I,
    ),
}
TEXT_MESSAGES = {
    "email": "Enter a valid email address.",
    "url": "Enter a valid web address.",
    "phone": "Enter a phone number: digits, spaces, +, -, / and brackets.",
}


class SchemaCache(Protocol):
    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class MemorySchemaCache:
    """A process-local cache with a time to live."""

    def __init__(self, ttl: float = 3600.0) -> None:
        self.ttl = ttl
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._data.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + self.ttl, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class RedisSchemaCache:
    """Schemas kept in Redis, shared by every process, for `ttl` seconds."""

    def __init__(self, connection: Any, ttl: int = 3600) -> None:
        self.redis = connection
        self.ttl = ttl

    def get(self, key: str) -> Any:
        raw = self.redis.get(key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any) -> None:
        self.redis.set(key, json.dumps(value), ex=self.ttl)

    def delete(self, key: str) -> None:
        self.redis.delete(key)


STANDARD_LABELS = {
    "StatusId": "Status",
    "UserId": "Owner",
    "ContactId": "Contact",
    "BusinessId": "Company",
    "CategoryId": "Module",
    "ReferenceId": "Reference",
}


def humanize(name: str) -> str:
    """'AutoSalesV3_Qualification' -> 'Auto sales v3 qualification', a label when none is known."""
    if name in STANDARD_LABELS:
        return STANDARD_LABELS[name]
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_+", " ", name).strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced else name


def is_power_of_two(number: int) -> bool:
    return number > 0 and not number & (number - 1)


@dataclass(frozen=True)
class FieldSpec:
    """One field as a form needs it."""

    name: str
    kind: str  # int, float, text, date, datetime, bool, file, select, multiselect
    label: str
    max_length: int | None = None
    choices: dict[int, str] = field(default_factory=dict)
    required: bool = False
    read_only: bool = False
    create_only: bool = False
    raw_type: str = ""
    # Whose field it is, as admins name fields: a module's id for a card, Business or Person.
    owner: str = ""

    @classmethod
    def from_schema(cls, entity: str, name: str, value: Any, *, owner: str = "") -> FieldSpec:
        common: dict[str, Any] = {
            "name": name,
            "owner": owner,
            "label": humanize(name),
            "required": name in REQUIRED.get(entity, set()),
            "read_only": name in READ_ONLY.get(entity, set()),
            "create_only": name in CREATE_ONLY.get(entity, set()),
        }
        if isinstance(value, dict):
            choices = {int(k): str(v) for k, v in value.items() if ascii_digits(str(k))}
            multi = len(choices) > 1 and all(is_power_of_two(k) for k in choices)
            kind = "multiselect" if multi else "select"
            return cls(kind=kind, choices=choices, raw_type="Dropdown", **common)
        text = str(value)
        match = TEXT_TYPE.match(text)
        if match:
            return cls(kind="text", max_length=int(match.group(1)), raw_type=text, **common)
        if text.startswith("File"):
            return cls(kind="file", raw_type=text, **common)
        return cls(kind=KINDS.get(text, "text"), raw_type=text, **common)

    @property
    def text_format(self) -> str | None:
        """What a text field holds, where MiniCRM's own field says so: email, url or phone."""
        return TEXT_FORMATS.get(self.name) if self.kind == "text" else None

    @property
    def non_negative(self) -> bool:
        """A number that cannot be below zero (a company's yearly revenue)."""
        return self.name in NON_NEGATIVE

    @property
    def past_only(self) -> bool:
        """A date that cannot be in the future (a date of birth, a founding date)."""
        return self.kind in ("date", "datetime") and bool(PAST_ONLY.search(self.name))

    def clean(self, value: Any) -> Any:
        """The value to send for this field, or ValueError with a message for the form."""
        if value is None or value == "" or value == []:
            if self.required:
                raise ValueError("This field is required.")
            return [] if self.kind == "multiselect" else ""
        cleaner = getattr(self, f"_clean_{self.kind}")
        return cleaner(value)

    def _clean_int(self, value: Any) -> int:
        if isinstance(value, bool) or not (
            isinstance(value, int) or re.fullmatch(r"\s*-?[0-9]{1,20}\s*", str(value))
        ):
            raise ValueError("Enter a whole number.")
        number = int(value)
        if abs(number) > MAX_NUMBER:
            raise ValueError(f"Enter a number of at most {MAX_DIGITS} digits.")
        if number < 0 and self.non_negative:
            raise ValueError("Enter a number that is not negative.")
        return number

    def _clean_float(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError("Enter a number.")
        text = str(value).strip().replace(",", ".")
        if len(text) > 40 or not NUMBER.fullmatch(text):
            raise ValueError("Enter a number.")
        number = Decimal(text)
        digits = number.normalize().as_tuple().digits
        if not number.is_finite() or abs(number) > MAX_NUMBER or len(digits) > MAX_DIGITS:
            raise ValueError(f"Enter a number of at most {MAX_DIGITS} digits.")
        if number < 0 and self.non_negative:
            raise ValueError("Enter a number that is not negative.")
        return float(number)

    def _clean_text(self, value: Any) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("Enter text.")
        text = str(value)
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(f"At most {self.max_length} characters (it has {len(text)}).")
        pattern = TEXT_PATTERNS.get(self.text_format or "")
        if pattern is not None and text.strip() and not pattern.fullmatch(text.strip()):
            raise ValueError(TEXT_MESSAGES[self.text_format or ""])
        return text

    def _not_future(self, moment: date) -> None:
        if self.past_only and moment > date.today():
            raise ValueError("This date cannot be in the future.")

    def _clean_date(self, value: Any) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError("Enter a date as YYYY-MM-DD.") from None
        self._not_future(value)
        return value.isoformat()

    def _clean_datetime(self, value: Any) -> str:
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            text = str(value).strip().replace("T", " ")
            for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError("Enter a date and time as YYYY-MM-DD HH:MM.")
        self._not_future(moment.date())
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def _clean_bool(self, value: Any) -> int:
        word = str(value).strip().casefold()
        if value is True or word in TRUE_WORDS:
            return 1
        if value is False or word in FALSE_WORDS:
            return 0
        raise ValueError("Choose yes or no.")

    def _clean_file(self, value: Any) -> str:
        if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip()):
            raise ValueError("Enter the public http(s) URL of the file.")
        return value.strip()

    # -- dropdowns: detail views answer labels; ids come only where the API gives ids --------

    def choice_key(self, value: Any) -> int | None:
        """The id of one choice, None if it is none of them.

        A number is an id (what forms, writes and webhooks carry). Text is a label first, as
        detail views answer (labels may be digits that are other options' ids); text is taken
        as an id only when no label matches it.
        """
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value if value in self.choices else None
        text = str(value).strip()
        if not text:
            return None
        for key, label in self.choices.items():
            if label.strip() == text:
                return key
        folded = text.casefold()
        for key, label in self.choices.items():
            if label.strip().casefold() == folded:
                return key
        if ascii_digits(text) and int(text) in self.choices:
            return int(text)
        return None

    def choice_parts(self, value: Any) -> list[int | str]:
        """A multi-select's value as its ids (and, for what matches none, the text itself).

        A number is a bitmask (webhooks); a list holds one choice an item; text is one label,
        or labels joined by commas as detail views answer (`"3, 4, 5"`), or a bitmask.
        """
        if value is None or value == "" or isinstance(value, bool):
            return []
        if isinstance(value, int):
            bits: list[int | str] = list(self._bits(value))
            return bits or [str(value)]
        if isinstance(value, list | tuple | set):
            items: list[Any] = list(value)
        else:
            text = str(value).strip()
            whole = self.choice_key(text)
            if whole is not None:
                return [whole]
            if ascii_digits(text) and self._bits(int(text)):
                return list(self._bits(int(text)))
            items = [part for part in text.split(",") if part.strip()]
        parts: list[int | str] = []
        for item in items:
            key = self.choice_key(item)
            parts.append(key if key is not None else str(item).strip())
        return parts

    def _bits(self, mask: int) -> list[int]:
        """The ids a bitmask names, or [] when it names anything else too."""
        ids = [key for key in self.choices if key & mask]
        return ids if mask > 0 and sum(ids) == mask else []

    def _clean_select(self, value: Any) -> int:
        key = self.choice_key(value)
        if key is None:
            raise ValueError(f"'{value}' is not one of the choices.")
        return key

    def _clean_multiselect(self, value: Any) -> list[int]:
        parts = self.choice_parts(value)
        unknown = [part for part in parts if isinstance(part, str)]
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not one of the choices.")
        return sorted({part for part in parts if isinstance(part, int)})

    def display(self, value: Any) -> Any:
        """A value as people read it: a label for a dropdown, a list of labels for a multi-select.

        Labels stay labels; ids (numbers, and text that is no label) become labels.
        """
        if self.kind == "select":
            key = self.choice_key(value)
            if key is not None:
                return self.choices[key]
            return "" if value is None else value
        if self.kind == "multiselect":
            return [
                self.choices[part] if isinstance(part, int) else part
                for part in self.choice_parts(value)
            ]
        return "" if value is None else value

    def display_choice(self, value: Any) -> str:
        key = self.choice_key(value)
        return self.choices[key] if key is not None else str(value).strip()


def ascii_digits(text: str) -> bool:
    """Digits 0-9 only (str.isdigit also takes '²' and other scripts' digits)."""
    return text.isascii() and text.isdigit()


class SchemaValidationError(ValueError):
    """Changes the schema refuses; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


def schema_owner(entity: str, category_id: int | None = None) -> str:
    """Whose fields a schema describes: a module's id ("20") for cards, else the entity."""
    if entity == "Project":
        return "" if category_id is None else str(category_id)
    return entity


@dataclass(frozen=True)
class Schema:
    entity: str  # Person, Business or Project
    category_id: int | None
    fields: dict[str, FieldSpec]

    @classmethod
    def parse(cls, entity: str, data: dict[str, Any], category_id: int | None = None) -> Schema:
        owner = schema_owner(entity, category_id)
        fields = {
            name: FieldSpec.from_schema(entity, name, value, owner=owner)
            for name, value in data.items()
        }
        if entity in ("Person", "Business") and "Type" not in fields:
            # Writes name the kind of a new contact, though the schema does not list it.
            fields["Type"] = FieldSpec.from_schema(entity, "Type", "Text(16)", owner=owner)
        return cls(entity, category_id, fields)

    @property
    def editable(self) -> list[FieldSpec]:
        return [spec for spec in self.fields.values() if not spec.read_only]

    def validate(self, changes: dict[str, Any], *, creating: bool = False) -> dict[str, Any]:
        """The changes cleaned for sending, or SchemaValidationError naming each bad field."""
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, value in changes.items():
            spec = self.fields.get(name)
            if spec is None:
                errors[name] = "MiniCRM has no such field."
            elif spec.read_only or (spec.create_only and not creating):
                errors[name] = "This field cannot be changed."
            else:
                try:
                    cleaned[name] = spec.clean(value)
                except ValueError as exc:
                    errors[name] = str(exc)
        if creating:
            for spec in self.fields.values():
                if spec.required and spec.name not in changes:
                    errors[spec.name] = "This field is required."
        if errors:
            raise SchemaValidationError(errors)
        return cleaned


class Schemas:
    """`client.schemas`: cached schema introspection."""

    def __init__(self, client: MiniCRMClient, cache: SchemaCache | None = None) -> None:
        self._client = client
        self._cache: SchemaCache = cache or MemorySchemaCache()

    def _key(self, entity: str) -> str:
        return f"minicrm:schema:{self._client.system_id}:{entity}"

    def _fetch(self, entity: str, path: str) -> dict[str, Any]:
        key = self._key(entity)
        data = self._cache.get(key)
        if data is None:
            data = self._client.request("GET", path)
            self._cache.set(key, data)
        return data if isinstance(data, dict) else {}

    def person(self) -> Schema:
        return Schema.parse("Person", self._fetch("Person", "/Api/R3/Schema/Person"))

    def business(self) -> Schema:
        return Schema.parse("Business", self._fetch("Business", "/Api/R3/Schema/Business"))

    def contact(self, contact_type: str) -> Schema:
        return self.business() if contact_type == "Business" else self.person()

    def project(self, category_id: int) -> Schema:
        data = self._fetch(f"Project/{category_id}", f"/Api/R3/Schema/Project/{int(category_id)}")
        return Schema.parse("Project", data, category_id)

    def refresh(self, *entities: str) -> None:
        """Drop cached schemas ("Person", "Project/10", ...); every one if none is named."""
        for entity in entities or ("Person", "Business"):
            self._cache.delete(self._key(entity))
        if not entities:
            for category in self._client.categories.list():
                self._cache.delete(self._key(f"Project/{category.id}"))
