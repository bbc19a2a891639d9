"""What every page of the console shows: the modules, the budget gauge, pending writes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.core.selectors import console_status, module_list


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    listed = module_list()
    return {
        "modules": listed.modules,
        "modules_problem": listed.problem,
        "console_status": console_status(user=user),
    }
