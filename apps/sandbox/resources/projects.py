"""Cards (Project): search, detail, create, update, status history."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from apps.sandbox import webhooks
from apps.sandbox.errors import bad_request, not_found
from apps.sandbox.fields import Field, custom_fields, project_fields
from apps.sandbox.resources.common import (
    Ctx,
    coerce_or_400,
    now_text,
    page_number,
    page_slice,
    parse_int_param,
    parse_since,
    require_object,
)
from apps.sandbox.store import dumps, loads, next_id

STATUS_GROUPS = {"lead": "Lead", "open": "Open", "success": "Success", "failed": "Failed"}
SQL_FILTERS = {
    "CategoryId": "category_id",
    "ContactId": "contact_id",
    "ReferenceId": "reference_id",
}


def load(db: sqlite3.Connection, project_id: int) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()


def load_or_404(db: sqlite3.Connection, project_id: int) -> sqlite3.Row:
    row = load(db, project_id)
    if row is None:
        raise not_found(f"Project {project_id} not found.")
    return row


def search(ctx: Ctx, params: dict[str, str]) -> dict[str, Any]:
    page = page_number(params)
    where: list[str] = []
    args: list[Any] = []
    field_filters: list[tuple[str, str]] = []
    deleted = "0"
    for key, value in params.items():
        if key == "Page":
            continue
        if key == "Deleted":
            deleted = value.strip() or "0"
        elif key in ("CategoryId", "ContactId"):
            where.append(f"{SQL_FILTERS[key]} = ?")
            args.append(parse_int_param(key, value))
        elif key == "ReferenceId":
            where.append("reference_id = ?")
            args.append(value)
        elif key == "MainContactId":
            main_id = parse_int_param(key, value)
            where.append("(business_id = ? OR contact_id = ?)")
            args += [main_id, main_id]
        elif key == "StatusId":
            ids = _status_ids(ctx.db, value, params.get("CategoryId"))
            where.append(f"status_id IN ({','.join('?' * len(ids))})")
            args += ids
        elif key == "StatusGroup":
            group = STATUS_GROUPS.get(value.strip().casefold())
            if group is None:
                raise bad_request(f"Invalid value '{value}' for the StatusGroup parameter.")
            where.append("status_id IN (SELECT id FROM statuses WHERE grp = ?)")
            args.append(group)
        elif key == "UserId":
            where.append("user_id = ?")
            args.append(_user_id(ctx.db, value))
        elif key == "UpdatedSince":
            # Cards changed after this moment (MiniCRM's local time), as Contact has it.
            where.append("updated_at > ?")
            args.append(parse_since(value))
        else:
            field_filters.append((key, value))
    where.append("deleted = ?")
    args.append(1 if deleted == "1" else 0)
    rows = ctx.db.execute(
        f"SELECT * FROM projects WHERE {' AND '.join(where)} ORDER BY id",  # noqa: S608
        args,
    ).fetchall()
    if field_filters:
        rows = _filter_by_fields(ctx.db, rows, field_filters)
    return {
        "Count": len(rows),
        "Results": {str(row["id"]): row_view(ctx, row) for row in page_slice(rows, page)},
    }


def _status_ids(db: sqlite3.Connection, value: str, category: str | None) -> list[int]:
    text = value.strip()
    if text.isdigit():
        return [int(text)]
    sql = "SELECT id FROM statuses WHERE name = ?"
    args: list[Any] = [text]
    if category and category.strip().isdigit():
        sql += " AND category_id = ?"
        args.append(category.strip())
    ids = [row[0] for row in db.execute(sql, args)]
    if not ids:
        raise bad_request(f"Invalid value '{value}' for the StatusId parameter.")
    return ids


def _user_id(db: sqlite3.Connection, value: str) -> int:
    text = value.strip()
    if text.isdigit():
        return int(text)
    row = db.execute("SELECT id FROM users WHERE name = ?", (text,)).fetchone()
    if row is None:
        raise bad_request(f"Invalid value '{value}' for the UserId parameter.")
    return int(row[0])


def _filter_by_fields(
    db: sqlite3.Connection, rows: list[sqlite3.Row], filters: list[tuple[str, str]]
) -> list[sqlite3.Row]:
    schemas: dict[int, dict[str, Field]] = {}
    categories = [row[0] for row in db.execute("SELECT id FROM categories")]
    known = {name for cat in categories for name in project_fields(db, cat)}
    for name, _ in filters:
        if name not in known:
            raise bad_request(f"Unknown parameter '{name}'.")
    kept = []
    for row in rows:
        schema = schemas.get(row["category_id"])
        if schema is None:
            schema = schemas[row["category_id"]] = project_fields(db, row["category_id"])
        data = loads(row["data"])
        if all(
            name in schema and schema[name].matches(data.get(name), value)
            for name, value in filters
        ):
            kept.append(row)
    return kept


def row_view(ctx: Ctx, row: sqlite3.Row) -> dict[str, Any]:
    data = loads(row["data"])
    return {
        "Id": row["id"],
        "Name": data.get("Name") or "",
        "Url": ctx.url(f"/Api/R3/Project/{row['id']}"),
        "ContactId": row["contact_id"],
        "StatusId": row["status_id"],
        "UserId": row["user_id"],
        "Deleted": row["deleted"],
        "BusinessId": row["business_id"],
    }


def detail(ctx: Ctx, project_id: int) -> dict[str, Any]:
    row = load_or_404(ctx.db, project_id)
    data = loads(row["data"])
    fields = project_fields(ctx.db, row["category_id"])
    view: dict[str, Any] = {
        "Id": row["id"],
        "CategoryId": row["category_id"],
        "ContactId": row["contact_id"],
        "StatusId": fields["StatusId"].render(row["status_id"]),
        "UserId": fields["UserId"].render(row["user_id"]),
        "Name": data.get("Name") or "",
        "StatusUpdatedAt": data.get("StatusUpdatedAt") or "",
        "Deleted": row["deleted"],
        "CreatedAt": data.get("CreatedAt") or "",
        "UpdatedAt": data.get("UpdatedAt") or "",
        "ReferenceId": row["reference_id"],
        "ProjectHash": project_hash(row["id"]),
        "ProjectEmail": f"{project_hash(row['id'])[:12]}@sandbox.minicrm.invalid",
    }
    for field in custom_fields(ctx.db, "Project", row["category_id"]):
        view[field.name] = field.render(data.get(field.name))
    view["BusinessId"] = row["business_id"]
    return view


def project_hash(project_id: int) -> str:
    return hashlib.sha256(f"sandbox-project-{project_id}".encode()).hexdigest()[:32]


def save(
    ctx: Ctx, project_id: int | None, body: Any, *, user_id: int | None = None
) -> dict[str, Any]:
    body = require_object(body)
    existing = load_or_404(ctx.db, project_id) if project_id is not None else None
    category_id = _category(ctx.db, body, existing)
    fields = project_fields(ctx.db, category_id)
    changes: dict[str, Any] = {}
    for name, value in body.items():
        field = fields.get(name)
        if field is None:
            raise bad_request(f"Unknown field '{name}'.")
        if field.writable and name != "CategoryId":
            changes[name] = coerce_or_400(field, value)
    if "ContactId" in changes:
        changes["BusinessId"] = _business_of(ctx.db, changes["ContactId"])
    if "Deleted" in changes and changes["Deleted"] not in (0, 1, None):
        raise bad_request(f"Invalid value '{changes['Deleted']}' for the Deleted field.")
    before = loads(existing["data"]) if existing else {}
    if existing is None:
        changes = _defaults(ctx.db, category_id, changes)
    for name, field in fields.items():
        required = field.required or name == "Name"
        if required and (existing is None or name in changes) and changes.get(name) in (None, ""):
            raise bad_request(f"The {field.label} field is required.")
    now = now_text()
    after = {**before, **changes}
    changed = [name for name, value in changes.items() if before.get(name) != value]
    if existing is None:
        project_id = next_id(ctx.db, "projects")
        after.update(CreatedAt=now, CategoryId=category_id)
    assert project_id is not None
    if not changed and existing is not None:
        return {"Id": project_id}
    status_changed = "StatusId" in changed
    if status_changed:
        after["StatusUpdatedAt"] = now
        ctx.db.execute(
            "INSERT INTO history (id, project_id, user_id, closed_at, old_status, new_status)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                next_id(ctx.db, "history"),
                project_id,
                user_id or after.get("UserId") or 0,
                now,
                before.get("StatusId"),
                after["StatusId"],
            ),
        )
    after["UpdatedAt"] = now
    write(ctx.db, project_id, after)
    webhooks.record_change(
        ctx.db,
        entity="Project",
        object_id=project_id,
        category_id=category_id,
        data=webhook_data(ctx, project_id, fields, after),
        changed=[*changed, "UpdatedAt"] if existing else sorted(after),
    )
    return {"Id": project_id}


def _category(db: sqlite3.Connection, body: dict[str, Any], existing: sqlite3.Row | None) -> int:
    raw = body.get("CategoryId")
    if existing is not None:
        if raw not in (None, "") and str(raw).strip() != str(existing["category_id"]):
            raise bad_request("The CategoryId of an existing card cannot be changed.")
        return int(existing["category_id"])
    if raw in (None, ""):
        raise bad_request("The CategoryId field is required.")
    text = str(raw).strip()
    if (
        not text.isdigit()
        or db.execute("SELECT 1 FROM categories WHERE id = ?", (int(text),)).fetchone() is None
    ):
        raise bad_request(f"Invalid value '{raw}' for the CategoryId field.")
    return int(text)


def _business_of(db: sqlite3.Connection, contact_id: int | None) -> int:
    if not contact_id:
        return 0
    row = db.execute(
        "SELECT type, business_id FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    if row is None:
        raise bad_request(f"Invalid value '{contact_id}' for the ContactId field.")
    return contact_id if row["type"] == "Business" else int(row["business_id"] or 0)


def _defaults(db: sqlite3.Connection, category_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    if changes.get("StatusId") is None:
        first = db.execute(
            "SELECT id FROM statuses WHERE category_id = ? ORDER BY position LIMIT 1",
            (category_id,),
        ).fetchone()
        changes["StatusId"] = first[0] if first else 0
    if changes.get("UserId") is None:
        first = db.execute("SELECT MIN(id) FROM users").fetchone()
        changes["UserId"] = first[0] or 0
    changes.setdefault("ContactId", 0)
    changes.setdefault("BusinessId", _business_of(db, changes["ContactId"]))
    changes.setdefault("Deleted", 0)
    changes.setdefault("ReferenceId", "")
    return changes


def write(db: sqlite3.Connection, project_id: int, data: dict[str, Any]) -> None:
    """Store a card with the columns its searches use."""
    db.execute(
        "INSERT OR REPLACE INTO projects (id, category_id, contact_id, business_id, status_id,"
        " user_id, reference_id, deleted, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            project_id,
            data["CategoryId"],
            data.get("ContactId") or 0,
            data.get("BusinessId") or 0,
            data.get("StatusId") or 0,
            data.get("UserId") or 0,
            data.get("ReferenceId") or "",
            data.get("Deleted") or 0,
            data.get("UpdatedAt") or now_text(),
            dumps(data),
        ),
    )


def webhook_data(
    ctx: Ctx, project_id: int, fields: dict[str, Field], data: dict[str, Any]
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "CategoryId": str(data["CategoryId"]),
        "ContactId": str(data.get("ContactId") or 0),
        "MainContactId": str(data.get("BusinessId") or data.get("ContactId") or 0),
    }
    for name, field in fields.items():
        if name in data and name not in message and name != "Id":
            message[name] = field.render_webhook(data[name])
    message["InternalUrl"] = ctx.url(f"/{ctx.system_id}/#Project-{data['CategoryId']}/{project_id}")
    return message


def history(ctx: Ctx, project_id: int, params: dict[str, str]) -> dict[str, Any]:
    load_or_404(ctx.db, project_id)
    kind = params.get("Type", "StatusHistory")
    if kind != "StatusHistory":
        raise bad_request(f"Invalid value '{kind}' for the Type parameter.")
    page = page_number(params)
    rows = ctx.db.execute(
        "SELECT h.*, o.name AS old_name, n.name AS new_name FROM history h"
        " LEFT JOIN statuses o ON o.id = h.old_status LEFT JOIN statuses n ON n.id = h.new_status"
        " WHERE h.project_id = ? ORDER BY h.id",
        (project_id,),
    ).fetchall()
    return {
        "Count": str(len(rows)),
        "Results": {
            str(row["id"]): {
                "Id": str(row["id"]),
                "ProjectId": str(row["project_id"]),
                "Type": "StatusHistory",
                "UserId": str(row["user_id"]),
                "ClosedAt": row["closed_at"],
                "Status_Old_Id": str(row["old_status"]) if row["old_status"] else "",
                "Status_New_Id": str(row["new_status"]),
                "Status_Old_Name": row["old_name"] or "",
                "Status_New_Name": row["new_name"] or "",
            }
            for row in page_slice(rows, page)
        },
    }
