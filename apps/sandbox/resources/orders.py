"""Orders: create, get, modify in Draft, items, custom fields and the status machine."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from apps.sandbox.errors import bad_request, not_allowed, not_found
from apps.sandbox.fields import custom_fields
from apps.sandbox.resources import projects
from apps.sandbox.resources.common import Ctx, require_object
from apps.sandbox.store import dumps, loads, next_id

# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "Finalize": (("Draft",), "In progress"),
    "Edit": (("In progress",), "Draft"),
    "Complete": (("In progress",), "Completed"),
    "Paid": (("Completed", "Failed"), "Paid"),
    "Storno": (("Completed",), "Failed"),
}
CUSTOMER_KEYS = (
    "Name",
    "CountryId",
    "PostalCode",
    "City",
    "Address",
    "AccountNumber",
    "VatNumber",
    "EUVatNumber",
    "RegistrationNumber",
    "GroupIdentificationNumber",
)
ITEM_TEXT_KEYS = ("SKU", "EAN", "Name", "Description", "Unit")
ITEM_KEYS = {*ITEM_TEXT_KEYS, "Id", "PriceNet", "Quantity", "VAT"}
ORDER_KEYS = {
    "CustomerId",
    "ReferenceId",
    "CurrencyCode",
    "Customer",
    "Subject",
    "Performance",
    "Items",
}
CURRENCIES = {"HUF", "EUR", "USD", "GBP", "CHF", "RON", "CZK", "PLN"}
CENT = Decimal("0.01")


def _load(db: sqlite3.Connection, order_id: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        raise not_found(f"Order {order_id} not found.")
    return row


def detail(ctx: Ctx, order_id: int) -> dict[str, Any]:
    return view(ctx.db, _load(ctx.db, order_id))


def view(db: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    data = loads(row["data"])
    items = db.execute(
        "SELECT * FROM order_items WHERE order_id = ? ORDER BY id", (row["id"],)
    ).fetchall()
    currency = data["CurrencyCode"]
    net = vat = Decimal(0)
    item_views = []
    for item in items:
        values = loads(item["data"])
        price, quantity, rate = (Decimal(values[k]) for k in ("PriceNet", "Quantity", "VAT"))
        line_net = (price * quantity).quantize(CENT, ROUND_HALF_UP)
        line_vat = (line_net * rate / 100).quantize(CENT, ROUND_HALF_UP)
        net, vat = net + line_net, vat + line_vat
        item_views.append(
            {
                "Id": str(item["id"]),
                **{key: values.get(key, "") for key in ("SKU", "EAN", "Name", "Description")},
                "PriceNet": f"{price:.2f}",
                "Quantity": f"{quantity:.2f}",
                "Unit": values.get("Unit", ""),
                "PriceNetTotal": f"{line_net:.2f}",
                "VAT": f"{rate.normalize():f}%",
                "PriceTotal": f"{line_net + line_vat:.2f}",
            }
        )
    project = projects.load(db, row["project_id"])
    custom = {}
    if project is not None:
        card = loads(project["data"])
        for field in custom_fields(db, "Project", project["category_id"]):
            custom[field.name] = field.render(card.get(field.name))
    return {
        "Id": str(row["id"]),
        "ProjectId": str(row["project_id"]),
        "CustomerId": str(row["customer_id"]),
        "Number": data.get("Number", ""),
        "Status": row["status"],
        "Customer": {key: str(data["Customer"].get(key, "")) for key in CUSTOMER_KEYS},
        "Subject": data.get("Subject", ""),
        "Performance": data.get("Performance", ""),
        "CurrencyCode": currency,
        # Each total is rounded on its own and the gross is their sum, so the figures add up.
        "AmountNet": _amount(net, currency),
        "AmountVat": _amount(vat, currency),
        "Amount": str(Decimal(_amount(net, currency)) + Decimal(_amount(vat, currency))),
        "Items": item_views,
        "Project": custom,
    }


def _amount(value: Decimal, currency: str) -> str:
    if currency == "HUF":
        return str(value.quantize(Decimal(1), ROUND_HALF_UP))
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


def create(ctx: Ctx, body: Any) -> dict[str, Any]:
    body = _check_keys(require_object(body))
    customer_id = _customer(ctx.db, body)
    currency = str(body.get("CurrencyCode") or "HUF").strip().upper()
    if currency not in CURRENCIES:
        raise bad_request(f"Invalid value '{body.get('CurrencyCode')}' for the CurrencyCode field.")
    contact = ctx.db.execute(
        "SELECT data, type FROM contacts WHERE id = ?", (customer_id,)
    ).fetchone()
    contact_data = loads(contact["data"])
    name = (
        contact_data.get("Name")
        or " ".join(str(contact_data.get(k) or "") for k in ("LastName", "FirstName")).strip()
    )
    data = {
        "CurrencyCode": currency,
        "Customer": {"Name": name},
        "Subject": "",
        "Performance": date.today().isoformat(),
        "Number": "",
    }
    data.update(_order_changes(body))
    items = [_item(raw, None) for raw in body.get("Items") or []]
    category = ctx.db.execute(
        "SELECT id FROM categories ORDER BY is_order DESC, order_id LIMIT 1"
    ).fetchone()
    order_id = next_id(ctx.db, "orders")
    card = projects.save(
        ctx,
        None,
        {"CategoryId": category[0], "Name": f"Order {order_id} ({name})", "ContactId": customer_id},
    )
    ctx.db.execute(
        "INSERT INTO orders (id, project_id, customer_id, status, data) VALUES (?, ?, ?, ?, ?)",
        (order_id, card["Id"], customer_id, "Draft", dumps(data)),
    )
    for values in items:
        _write_item(ctx.db, order_id, None, values)
    return detail(ctx, order_id)


def modify(ctx: Ctx, order_id: int, body: Any) -> dict[str, Any]:
    row = _load(ctx.db, order_id)
    body = _check_keys(require_object(body))
    if row["status"] != "Draft":
        raise not_allowed(f"Order {order_id} is {row['status']}: it can be modified in Draft only.")
    customer_id = _customer(ctx.db, body)
    data = loads(row["data"])
    if "CurrencyCode" in body and str(body["CurrencyCode"]).strip().upper() != data["CurrencyCode"]:
        raise bad_request("The CurrencyCode of an existing order cannot be changed.")
    changes = _order_changes(body)
    if "Customer" in changes:
        changes["Customer"] = {**data["Customer"], **changes["Customer"]}
    data.update(changes)
    own = {
        r["id"]: loads(r["data"])
        for r in ctx.db.execute("SELECT * FROM order_items WHERE order_id = ?", (order_id,))
    }
    writes = []
    for raw in body.get("Items") or []:
        item_id = _item_id(raw, own)
        writes.append((item_id, _item(raw, own.get(item_id) if item_id else None)))
    ctx.db.execute(
        "UPDATE orders SET customer_id = ?, data = ? WHERE id = ?",
        (customer_id, dumps(data), order_id),
    )
    for item_id, values in writes:
        _write_item(ctx.db, order_id, item_id, values)
    return detail(ctx, order_id)


def delete_item(ctx: Ctx, order_id: int, item_id: int) -> dict[str, Any]:
    row = _load(ctx.db, order_id)
    item = ctx.db.execute(
        "SELECT id FROM order_items WHERE id = ? AND order_id = ?", (item_id, order_id)
    ).fetchone()
    if item is None:
        raise not_found(f"Item {item_id} of order {order_id} not found.")
    if row["status"] != "Draft":
        raise not_allowed(f"Order {order_id} is {row['status']}: it can be modified in Draft only.")
    ctx.db.execute("DELETE FROM order_items WHERE id = ?", (item_id,))
    return detail(ctx, order_id)


def set_custom_fields(ctx: Ctx, order_id: int, body: Any) -> dict[str, Any]:
    row = _load(ctx.db, order_id)
    body = require_object(body)
    project = projects.load_or_404(ctx.db, row["project_id"])
    allowed = {field.name for field in custom_fields(ctx.db, "Project", project["category_id"])}
    for name in body:
        if name not in allowed:
            raise bad_request(f"Unknown field '{name}'.")
    projects.save(ctx, row["project_id"], body)
    return detail(ctx, order_id)


def transition(ctx: Ctx, order_id: int, action: str) -> dict[str, Any]:
    row = _load(ctx.db, order_id)
    sources, target = TRANSITIONS[action]
    if row["status"] not in sources:
        raise not_allowed(
            f"Method not allowed: order {order_id} is {row['status']}, {action} needs "
            + " or ".join(sources)
            + "."
        )
    data = loads(row["data"])
    if action == "Finalize" and not data.get("Number"):
        data["Number"] = f"SB-{date.today().year}-{order_id:06d}"
    ctx.db.execute(
        "UPDATE orders SET status = ?, data = ? WHERE id = ?", (target, dumps(data), order_id)
    )
    _card_follows(ctx, row["project_id"], target)
    return detail(ctx, order_id)


# The status group an order's card takes as the order moves (MiniCRM keeps the card of an order
# in step: "Piszkozat" while it is open, "Teljesítve" once completed or paid, "Sztornó").
CARD_GROUPS = {
    "Draft": "Open",
    "In progress": "Open",
    "Completed": "Success",
    "Paid": "Success",
    "Failed": "Failed",
}


def _card_follows(ctx: Ctx, project_id: int, order_status: str) -> None:
    """Move the order's card to the first status of its module in the order's group (a change
    like any other: its history, UpdatedAt and webhook)."""
    card = projects.load(ctx.db, project_id)
    if card is None:
        return
    status = ctx.db.execute(
        "SELECT id FROM statuses WHERE category_id = ? AND grp = ? ORDER BY position LIMIT 1",
        (card["category_id"], CARD_GROUPS[order_status]),
    ).fetchone()
    if status is not None:
        projects.save(ctx, project_id, {"StatusId": status["id"]})


# -- input checks -------------------------------------------------------------------------


def _check_keys(body: dict[str, Any]) -> dict[str, Any]:
    for key in body:
        if key not in ORDER_KEYS:
            raise bad_request(f"Unknown field '{key}'.")
    return body


def _customer(db: sqlite3.Connection, body: dict[str, Any]) -> int:
    if body.get("CustomerId") not in (None, "", 0, "0"):
        raw = str(body["CustomerId"]).strip()
        row = (
            db.execute("SELECT id FROM contacts WHERE id = ?", (raw,)).fetchone()
            if (raw.isdigit())
            else None
        )
        if row is None:
            raise bad_request(f"Invalid value '{body['CustomerId']}' for the CustomerId field.")
        return int(row["id"])
    if body.get("ReferenceId") not in (None, ""):
        row = db.execute(
            "SELECT business_id, contact_id FROM projects WHERE reference_id = ? AND deleted = 0",
            (str(body["ReferenceId"]),),
        ).fetchone()
        if row is None or not (row["business_id"] or row["contact_id"]):
            raise bad_request(f"Invalid value '{body['ReferenceId']}' for the ReferenceId field.")
        return int(row["business_id"] or row["contact_id"])
    raise bad_request("CustomerId or ReferenceId is required.")


def _order_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "Subject" in body:
        if not isinstance(body["Subject"], str) or len(body["Subject"]) > 1024:
            raise bad_request(f"Invalid value '{body['Subject']}' for the Subject field.")
        changes["Subject"] = body["Subject"]
    if "Performance" in body:
        try:
            changes["Performance"] = date.fromisoformat(str(body["Performance"])).isoformat()
        except ValueError:
            raise bad_request(
                f"Invalid value '{body['Performance']}' for the Performance field."
            ) from None
    if "Customer" in body:
        block = body["Customer"]
        if not isinstance(block, dict):
            raise bad_request("Invalid value for the Customer field: an object is expected.")
        customer = {}
        for key, value in block.items():
            target = "CountryId" if key == "Country" else key
            if target not in CUSTOMER_KEYS:
                raise bad_request(f"Unknown field 'Customer.{key}'.")
            if not isinstance(value, str | int):
                raise bad_request(f"Invalid value for the Customer.{key} field.")
            customer[target] = str(value)
        changes["Customer"] = customer
    if "Items" in body and not isinstance(body["Items"], list):
        raise bad_request("Invalid value for the Items field: a list is expected.")
    return changes


def _item_id(raw: Any, own: dict[int, dict[str, Any]]) -> int | None:
    if not isinstance(raw, dict) or raw.get("Id") in (None, ""):
        return None
    text = str(raw["Id"]).strip()
    if not text.isdigit() or int(text) not in own:
        raise bad_request(f"Invalid value '{raw['Id']}' for the Items.Id field.")
    return int(text)


def _item(raw: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad_request("Invalid value for the Items field: a list of objects is expected.")
    for key in raw:
        if key not in ITEM_KEYS:
            raise bad_request(f"Unknown field 'Items.{key}'.")
    values = dict(
        current
        or {"SKU": "", "EAN": "", "Description": "", "Unit": "", "Quantity": "1", "VAT": "27"}
    )
    for key in ITEM_TEXT_KEYS:
        if key in raw:
            if not isinstance(raw[key], str | int | float) or isinstance(raw[key], bool):
                raise bad_request(f"Invalid value for the Items.{key} field.")
            values[key] = str(raw[key])
    for key in ("PriceNet", "Quantity"):
        if key in raw:
            values[key] = str(_decimal(raw[key], f"Items.{key}"))
    if "VAT" in raw:
        rate = _decimal(str(raw["VAT"]).strip().rstrip("%"), "Items.VAT")
        if not 0 <= rate <= 100:
            raise bad_request(f"Invalid value '{raw['VAT']}' for the Items.VAT field.")
        values["VAT"] = str(rate)
    if not values.get("Name"):
        raise bad_request("The Items.Name field is required.")
    if "PriceNet" not in values:
        raise bad_request("The Items.PriceNet field is required.")
    return values


def _decimal(value: Any, label: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_request(f"Invalid value for the {label} field.")
    text = str(value).strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise bad_request(f"Invalid value '{value}' for the {label} field.") from None
    if not number.is_finite() or not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise bad_request(f"Invalid value '{value}' for the {label} field.")
    return number


def _write_item(
    db: sqlite3.Connection, order_id: int, item_id: int | None, values: dict[str, Any]
) -> None:
    if item_id is None:
        item_id = next_id(db, "order_items")
    db.execute(
        "INSERT OR REPLACE INTO order_items (id, order_id, data) VALUES (?, ?, ?)",
        (item_id, order_id, dumps(values)),
    )
