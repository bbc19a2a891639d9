"""Middleware of the console shell: the user's time zone, and MiniCRM's errors and missing
objects as the console's own pages."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.core.errors import failure_of, not_found
from minicrm import (
    MiniCRMError,
)

log = logging.getLogger(__name__)
TIMEZONE_SESSION_KEY = "console_timezone"


class UserTimezoneMiddleware:
    """Show times in the zone the user chose (Europe/Budapest unless they chose another)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.session.get(TIMEZONE_SESSION_KEY) or settings.TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class MiniCRMErrorMiddleware:
    """A MiniCRM error a view did not handle becomes a page people can read, never a 500.

    Not found is a normal 404 page; a spent budget or an unreachable MiniCRM is a 503 that
    says when to try again (Retry-After); MiniCRM's own error or a refused API key is a 502.
    HTMX requests get the message alone, for the element they were swapping.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, MiniCRMError | redis.RedisError):
            return None
        status, kind = failure_of(exception)
        log.warning("MiniCRM error on %s: %s", request.path, exception)
        retry_after = round(getattr(exception, "retry_after", 0) or 0) or 5
        context = {"kind": kind, "error": exception, "retry_after": retry_after}
        template = (
            "core/_minicrm_error.html"
            if getattr(request, "htmx", False)
            else ("core/minicrm_error.html")
        )
        response = render(request, template, context, status=status)
        if kind in ("busy", "slow", "unreachable", "redis"):
            response["Retry-After"] = str(retry_after)
        return response


class NotFoundMiddleware:
    """A missing object a view gave up on (Http404, or a DoesNotExist it did not catch) is the
    console's own 404 page: never Django's technical page under DEBUG, never a 500.

    Addresses that match no URL at all are left to Django (and to `handler404`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404 | ObjectDoesNotExist):
            return not_found(request, exception)
        return None
