"""The dashboard's view-test fixtures (tests/viewsupport.py)."""

from tests.viewsupport import admin_account, demo, doc, hungarian, staff_user, user_client

__all__ = ["admin_account", "demo", "doc", "hungarian", "staff_user", "user_client"]
