"""Webhook subscriptions and deliveries: matching changes, and a thread that POSTs them.

A change to a card or a contact becomes one delivery row per matching subscription, written in
the same transaction as the change. The dispatcher thread sends due deliveries; anything but
HTTP 200 is retried on MiniCRM's schedule (10 s, 1 min, 5 min, 15 min, 30 min, 1 h after the
first attempt), scaled by the time-scale factor, then dropped.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from apps.sandbox.store import Store, dumps

log = logging.getLogger(__name__)

RETRY_OFFSETS = (10, 60, 300, 900, 1800, 3600)


def record_change(
    db: sqlite3.Connection,
    *,
    entity: str,
    object_id: int,
    category_id: int | None,
    data: dict[str, Any],
    changed: list[str],
) -> int:
    """Queue a message for every subscription that matches this change; return how many."""
    if not changed:
        return 0
    message = {"Id": str(object_id), "Type": entity, "Data": data, "Changed": changed}
    now = time.time()
    queued = 0
    for hook in db.execute("SELECT * FROM webhooks WHERE type = ?", (entity,)).fetchall():
        if entity == "Project" and hook["category_id"] and hook["category_id"] != category_id:
            continue
        watched = json.loads(hook["fields"])
        if watched and not set(watched) & set(changed):
            continue
        db.execute(
            "INSERT INTO deliveries (webhook_id, message, first_at, next_at) VALUES (?, ?, ?, ?)",
            (hook["id"], dumps(message), now, now),
        )
        queued += 1
    return queued


def split_credentials(api_url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without its user:password, and the credentials for HTTP Basic auth."""
    parts = urlsplit(api_url)
    if parts.username is None:
        return api_url, None
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


class Dispatcher:
    """Sends due deliveries in a background thread until stopped."""

    def __init__(self, store: Store, time_scale: float = 1.0, timeout: float = 10.0) -> None:
        self.store = store
        self.time_scale = time_scale
        self.timeout = timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self._session = requests.Session()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def notify(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._send_due()
            except Exception:  # keep the thread alive whatever one delivery does
                log.exception("webhook dispatcher failed")
                wait = 1.0
            self._wake.wait(timeout=wait)
            self._wake.clear()

    def _send_due(self) -> float:
        """Send every due delivery; return how long to sleep before the next one is due."""
        now = time.time()
        with self.store.reading() as db:
            due = db.execute(
                "SELECT d.*, w.api_url FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id"
                " WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at LIMIT 50",
                (now,),
            ).fetchall()
        for row in due:
            self._attempt(row)
        with self.store.reading() as db:
            upcoming = db.execute(
                "SELECT MIN(next_at) FROM deliveries WHERE state = 'pending'"
            ).fetchone()[0]
        if upcoming is None:
            return 5.0
        return max(0.01, min(5.0, upcoming - time.time()))

    def _attempt(self, row: sqlite3.Row) -> None:
        url, auth = split_credentials(row["api_url"])
        started = time.time()
        try:
            answer = self._session.post(
                url,
                data=json.dumps(json.loads(row["message"])),
                headers={"Content-Type": "application/json"},
                auth=auth,
                timeout=self.timeout,
            )
            code: int | None = answer.status_code
            error = ""
        except requests.RequestException as exc:
            code, error = None, type(exc).__name__
        attempts = row["attempts"] + 1
        entry = {"attempt": attempts, "at": started, "status": code, "error": error}
        log_entries = [*json.loads(row["log"]), entry]
        if code == 200:
            state, next_at = "delivered", row["next_at"]
        elif attempts > len(RETRY_OFFSETS):
            state, next_at = "dropped", row["next_at"]
        else:
            state = "pending"
            next_at = row["first_at"] + RETRY_OFFSETS[attempts - 1] * self.time_scale
        with self.store.transaction() as db:
            db.execute(
                "UPDATE deliveries SET attempts = ?, state = ?, next_at = ?, log = ? WHERE id = ?",
                (attempts, state, next_at, dumps(log_entries), row["id"]),
            )


def delivery_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "Id": row["id"],
        "WebhookId": row["webhook_id"],
        "Message": json.loads(row["message"]),
        "Attempts": row["attempts"],
        "State": row["state"],
        "Log": json.loads(row["log"]),
    }


def webhook_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "Id": row["id"],
        "Type": row["type"],
        "CategoryId": row["category_id"],
        "Fields": json.loads(row["fields"]),
        "ApiUrl": row["api_url"],
    }
