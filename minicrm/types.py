"""Typed results that smooth over the API's loose JSON.

MiniCRM sends numbers as numbers in some places and strings in others, `Results` as an object
or an array, status and user as an id (search rows) or a display name (detail views), a
localized contact `Type`, and `""` or `0000-00-00 00:00:00` for an empty date. The parse
functions here are the only place that knows; every custom field is kept in `fields`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

T = TypeVar("T")
NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
PAGE_SIZE = 100

PERSON_WORDS = {"person", "személy", "szemely"}
BUSINESS_WORDS = {"business", "cég", "ceg", "company"}


# -- scalar parsing -------------------------------------------------------------------------


def to_int(value: Any) -> int | None:
    """An id or a count, whether it came as a number or a string; None for empty."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit() and len(digits) <= 20:
        return int(text)
    return None


def to_decimal(value: Any) -> Decimal | None:
    """A number as MiniCRM may write it ("12.5", "12,5", "1 890 000", 12.5); None if not one."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    text = str(value).strip().rstrip("%").replace(",", ".")
    text = "".join(text.split())  # thousands separated by (no-break) spaces
    if len(text) > 40 or not NUMBER.fullmatch(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_number(value: Any) -> int | Decimal | None:
    """A number field's value: an int when whole, else a Decimal; None if not a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = to_decimal(value)
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else number


def to_datetime(value: Any) -> datetime | None:
    """MiniCRM's local 'YYYY-MM-DD HH:MM:SS' (or a date); None for "" and the zero date."""
    if not isinstance(value, str) or not value.strip() or value.startswith("0000-00-00"):
        return None
    text = value.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def to_date(value: Any) -> date | None:
    moment = to_datetime(value)
    return moment.date() if moment else None


def to_text(value: Any) -> str:
    return "" if value is None else str(value)


def contact_type(value: Any) -> str:
    """'Person' or 'Business' from the API's word, localized or not."""
    word = str(value or "").strip().casefold()
    if word in PERSON_WORDS:
        return "Person"
    if word in BUSINESS_WORDS:
        return "Business"
    return str(value or "")


def results(data: Any) -> list[dict[str, Any]]:
    """The rows of a list answer, whether `Results` is an object keyed by id or an array."""
    raw = data.get("Results") if isinstance(data, dict) else None
    if isinstance(raw, dict):
        return [row for row in raw.values() if isinstance(row, dict)]
    if isinstance(raw, list):
        return [row for row in raw if isinstance(row, dict)]
    return []


# -- id-or-name references --------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A status or a user: search rows carry the id, detail views the display name."""

    id: int | None = None
    name: str | None = None

    @classmethod
    def parse(cls, value: Any) -> Ref:
        number = to_int(value)
        if number is not None:
            return cls(id=number)
        text = to_text(value).strip()
        return cls(name=text or None)

    def __str__(self) -> str:
        return self.name or (str(self.id) if self.id is not None else "")


# -- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a search: `count` is the total across all pages, `page` counts from 0."""

    items: list[T]
    count: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.count

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def iterate_pages(fetch: Callable[[int], Page[T]]) -> Iterator[T]:
    """Every item of every page, fetching each page only when the previous one is used up."""
    page_number = 0
    while True:
        page = fetch(page_number)
        yield from page.items
        if not page.has_next or not page.items:
            return
        page_number += 1


# -- resources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    order: int | None = None
    type: str | None = None


@dataclass(frozen=True)
class ContactSummary:
    id: int
    name: str
    type: str
    email: str
    phone: str
    business_id: int | None
    url: str = ""

    @classmethod
    def parse(cls, row: dict[str, Any]) -> ContactSummary:
        return cls(
            id=to_int(row.get("Id")) or 0,
            name=to_text(row.get("Name")),
            type=contact_type(row.get("Type")),
            email=to_text(row.get("Email")),
            phone=to_text(row.get("Phone")),
            business_id=to_int(row.get("BusinessId")) or None,
            url=to_text(row.get("Url")),
        )


CONTACT_STANDARD = {
    "Id",
    "Type",
    "Name",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "BusinessId",
    "Deleted",
    "CreatedAt",
    "UpdatedAt",
}


@dataclass(frozen=True)
class Contact:
    id: int
    type: str
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    business_id: int | None
    deleted: bool
    created_at: datetime | None
    updated_at: datetime | None
    fields: dict[str, Any] = field(default_factory=dict)  # every field as the API sent it

    @property
    def is_person(self) -> bool:
        return self.type == "Person"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Contact:
        kind = contact_type(data.get("Type"))
        first, last = to_text(data.get("FirstName")), to_text(data.get("LastName"))
        name = to_text(data.get("Name")) or " ".join(part for part in (last, first) if part)
        return cls(
            id=to_int(data.get("Id")) or 0,
            type=kind,
            name=name,
            first_name=first,
            last_name=last,
            email=to_text(data.get("Email")),
            phone=to_text(data.get("Phone")),
            business_id=to_int(data.get("BusinessId")) or None,
            deleted=bool(to_int(data.get("Deleted"))),
            created_at=to_datetime(data.get("CreatedAt")),
            updated_at=to_datetime(data.get("UpdatedAt")),
            fields=dict(data),
        )


@dataclass(frozen=True)
class ProjectSummary:
    id: int
    name: str
    contact_id: int | None
    business_id: int | None
    status: Ref
    user: Ref
    deleted: bool
    url: str = ""

    @classmethod
    def parse(cls, row: dict[str, Any]) -> ProjectSummary:
        return cls(
            id=to_int(row.get("Id")) or 0,
            name=to_text(row.get("Name")),
            contact_id=to_int(row.get("ContactId")) or None,
            business_id=to_int(row.get("BusinessId")) or None,
            status=Ref.parse(row.get("StatusId")),
            user=Ref.parse(row.get("UserId")),
            deleted=bool(to_int(row.get("Deleted"))),
            url=to_text(row.get("Url")),
        )


PROJECT_STANDARD = {
    "Id",
    "CategoryId",
    "ContactId",
    "BusinessId",
    "StatusId",
    "UserId",
    "Name",
    "StatusUpdatedAt",
    "Deleted",
    "CreatedAt",
    "UpdatedAt",
    "ReferenceId",
    "ProjectHash",
    "ProjectEmail",
    "Url",
}


@dataclass(frozen=True)
class Project:
    id: int
    category_id: int
    name: str
    contact_id: int | None
    business_id: int | None
    status: Ref
    user: Ref
    deleted: bool
    reference_id: str
    created_at: datetime | None
    updated_at: datetime | None
    status_updated_at: datetime | None
    fields: dict[str, Any] = field(default_factory=dict)  # every field as the API sent it

    @property
    def custom_fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.fields.items() if k not in PROJECT_STANDARD}

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Project:
        return cls(
            id=to_int(data.get("Id")) or 0,
            category_id=to_int(data.get("CategoryId")) or 0,
            name=to_text(data.get("Name")),
            contact_id=to_int(data.get("ContactId")) or None,
            business_id=to_int(data.get("BusinessId")) or None,
            status=Ref.parse(data.get("StatusId")),
            user=Ref.parse(data.get("UserId")),
            deleted=bool(to_int(data.get("Deleted"))),
            reference_id=to_text(data.get("ReferenceId")),
            created_at=to_datetime(data.get("CreatedAt")),
            updated_at=to_datetime(data.get("UpdatedAt")),
            status_updated_at=to_datetime(data.get("StatusUpdatedAt")),
            fields=dict(data),
        )


@dataclass(frozen=True)
class StatusChange:
    id: int
    project_id: int
    user_id: int | None
    at: datetime | None
    old_status_id: int | None
    new_status_id: int | None
    old_status_name: str
    new_status_name: str

    @classmethod
    def parse(cls, row: dict[str, Any]) -> StatusChange:
        return cls(
            id=to_int(row.get("Id")) or 0,
            project_id=to_int(row.get("ProjectId")) or 0,
            user_id=to_int(row.get("UserId")),
            at=to_datetime(row.get("ClosedAt")),
            old_status_id=to_int(row.get("Status_Old_Id")),
            new_status_id=to_int(row.get("Status_New_Id")),
            old_status_name=to_text(row.get("Status_Old_Name")),
            new_status_name=to_text(row.get("Status_New_Name")),
        )


@dataclass(frozen=True)
class ToDoSummary:
    id: int
    status: str
    comment: str
    deadline: datetime | None
    user_id: int | None
    type_id: int | None
    url: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == "Open"

    @classmethod
    def parse(cls, row: dict[str, Any]) -> ToDoSummary:
        return cls(
            id=to_int(row.get("Id")) or 0,
            status=to_text(row.get("Status")),
            comment=to_text(row.get("Comment")),
            deadline=to_datetime(row.get("Deadline")),
            user_id=to_int(row.get("UserId")),
            type_id=to_int(row.get("Type")) or None,
            url=to_text(row.get("Url")),
        )


@dataclass(frozen=True)
class ToDo:
    id: int
    project_id: int
    contact_id: int | None
    user: Ref
    type: str
    status: str
    comment: str
    deadline: datetime | None
    created_at: datetime | None
    closed_at: datetime | None
    closed_by: Ref
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status == "Open"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ToDo:
        return cls(
            id=to_int(data.get("Id")) or 0,
            project_id=to_int(data.get("ProjectId")) or 0,
            contact_id=to_int(data.get("ContactId")) or None,
            user=Ref.parse(data.get("UserId")),
            type=to_text(data.get("Type")),
            status=to_text(data.get("Status")),
            comment=to_text(data.get("Comment")),
            deadline=to_datetime(data.get("Deadline")),
            created_at=to_datetime(data.get("CreatedAt")),
            closed_at=to_datetime(data.get("ClosedAt")),
            closed_by=Ref.parse(data.get("ClosedBy")),
            fields=dict(data),
        )


@dataclass(frozen=True)
class OrderItem:
    id: int
    name: str
    sku: str
    description: str
    unit: str
    price_net: Decimal
    quantity: Decimal
    vat_rate: Decimal
    price_net_total: Decimal
    price_total: Decimal

    @classmethod
    def parse(cls, row: dict[str, Any]) -> OrderItem:
        zero = Decimal(0)
        return cls(
            id=to_int(row.get("Id")) or 0,
            name=to_text(row.get("Name")),
            sku=to_text(row.get("SKU")),
            description=to_text(row.get("Description")),
            unit=to_text(row.get("Unit")),
            price_net=to_decimal(row.get("PriceNet")) or zero,
            quantity=to_decimal(row.get("Quantity")) or zero,
            vat_rate=to_decimal(row.get("VAT")) or zero,
            price_net_total=to_decimal(row.get("PriceNetTotal")) or zero,
            price_total=to_decimal(row.get("PriceTotal")) or zero,
        )


ORDER_STATUSES = ("Draft", "In progress", "Completed", "Paid", "Failed")


@dataclass(frozen=True)
class Order:
    id: int
    project_id: int
    customer_id: int
    number: str
    status: str
    subject: str
    performance: date | None
    currency: str
    amount_net: Decimal
    amount_vat: Decimal
    amount: Decimal
    customer: dict[str, str]
    items: list[OrderItem]
    custom_fields: dict[str, Any]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Order:
        zero = Decimal(0)
        customer = data.get("Customer") if isinstance(data.get("Customer"), dict) else {}
        custom = data.get("Project") if isinstance(data.get("Project"), dict) else {}
        items = data.get("Items") if isinstance(data.get("Items"), list) else []
        return cls(
            id=to_int(data.get("Id")) or 0,
            project_id=to_int(data.get("ProjectId")) or 0,
            customer_id=to_int(data.get("CustomerId")) or 0,
            number=to_text(data.get("Number")),
            status=to_text(data.get("Status")),
            subject=to_text(data.get("Subject")),
            performance=to_date(data.get("Performance")),
            currency=to_text(data.get("CurrencyCode")),
            amount_net=to_decimal(data.get("AmountNet")) or zero,
            amount_vat=to_decimal(data.get("AmountVat")) or zero,
            amount=to_decimal(data.get("Amount")) or zero,
            customer={str(k): to_text(v) for k, v in (customer or {}).items()},
            items=[OrderItem.parse(row) for row in items or [] if isinstance(row, dict)],
            custom_fields=dict(custom or {}),
        )
