"""Seed data for the sandbox: `doc` (the API document's records), `demo` (a realistic system)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from apps.sandbox.resources import contacts, projects
from apps.sandbox.store import Store, dumps


class Seeder:
    """Writes seed records straight into the tables, keeping the columns searches rely on."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def users(self, users: dict[int, str]) -> None:
        self.db.executemany("INSERT INTO users (id, name) VALUES (?, ?)", users.items())

    def todo_types(self, types: dict[int, str]) -> None:
        self.db.executemany("INSERT INTO todo_types (id, name) VALUES (?, ?)", types.items())

    def category(
        self,
        category_id: int,
        name: str,
        *,
        order: int,
        statuses: list[tuple[int, str, str]],
        kind: str = "Generic",
        is_order: bool = False,
    ) -> None:
        self.db.execute(
            "INSERT INTO categories (id, order_id, name, type, is_order) VALUES (?, ?, ?, ?, ?)",
            (category_id, order, name, kind, int(is_order)),
        )
        self.db.executemany(
            "INSERT INTO statuses (id, category_id, name, grp, position) VALUES (?, ?, ?, ?, ?)",
            [
                (sid, category_id, sname, group, pos)
                for pos, (sid, sname, group) in enumerate(statuses)
            ],
        )

    def field(
        self,
        entity: str,
        name: str,
        kind: str,
        *,
        label: str | None = None,
        category_id: int = 0,
        options: dict[int, str] | None = None,
        multi: bool = False,
        required: bool = False,
    ) -> None:
        position = self.db.execute(
            "SELECT COUNT(*) FROM fields WHERE entity = ? AND category_id = ?",
            (entity, category_id),
        ).fetchone()[0]
        self.db.execute(
            "INSERT INTO fields (entity, category_id, name, label, type, options, multi, required,"
            " position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entity,
                category_id,
                name,
                label or name,
                kind,
                dumps({str(k): v for k, v in options.items()}) if options else None,
                int(multi),
                int(required),
                position,
            ),
        )

    def contact(self, contact_id: int, contact_type: str, **data: Any) -> None:
        data.setdefault("YearlyRevenue", 0)
        data.setdefault("Tags", [])
        data.setdefault("CreatedAt", data.get("UpdatedAt", "2018-02-14 14:10:07"))
        data.setdefault("UpdatedAt", data["CreatedAt"])
        contacts.write(self.db, contact_id, contact_type, data)

    def project(self, project_id: int, category_id: int, **data: Any) -> None:
        data["CategoryId"] = category_id
        contact_id = data.get("ContactId") or 0
        if "BusinessId" not in data:
            row = self.db.execute(
                "SELECT type, business_id FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
            data["BusinessId"] = (
                0
                if row is None
                else contact_id
                if row["type"] == "Business"
                else row["business_id"] or 0
            )
        data.setdefault("Deleted", 0)
        data.setdefault("ReferenceId", "")
        data.setdefault("CreatedAt", "2018-02-14 14:12:31")
        data.setdefault("UpdatedAt", data["CreatedAt"])
        data.setdefault("StatusUpdatedAt", data["CreatedAt"])
        projects.write(self.db, project_id, data)

    def next_ids(self, **counters: int) -> None:
        """Start the id counters of tables where the API document's examples expect them."""
        for table, value in counters.items():
            self.db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (f"next_id:{table}", str(value)),
            )

    def history(
        self, history_id: int, project_id: int, user_id: int, at: str, old: int | None, new: int
    ) -> None:
        self.db.execute(
            "INSERT INTO history (id, project_id, user_id, closed_at, old_status, new_status)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (history_id, project_id, user_id, at, old, new),
        )

    def todo(self, todo_id: int, project_id: int, status: str, **data: Any) -> None:
        self.db.execute(
            "INSERT INTO todos (id, project_id, status, data) VALUES (?, ?, ?, ?)",
            (todo_id, project_id, status, dumps(data)),
        )

    def order(
        self,
        order_id: int,
        project_id: int,
        customer_id: int,
        status: str,
        items: list[tuple[int, dict[str, Any]]],
        **data: Any,
    ) -> None:
        self.db.execute(
            "INSERT INTO orders (id, project_id, customer_id, status, data) VALUES (?, ?, ?, ?, ?)",
            (order_id, project_id, customer_id, status, dumps(data)),
        )
        self.db.executemany(
            "INSERT INTO order_items (id, order_id, data) VALUES (?, ?, ?)",
            [(item_id, order_id, dumps(values)) for item_id, values in items],
        )


def load_seed(store: Store, name: str) -> None:
    """Fill an empty store with the named seed, in one transaction."""
    from apps.sandbox.seeds import demo, doc

    seeds: dict[str, Callable[[Seeder], None]] = {
        "doc": doc.seed,
        "demo": demo.seed,
        "empty": lambda seeder: None,
    }
    with store.transaction() as db:
        seeds[name](Seeder(db))
        store.set_meta(db, "seed", name)
