"""The test database as a DATABASE_URL, for the processes a test starts (Celery workers).

A worker reads its database from DATABASE_URL like any deployment. During a test run the
console's connection points at pytest-django's test database (a file on SQLite, a
`test_<name>[_gwN]` database on PostgreSQL), and the worker must use that same one.
"""

from __future__ import annotations

from urllib.parse import quote

from django.db import connection


def worker_database_url() -> str:
    """DATABASE_URL for the database this test process uses right now."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        user = quote(str(db.get("USER") or ""), safe="")
        password = quote(str(db.get("PASSWORD") or ""), safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = str(db.get("HOST") or "localhost")
        if host.startswith("/"):  # a unix socket's folder
            host = quote(host, safe="")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(str(db['NAME']), safe='')}"
    raise NotImplementedError(f"no DATABASE_URL for a {connection.vendor} test database")
