"""The mirror's view-test fixtures (tests/viewsupport.py)."""

from tests.viewsupport import admin_account, doc, staff_user, user_client

__all__ = ["admin_account", "doc", "staff_user", "user_client"]
