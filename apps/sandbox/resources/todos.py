"""To-dos: the list of a card, detail, create (PUT with ProjectId), update and close."""

from __future__ import annotations

import sqlite3
from typing import Any

from apps.sandbox.errors import bad_request, not_found
from apps.sandbox.fields import Field
from apps.sandbox.resources import projects
from apps.sandbox.resources.common import (
    Ctx,
    coerce_or_400,
    now_text,
    page_number,
    page_slice,
    require_object,
)
from apps.sandbox.store import dumps, loads, next_id

STATUSES = {"open": "Open", "closed": "Closed"}
NEVER = "0000-00-00 00:00:00"
FIXED_ON_UPDATE = ("ProjectId", "Members", "Notes")
SIMPLE_FIELDS = {
    "Comment": Field("Comment", "Comment", "Text(65535)"),
    "Deadline": Field("Deadline", "Deadline", "DateTime"),
    "Duration": Field("Duration", "Duration", "Int"),
    "Reminder": Field("Reminder", "Reminder", "Int"),
    "ContactId": Field("ContactId", "ContactId", "Int"),
    "AddressId": Field("AddressId", "AddressId", "Int"),
    "ClosedAt": Field("ClosedAt", "ClosedAt", "DateTime"),
}


def _users(db: sqlite3.Connection) -> Field:
    users = {row["id"]: row["name"] for row in db.execute("SELECT id, name FROM users")}
    return Field("UserId", "UserId", "Select", users)


def _types(db: sqlite3.Connection) -> Field:
    types = {row["id"]: row["name"] for row in db.execute("SELECT id, name FROM todo_types")}
    return Field("Type", "Type", "Select", types)


def todo_list(ctx: Ctx, project_id: int, params: dict[str, str]) -> dict[str, Any]:
    projects.load_or_404(ctx.db, project_id)
    wanted = params.get("Status", "Open").strip().casefold()
    if wanted not in ("open", "closed", "all"):
        raise bad_request(f"Invalid value '{params['Status']}' for the Status parameter.")
    sql = "SELECT * FROM todos WHERE project_id = ?"
    args: list[Any] = [project_id]
    if wanted != "all":
        sql += " AND status = ?"
        args.append(STATUSES[wanted])
    rows = ctx.db.execute(sql + " ORDER BY id", args).fetchall()
    results = []
    for row in page_slice(rows, page_number(params)):
        data = loads(row["data"])
        results.append(
            {
                "Id": str(row["id"]),
                "Status": row["status"],
                "Comment": data.get("Comment") or "",
                "Deadline": data.get("Deadline") or "",
                "UserId": str(data.get("UserId") or 0),
                "Type": str(data.get("Type") or 0),
                "Url": ctx.url(f"/Api/R3/ToDo/{row['id']}"),
            }
        )
    return {"Count": len(rows), "Results": results}


def _load(db: sqlite3.Connection, todo_id: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM todos WHERE id = ?", (todo_id,)).fetchone()
    if row is None:
        raise not_found(f"ToDo {todo_id} not found.")
    return row


def detail(ctx: Ctx, todo_id: int) -> dict[str, Any]:
    row = _load(ctx.db, todo_id)
    data = loads(row["data"])
    users, types = _users(ctx.db), _types(ctx.db)
    return {
        "Id": row["id"],
        "UserId": users.render(data.get("UserId")),
        "ContactId": data.get("ContactId") or 0,
        "ProjectId": row["project_id"],
        "Type": types.render(data.get("Type")) if data.get("Type") else "",
        "Duration": data.get("Duration") or 0,
        "Reminder": data.get("Reminder") or 0,
        "Status": row["status"],
        "Mode": data.get("Mode") or "Teendő",
        "Deadline": data.get("Deadline") or "",
        "Comment": data.get("Comment") or "",
        "Attachments": data.get("Attachments") or [],
        "CreatedAt": data.get("CreatedAt") or "",
        "ClosedBy": users.render(data.get("ClosedBy")),
        "ClosedAt": data.get("ClosedAt") or NEVER,
        "AddressId": data.get("AddressId") or 0,
        "Members": data.get("Members") or [],
        "Notes": data.get("Notes") or [],
    }


def save(ctx: Ctx, todo_id: int | None, body: Any) -> dict[str, Any]:
    body = require_object(body)
    existing = _load(ctx.db, todo_id) if todo_id is not None else None
    if existing is not None:
        if existing["status"] != "Open":
            raise bad_request("A closed to-do cannot be modified.")
        for name in FIXED_ON_UPDATE:
            if name in body:
                raise bad_request(f"The {name} field of an existing to-do cannot be changed.")
    changes = _coerce(ctx.db, body)
    data = loads(existing["data"]) if existing else {}
    if existing is None:
        project_id = changes.pop("ProjectId", None)
        if not project_id:
            raise bad_request("The ProjectId field is required.")
        project = projects.load(ctx.db, project_id)
        if project is None:
            raise bad_request(f"Invalid value '{project_id}' for the ProjectId field.")
        data = {
            "UserId": project["user_id"],
            "Type": 0,
            "CreatedAt": now_text(),
            "Mode": "Teendő",
            "ContactId": project["contact_id"],
        }
        todo_id = next_id(ctx.db, "todos")
    else:
        project_id = existing["project_id"]
    assert todo_id is not None
    status = changes.pop("Status", existing["status"] if existing else "Open")
    data.update(changes)
    if status == "Closed":
        data.setdefault("ClosedAt", None)
        data["ClosedAt"] = data["ClosedAt"] or now_text()
        data["ClosedBy"] = data.get("UserId")
    ctx.db.execute(
        "INSERT OR REPLACE INTO todos (id, project_id, status, data) VALUES (?, ?, ?, ?)",
        (todo_id, project_id, status, dumps(data)),
    )
    return {"Id": todo_id}


def _coerce(db: sqlite3.Connection, body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name in SIMPLE_FIELDS:
            changes[name] = coerce_or_400(SIMPLE_FIELDS[name], value)
        elif name == "UserId":
            changes[name] = coerce_or_400(_users(db), value)
        elif name == "Type":
            changes[name] = 0 if value in (0, "0", "", None) else coerce_or_400(_types(db), value)
        elif name == "ProjectId":
            changes[name] = coerce_or_400(Field("ProjectId", "ProjectId", "Int"), value)
        elif name == "Status":
            status = STATUSES.get(str(value).strip().casefold())
            if status is None:
                raise bad_request(f"Invalid value '{value}' for the Status field.")
            changes[name] = status
        elif name in ("Members", "Notes"):
            if not isinstance(value, list):
                raise bad_request(f"Invalid value for the {name} field: a list is expected.")
            changes[name] = value
        else:
            raise bad_request(f"Unknown field '{name}'.")
    return changes
