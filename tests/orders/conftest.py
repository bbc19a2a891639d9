"""The dashboard's view-test fixtures (tests/viewsupport.py)."""

from tests.viewsupport import demo, doc, hungarian, staff_user, user_client

__all__ = ["demo", "doc", "hungarian", "staff_user", "user_client"]
