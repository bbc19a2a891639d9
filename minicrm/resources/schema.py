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
from typing import TYPE_CHECKING, Any, Protocol

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

    @classmethod
    def from_schema(cls, entity: str, name: str, value: Any) -> FieldSpec:
        common: dict[str, Any] = {
            "name": name,
            "label": humanize(name),
            "required": name in REQUIRED.get(entity, set()),
            "read_only": name in READ_ONLY.get(entity, set()),
            "create_only": name in CREATE_ONLY.get(entity, set()),
        }
        if isinstance(value, dict):
            choices = {int(k): str(v) for k, v in value.items() if str(k).isdigit()}
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

    def clean(self, value: Any) -> Any:
        """The value to send for this field, or ValueError with a message for the form."""
        if value is None or value == "" or value == []:
            if self.required:
                raise ValueError("This field is required.")
            return [] if self.kind == "multiselect" else ""
        cleaner = getattr(self, f"_clean_{self.kind}")
        return cleaner(value)

    def _clean_int(self, value: Any) -> int:
        if isinstance(value, bool) or not re.fullmatch(r"\s*-?\d+\s*", str(value)):
            raise ValueError("Enter a whole number.")
        return int(value)

    def _clean_float(self, value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("Enter a number.")
        try:
            return float(str(value).replace(",", "."))
        except ValueError:
            raise ValueError("Enter a number.") from None

    def _clean_text(self, value: Any) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError("Enter text.")
        text = str(value)
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(f"At most {self.max_length} characters (it has {len(text)}).")
        return text

    def _clean_date(self, value: Any) -> str:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("Enter a date as YYYY-MM-DD.") from None

    def _clean_datetime(self, value: Any) -> str:
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, date):
            return f"{value.isoformat()} 00:00:00"
        text = str(value).strip().replace("T", " ")
        for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).strftime("%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
        raise ValueError("Enter a date and time as YYYY-MM-DD HH:MM.")

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

    def _choice(self, value: Any) -> int:
        text = str(value).strip()
        if text.isdigit() and int(text) in self.choices:
            return int(text)
        for key, label in self.choices.items():
            if label.casefold() == text.casefold():
                return key
        raise ValueError(f"'{value}' is not one of the choices.")

    def _clean_select(self, value: Any) -> int:
        return self._choice(value)

    def _clean_multiselect(self, value: Any) -> list[int]:
        items = value if isinstance(value, list | tuple | set) else [value]
        return sorted({self._choice(item) for item in items})

    def display(self, value: Any) -> Any:
        """A stored or received value as people read it: labels for ids, lists for bitmasks."""
        if self.kind == "select":
            number = str(value).strip()
            if number.isdigit() and int(number) in self.choices:
                return self.choices[int(number)]
            return "" if value is None else value
        if self.kind == "multiselect":
            if isinstance(value, int | str) and str(value).strip().isdigit():
                mask = int(str(value).strip())
                return [label for key, label in self.choices.items() if key & mask]
            if isinstance(value, list):
                return [self.display_choice(item) for item in value]
            return [] if value in (None, "") else [value]
        return "" if value is None else value

    def display_choice(self, value: Any) -> str:
        text = str(value).strip()
        return self.choices.get(int(text), text) if text.isdigit() else text


class SchemaValidationError(ValueError):
    """Changes the schema refuses; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class Schema:
    entity: str  # Person, Business or Project
    category_id: int | None
    fields: dict[str, FieldSpec]

    @classmethod
    def parse(cls, entity: str, data: dict[str, Any], category_id: int | None = None) -> Schema:
        fields = {name: FieldSpec.from_schema(entity, name, value) for name, value in data.items()}
        if entity in ("Person", "Business") and "Type" not in fields:
            # Writes name the kind of a new contact, though the schema does not list it.
            fields["Type"] = FieldSpec.from_schema(entity, "Type", "Text(16)")
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
