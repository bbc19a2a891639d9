"""Fixtures of the mirror tests: the view-test fixtures (tests/viewsupport.py), and the write
queue's rig (a private sandbox and Redis, and real Celery workers sharing the test database)
for the sync run in workers."""

from tests.viewsupport import admin_account, demo, doc, hungarian, staff_user, user_client
from tests.writes.conftest import queue_rig, rig_sandbox_options, sandbox_records

__all__ = [
    "admin_account",
    "demo",
    "doc",
    "hungarian",
    "queue_rig",
    "rig_sandbox_options",
    "sandbox_records",
    "staff_user",
    "user_client",
]
