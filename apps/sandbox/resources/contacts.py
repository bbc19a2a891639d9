"""Contacts (companies and persons): search, detail, create, update and PurgePerson."""

from __future__ import annotations

import sqlite3
from typing import Any

from apps.sandbox import webhooks
from apps.sandbox.errors import ApiError, bad_request, not_found
from apps.sandbox.fields import Field, contact_fields
from apps.sandbox.resources.common import (
    Ctx,
    coerce_or_400,
    fold,
    looks_like_phone,
    now_text,
    page_number,
    page_slice,
    parse_int_param,
    parse_since,
    phone_digits,
    require_object,
)
from apps.sandbox.store import dumps, loads, next_id

TYPES = {"person": "Person", "személy": "Person", "business": "Business", "cég": "Business"}
LOCALIZED_TYPE = {"Person": "Személy", "Business": "Cég"}
MAIN_CONTACT_MESSAGE = "The person is marked as the main contact on one or more cards."


def display_name(contact_type: str, data: dict[str, Any]) -> str:
    if contact_type == "Business":
        return str(data.get("Name") or "")
    parts = [data.get("LastName") or "", data.get("FirstName") or ""]
    return " ".join(str(part) for part in parts if part)


def load(db: sqlite3.Connection, contact_id: int) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()


def search(ctx: Ctx, params: dict[str, str]) -> dict[str, Any]:
    page = page_number(params)
    where: list[str] = ["deleted = 0"]
    args: list[Any] = []
    field_filters: list[tuple[str, str]] = []
    for key, value in params.items():
        if key == "Page":
            continue
        if key == "Email":
            where.append("email = ?")
            args.append(value.strip().casefold())
        elif key == "Query":
            where.append(_query_clause(value, args))
        elif key == "UpdatedSince":
            where.append("updated_at > ?")
            args.append(parse_since(value))
        elif key == "MainContactId":
            where.append("(id = ? OR business_id = ?)")
            main_id = parse_int_param(key, value)
            args += [main_id, main_id]
        elif key == "Type":
            where.append("type = ?")
            args.append(TYPES.get(value.strip().casefold(), value))
        else:
            field_filters.append((key, value))
    rows = ctx.db.execute(
        f"SELECT * FROM contacts WHERE {' AND '.join(where)} ORDER BY id",  # noqa: S608
        args,
    ).fetchall()
    if field_filters:
        rows = _filter_by_fields(ctx.db, rows, field_filters)
    return {
        "Count": len(rows),
        "Results": {str(row["id"]): row_view(ctx, row) for row in page_slice(rows, page)},
    }


def like_literal(text: str) -> str:
    """Text for a LIKE pattern that matches it literally (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query_clause(query: str, args: list[Any]) -> str:
    words = fold(query).split()
    if not words:
        raise bad_request("Invalid value '' for the Query parameter.")
    word_clauses = []
    for word in words:
        # A word is matched as itself: "_" and "%" are no wildcards (fold keeps "_").
        word_clauses.append("(' ' || words || ' ') LIKE ? ESCAPE '\\'")
        args.append(f"% {like_literal(word)} %")
    clause = "(" + " AND ".join(word_clauses) + ")"
    if looks_like_phone(query):
        clause = f"({clause} OR (phone != '' AND phone LIKE ? ESCAPE '\\'))"
        args.append(f"%{like_literal(phone_digits(query))}")
    return clause


def _filter_by_fields(
    db: sqlite3.Connection, rows: list[sqlite3.Row], filters: list[tuple[str, str]]
) -> list[sqlite3.Row]:
    schemas = {kind: contact_fields(db, kind) for kind in ("Person", "Business")}
    for name, _ in filters:
        if not any(name in schema for schema in schemas.values()):
            raise bad_request(f"Unknown parameter '{name}'.")
    kept = []
    for row in rows:
        schema, data = schemas[row["type"]], loads(row["data"])
        if all(
            name in schema and schema[name].matches(data.get(name), value)
            for name, value in filters
        ):
            kept.append(row)
    return kept


def row_view(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    data = loads(row["data"])
    view: dict[str, Any] = {
        "Id": row["id"],
        "Name": display_name(row["type"], data),
        "Url": ctx.url(f"/Api/R3/Contact/{row['id']}"),
        "Type": row["type"],
        "Email": data.get("Email") or "",
        "Phone": data.get("Phone") or "",
    }
    if row["type"] == "Person" and row["business_id"]:
        view["BusinessId"] = row["business_id"]
    return view


def detail(ctx: Ctx, contact_id: int) -> dict[str, Any]:
    row = load(ctx.db, contact_id)
    if row is None:
        raise not_found(f"Contact {contact_id} not found.")
    data = loads(row["data"])
    fields = contact_fields(ctx.db, row["type"])
    view: dict[str, Any] = {"Id": row["id"], "ParentId": 0, "Type": LOCALIZED_TYPE[row["type"]]}
    for name, field in fields.items():
        if name in ("Id", "BusinessId", "ParentId"):
            continue
        view[name] = field.render(data.get(name))
    view["Deleted"] = row["deleted"]
    view["BusinessId"] = row["business_id"] or 0
    view["Tags"] = data.get("Tags", [])
    return view


def save(ctx: Ctx, contact_id: int | None, body: Any) -> dict[str, Any]:
    body = require_object(body)
    existing = None
    if contact_id is None:
        contact_type = _contact_type(body.get("Type"))
    else:
        existing = load(ctx.db, contact_id)
        if existing is None:
            raise not_found(f"Contact {contact_id} not found.")
        contact_type = existing["type"]
        if "Type" in body and _contact_type(body["Type"]) != contact_type:
            raise bad_request("The Type of an existing contact cannot be changed.")
    fields = contact_fields(ctx.db, contact_type)
    changes = _coerce_changes(fields, body)
    if "BusinessId" in changes:
        _check_business(ctx.db, changes["BusinessId"], contact_type)
    before = loads(existing["data"]) if existing else {}
    _check_required(fields, changes, contact_type, creating=existing is None)
    after = {**before, **changes}
    changed = [name for name, value in changes.items() if before.get(name) != value]
    now = now_text()
    if existing is None:
        contact_id = next_id(ctx.db, "contacts")
        after.setdefault("CreatedAt", now)
        after.setdefault("YearlyRevenue", 0)
        after.setdefault("Tags", [])
    assert contact_id is not None
    if changed or existing is None:
        after["UpdatedAt"] = now
        write(ctx.db, contact_id, contact_type, after)
        webhooks.record_change(
            ctx.db,
            entity="Contact",
            object_id=contact_id,
            category_id=None,
            data=webhook_data(ctx, contact_id, contact_type, after),
            changed=[*changed, "UpdatedAt"] if existing else sorted(after),
        )
    return {"Id": contact_id}


def _contact_type(value: Any) -> str:
    contact_type = TYPES.get(str(value).strip().casefold()) if value else None
    if contact_type is None:
        raise bad_request("The Type field is required: Person or Business.")
    return contact_type


def _coerce_changes(fields: dict[str, Field], body: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for name, value in body.items():
        if name == "Type":
            continue
        field = fields.get(name)
        if field is None:
            raise bad_request(f"Unknown field '{name}'.")
        if field.writable:
            changes[name] = coerce_or_400(field, value)
    return changes


def _check_business(db: sqlite3.Connection, business_id: int | None, contact_type: str) -> None:
    if not business_id:
        return
    row = load(db, business_id)
    if contact_type == "Business" or row is None or row["type"] != "Business":
        raise bad_request(f"Invalid value '{business_id}' for the BusinessId field.")


def _check_required(
    fields: dict[str, Field], changes: dict[str, Any], contact_type: str, *, creating: bool
) -> None:
    """A new contact needs its required fields; an update may not empty one."""
    required = ["Name"] if contact_type == "Business" else ["FirstName"]
    required += [name for name, field in fields.items() if field.required]
    for name in required:
        if (creating or name in changes) and changes.get(name) in (None, "", []):
            raise bad_request(f"The {fields[name].label} field is required.")


def write(db: sqlite3.Connection, contact_id: int, contact_type: str, data: dict[str, Any]) -> None:
    """Store a contact with the columns its searches use."""
    text = " ".join(str(value) for value in data.values() if isinstance(value, str) and value)
    db.execute(
        "INSERT OR REPLACE INTO contacts"
        " (id, type, business_id, deleted, updated_at, words, phone, email, data)"
        " VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            contact_id,
            contact_type,
            data.get("BusinessId") or None,
            data.get("UpdatedAt") or now_text(),
            fold(f"{display_name(contact_type, data)} {text}"),
            phone_digits(str(data.get("Phone") or "")),
            str(data.get("Email") or "").strip().casefold(),
            dumps(data),
        ),
    )


def webhook_data(
    ctx: Ctx, contact_id: int, contact_type: str, data: dict[str, Any]
) -> dict[str, Any]:
    fields = contact_fields(ctx.db, contact_type)
    message = {"Type": contact_type, "Name": display_name(contact_type, data)}
    for name, field in fields.items():
        if name in data:
            message[name] = field.render_webhook(data[name])
    message["InternalUrl"] = ctx.url(f"/{ctx.system_id}/#Contact/{contact_id}")
    return message


def purge_person(ctx: Ctx, contact_id: int) -> dict[str, Any]:
    row = load(ctx.db, contact_id)
    if row is None:
        raise not_found(f"Contact {contact_id} not found.")
    if row["type"] != "Person":
        raise bad_request(f"Contact {contact_id} is not a person.")
    main_of = ctx.db.execute(
        "SELECT COUNT(*) FROM projects WHERE contact_id = ? AND deleted = 0", (contact_id,)
    ).fetchone()[0]
    if main_of:
        raise ApiError(400, MAIN_CONTACT_MESSAGE, as_json=True)
    ctx.db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))
    return {"Id": contact_id}
