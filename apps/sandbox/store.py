"""The sandbox's own SQLite storage: tables, id allocation and the reads and writes of records.

Records keep their fields as a JSON document in canonical form (dropdowns as ids, multi-selects
as lists of ids, dates as strings); `apps.sandbox.fields` turns them into the API's shapes.
One connection, guarded by a lock, serves every request thread: the sandbox is a test double,
and serialised writes make "validated whole before anything is written" easy to keep.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS categories (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'Generic', is_order INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS statuses (
    id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL, name TEXT NOT NULL,
    grp TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fields (
    entity TEXT NOT NULL,            -- Person, Business or Project
    category_id INTEGER NOT NULL,    -- 0 for contacts
    name TEXT NOT NULL, label TEXT NOT NULL, type TEXT NOT NULL,
    options TEXT,                    -- JSON {id: label} for dropdowns and multi-selects
    multi INTEGER NOT NULL DEFAULT 0, required INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL,
    PRIMARY KEY (entity, category_id, name)
);
CREATE TABLE IF NOT EXISTS todo_types (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY, type TEXT NOT NULL, business_id INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    words TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_business ON contacts (business_id);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts (email);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
    business_id INTEGER NOT NULL, status_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    reference_id TEXT NOT NULL DEFAULT '', deleted INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_category ON projects (category_id, status_id);
CREATE INDEX IF NOT EXISTS projects_business ON projects (business_id);
CREATE INDEX IF NOT EXISTS projects_contact ON projects (contact_id);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    closed_at TEXT NOT NULL, old_status INTEGER, new_status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_project ON history (project_id);
CREATE TABLE IF NOT EXISTS todos (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS todos_project ON todos (project_id);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, customer_id INTEGER NOT NULL,
    status TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS order_items_order ON order_items (order_id);
CREATE TABLE IF NOT EXISTS webhooks (
    -- ids are never reused: pending retries name their subscription
    id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, category_id INTEGER,
    fields TEXT NOT NULL, api_url TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY, webhook_id INTEGER NOT NULL, message TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, first_at REAL NOT NULL, next_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', log TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
"""


class Store:
    """A thread-safe wrapper around the sandbox's SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction, rolled back on any error."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.db

    # -- helpers used by the API and the seeds ------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        with self.reading() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def is_seeded(self) -> bool:
        return bool(self.get_meta("seed"))


def next_id(db: sqlite3.Connection, table: str) -> int:
    """The next free id of a table.

    One past the largest by default; a seed may set a counter (`next_id:<table>`) so that
    replaying the API document gives the ids it shows (contact 7520, to-do 255).
    """
    key = f"next_id:{table}"
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        top = db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()  # noqa: S608
        return int(top[0])
    candidate = int(row["value"])
    while db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (candidate,)).fetchone():  # noqa: S608
        candidate += 1
    db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(candidate + 1), key))
    return candidate


def loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
