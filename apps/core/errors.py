"""Error pages in the console's own frame, and the names of the failures they tell about."""

from __future__ import annotations

import redis
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from minicrm import (
    ConnectionFailed,
    MiniCRMError,
    NotFound,
    RateLimited,
    RequestTimeout,
    Unauthorized,
)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"up": list_above(request.path)}, status=404)


def list_above(path: str) -> str:
    """The nearest page above an address that exists (/webhooks/events/ above
    /webhooks/events/999/), "" when only the dashboard is: where a missing object's page
    sends people back to."""
    parts = [part for part in path.split("/") if part]
    for end in range(len(parts) - 1, 0, -1):
        candidate = "/" + "/".join(parts[:end]) + "/"
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return ""


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors: whatever failed must not fail again here.
    return HttpResponse(render_to_string("500.html"), status=500)


def failure_of(exception: MiniCRMError | redis.RedisError) -> tuple[int, str]:
    """The status a page answers with and the kind of failure its message names."""
    if isinstance(exception, redis.RedisError):
        return 503, "redis"
    if isinstance(exception, NotFound):
        return 404, "not_found"
    if isinstance(exception, RateLimited):
        return 503, "busy"
    if isinstance(exception, Unauthorized):
        return 502, "unauthorized"
    if isinstance(exception, RequestTimeout):
        return 503, "slow"
    if isinstance(exception, ConnectionFailed):
        return 503, "unreachable"
    return 502, "error"
