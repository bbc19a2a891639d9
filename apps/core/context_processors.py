"""What every page of the console shows: the modules, the budget gauge, pending writes, and
Undo for the person's last one-click change."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.core.selectors import console_status, module_list
from apps.writes.feedback import undo_offer


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: read when a template shows them (the full pages), not for every HTMX partial.
    return {
        "nav": SimpleLazyObject(module_list),
        "console_status": SimpleLazyObject(lambda: console_status(user=user)),
        "undo": SimpleLazyObject(lambda: undo_offer(request)),
    }
