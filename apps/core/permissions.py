"""Who may do what. Everyone with an account browses and edits MiniCRM's data; administrators
(Django's "staff status") also manage webhook handlers, the console's settings and users."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

View = Callable[..., HttpResponseBase]


def is_console_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_staff", False))


def admin_only(view: View) -> View:
    """Only console administrators; a logged-in user who is not one gets 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_console_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
