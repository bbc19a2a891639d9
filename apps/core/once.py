"""One-time keys of create forms: the same form sent twice makes one change, not two.

A create form carries a key made when it is rendered (a hidden field). Browser Back to a
filled form and Save again, or a double click, sends the same key; the write queue keeps the
key with the write it made and answers that write again (apps/writes/services.py).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms

ONCE_FIELD = "once"
KEY = re.compile(r"[0-9a-f]{32}")


def new_key() -> str:
    return uuid.uuid4().hex


def once_field() -> forms.CharField:
    """The hidden field that carries a form's key (a new one each time the form is rendered)."""
    return forms.CharField(required=False, widget=forms.HiddenInput, initial=new_key)


def once_key(data: Any, user: Any) -> str | None:
    """The submitted form's key, scoped to the user; None when missing or not one we made
    (a forged or garbled key makes the form count as new, never an error)."""
    value = data.get(ONCE_FIELD, "") if hasattr(data, "get") else ""
    user_id = getattr(user, "pk", None)
    if not isinstance(value, str) or not KEY.fullmatch(value) or user_id is None:
        return None
    return f"{user_id}:{value}"
